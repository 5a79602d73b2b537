"""Checks that the demo apps call only API that exists in the bindings.

The demos' UI code (SwiftUI, Compose) cannot be compiled here, so this reads it: for every value
whose type is a binding type (`SegmentAnything`, `Segmentation`, `SegmentMask`, ...), known from its
declaration (`let s: Segmentation`, `val model: Deferred<SegmentAnything>`, `x = Type.fromFiles(..)`)
in the same file, each `value.member` must be a member of that type, and each `Type.member` a
static member, in the generated bindings or the hand-written conveniences. Members of types the
bindings do not declare (the demo's own, the platform's) are not its business. The demos' UI-free
code is also compiled against the bindings by the Swift and Kotlin suites.

Usage: check_demo_api.py [KOTLIN_DEMO_DIR SWIFT_DEMO_DIR]
  Exits 1 and names each unknown member. The folders default to the demos' sources; other ones
  let `cargo xtask check-phones` show that a demo calling a missing method fails the check.
"""
from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

KOTLIN_API = [REPO / "bindings/kotlin/src/main/kotlin/dev/edgesam",
              REPO / "android/edgesam/src/main/kotlin/dev/edgesam/android"]
SWIFT_API = [REPO / "bindings/swift/Sources/EdgeSAM"]
KOTLIN_DEMO = REPO / "android/demo/src/main/kotlin"
SWIFT_DEMO = REPO / "ios-demo/EdgeSAMDemo"

# What every Kotlin binding object has besides its declared members (AutoCloseable, Any).
KOTLIN_OBJECT_MEMBERS = {"close", "use", "equals", "hashCode", "toString", "copy"}

IDENT = r"`?([A-Za-z_]\w*)`?"


def declarations(path: Path, header: re.Pattern[str]):
    """Yields (type, kind, depth, line) for each line inside a type's declaration, by brace depth
    (the generated files do not indent consistently). `header` matches a type's first line at
    depth 0, with groups kind and name."""
    current, kind, depth = None, None, 0
    for line in path.read_text().splitlines():
        code = re.sub(r"//.*|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])'", "", line)
        if depth == 0 and (m := header.match(code)):
            kind, current = m.group(1), m.group(2)
        elif current:
            yield current, kind, depth, code
        depth += code.count("{") - code.count("}")
        if depth == 0 and "}" in code:
            current = None


def kotlin_api(files: list[Path]) -> dict[str, set[str]]:
    """Type name -> member names, from the generated file (classes, their `FooInterface`
    interfaces, companion factories, record fields, enum entries, exception cases) and the
    conveniences' extension functions and properties."""
    members: dict[str, set[str]] = defaultdict(set)
    header = re.compile(r"^(?:(?:public|open|data|enum|sealed|abstract|internal|value)\s+)*"
                        r"(class|interface|object)\s+" + IDENT)
    function = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s*)*(?:\w+\s+)*fun\s+" + IDENT)
    field = re.compile(r"^\s*(?:\w+\s+)*(?:val|var)\s+" + IDENT)
    entry = re.compile(r"^\s*([A-Z][A-Z0-9_]*)\s*[,;]?\s*$")
    case = re.compile(r"^\s*(?:data |open )?class\s+" + IDENT)
    extension = re.compile(r"^(?:(?:suspend|inline)\s+)*(?:fun|val|var)\s+(?:<[^>]*>\s*)?"
                           r"([A-Z]\w*)(?:\.Companion)?\." + IDENT)
    for path in files:
        for line in path.read_text().splitlines():
            if m := extension.match(line):
                members[m.group(1)].add(m.group(2))
        for name, kind, depth, line in declarations(path, header):
            name = re.sub(r"Interface$", "", name)
            if re.search(r"\b(?:private|internal|protected)\b", line):
                continue
            if (m := function.match(line)) or (depth <= 1 and (m := field.match(line) or case.match(line))) \
                    or (kind == "class" and depth == 1 and (m := entry.match(line))):
                members[name].add(m.group(1))
    return members


