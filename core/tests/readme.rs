//! The README's examples are the code the tests run: the Rust one is `core/examples/readme.rs`,
//! run here on the stand-in models; the Swift and Kotlin ones are tests of their suites.

mod common;

#[path = "../examples/readme.rs"]
mod readme;

use std::path::Path;

/// The README's examples that the test suites run: the code block's language (its first block
/// in the README) and the file holding the same lines between `// README example start` and
/// `// README example end`. The Python block is run straight from the README by
/// `tests/package/test_package.py`.
const EXAMPLES: [(&str, &str); 3] = [
    ("rust", "core/examples/readme.rs"),
    (
        "swift",
        "bindings/swift/Tests/EdgeSAMTests/ReadmeTests.swift",
    ),
    (
        "kotlin",
        "bindings/kotlin/src/test/kotlin/dev/edgesam/ReadmeTest.kt",
    ),
];

/// The lines between the markers, without the indentation of the start marker.
fn example_text(source: &str) -> String {
    let start_marker = "// README example start\n";
    let start = source.find(start_marker).expect("start marker");
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent = &source[line_start..start];
    let body = &source[start + start_marker.len()..];
    let end = body.find("// README example end").expect("end marker");
    body[..end]
        .lines()
        .map(|line| line.strip_prefix(indent).unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_owned()
}

/// The README's first code block in `language`.
fn readme_block<'a>(readme: &'a str, language: &str) -> &'a str {
    let fence = format!("```{language}\n");
    let start = readme
        .find(&fence)
        .unwrap_or_else(|| panic!("a {language} block in the README"))
        + fence.len();
    let len = readme[start..].find("```").expect("the block's end");
    readme[start..start + len].trim_end()
}

#[test]
fn the_readme_shows_each_example_as_its_suite_runs_it() {
    let root = common::repo_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for (language, path) in EXAMPLES {
        let source = std::fs::read_to_string(root.join(path)).unwrap();
        assert_eq!(
            readme_block(&readme, language),
            example_text(&source),
            "the README's {language} block differs from {path}"
        );
    }
}

#[test]
fn the_readme_rust_example_runs() {
    let root = common::repo_root();
    // The example's relative paths, filled with the tiny stand-ins and a 1000x600 JPEG (its taps
    // at 812,430 and 600,300 fall inside).
    let dir = std::env::temp_dir().join(format!("edgesam-readme-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("models")).unwrap();
    let (encoder, decoder) = common::standins("tiny");
    std::fs::copy(encoder, dir.join("models/edge_sam_3x_encoder.onnx")).unwrap();
    std::fs::copy(decoder, dir.join("models/edge_sam_3x_decoder.onnx")).unwrap();
    write_jpeg(&dir.join("photo.jpg"), 1000, 600);
    // The only test of this binary that uses the working directory.
    std::env::set_current_dir(&dir).unwrap();
    let ran = readme::main();
    std::env::set_current_dir(&root).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    ran.unwrap();
}

fn write_jpeg(path: &Path, width: u32, height: u32) {
    let rgb =
        image::RgbImage::from_raw(width, height, common::synthetic_rgb(width, height)).unwrap();
    rgb.save_with_format(path, image::ImageFormat::Jpeg)
        .unwrap();
}