def swift_api(files: list[Path]) -> dict[str, set[str]]:
    """Type name -> member names: the `public` declarations of the generated file's classes,
    structs and enums and of the conveniences' extensions, protocol requirements, enum cases."""
    members: dict[str, set[str]] = defaultdict(set)
    header = re.compile(r"^(?:(?:public|open|final)\s+)*(class|struct|enum|protocol|extension)\s+(\w+)")
    public = re.compile(r"^\s*(?:@\w+\s+)*(?:public|open)\s+(?:\w+\s+)*(?:func|var|let)\s+`?(\w+)`?")
    requirement = re.compile(r"^\s*(?:\w+\s+)*(?:func|var)\s+`?(\w+)`?")
    case = re.compile(r"^\s*case\s+`?(\w+)`?")
    init = re.compile(r"^\s*(?:public|open)\s+(?:\w+\s+)*init[?(]")
    for path in files:
        for name, kind, depth, line in declarations(path, header):
            name = re.sub(r"Protocol$", "", name)
            if m := (public.match(line) or (kind == "protocol" and requirement.match(line))
                     or (kind == "enum" and depth == 1 and case.match(line))):
                members[name].add(m.group(1))
            elif init.match(line):
                members[name].add("init")
    return members


def typed_names(text: str, types: set[str]) -> dict[str, tuple[str, bool]]:
    """Value name -> (binding type, whether it is wrapped in a Deferred / Task), from the
    declarations in one file."""
    names: dict[str, tuple[str, bool]] = {}
    type_alt = "|".join(sorted(types, key=len, reverse=True))
    # `name: Type`, `name: Type?`, `name: Deferred<Type>` / `Task<Type, Error>`.
    for m in re.finditer(rf"\b(\w+)\s*:\s*((?:Deferred|Task)<)?({type_alt})\b(?!\.)", text):
        names[m.group(1)] = (m.group(3), m.group(2) is not None)
    # `val name = Type.fromX(...)` or `let name = try Type(...)`, the call ending the line (not
    # `Type.fromX(...).use { ... }`, whose value is the lambda's).
    for m in re.finditer(rf"\b(?:val|var|let)\s+(\w+)\s*=\s*(?:try\s+(?:await\s+)?)?({type_alt})"
                         rf"(?:\.\w+)?\([^\n]*\)\s*$", text, re.MULTILINE):
        names[m.group(1)] = (m.group(2), False)
    return names


def display(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def check(demo: Path, suffix: str, api: dict[str, set[str]], extra: set[str]) -> list[str]:
    problems = []
    types = {t for t in api if t[0].isupper()}
    for path in sorted(demo.rglob(f"*{suffix}")):
        text = path.read_text()
        # Comments and string literals are not calls.
        code = re.sub(r"//[^\n]*|\"(?:\\.|[^\"\\\n])*\"", "", text)
        names = typed_names(code, types)
        uses: list[tuple[str, str, str]] = []
        for m in re.finditer(r"(?<![.\w])(\w+)(\.await\(\)|\.value)?[?!]?\.(\w+)", code):
            name, unwrapped, member = m.group(1), m.group(2) is not None, m.group(3)
            if name in types and not unwrapped:
                uses.append((name, member, f"{name}.{member}"))
            elif name in names and names[name][1] == unwrapped:
                uses.append((names[name][0], member, m.group(0)))
        for type_name, member, shown in uses:
            if member not in api[type_name] and member not in extra:
                line = text[: text.find(shown)].count("\n") + 1 if shown in text else "?"
                problems.append(f"{display(path)}:{line}: {shown}: {type_name} has no member '{member}'")
        print(f"check_demo_api: {display(path)}: {len(uses)} uses of binding types checked")
    return problems


def main(arguments: list[str]) -> int:
    kotlin_demo, swift_demo = map(Path, arguments) if arguments else (KOTLIN_DEMO, SWIFT_DEMO)
    kotlin = kotlin_api([p for d in KOTLIN_API for p in sorted(d.glob("*.kt"))])
    swift = swift_api(sorted(p for d in SWIFT_API for p in d.glob("*.swift")))
    for language, api, must in (("Kotlin", kotlin, ("SegmentAnything", "encodeImage")),
                                ("Swift", swift, ("SegmentAnything", "encodeImage"))):
        # A parser that found nothing would pass every demo: make sure it read the bindings.
        if must[1] not in api.get(must[0], set()):
            print(f"check_demo_api: could not read the {language} bindings ({must[0]}.{must[1]} not found)")
            return 1
    problems = check(kotlin_demo, ".kt", kotlin, KOTLIN_OBJECT_MEMBERS)
    problems += check(swift_demo, ".swift", swift, set())
    for problem in problems:
        print(problem)
    print(f"check_demo_api: {len(problems)} unknown members" if problems else "check_demo_api: every call exists")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
