"""`python -m edgesam segment ...`: the CLI's main job for people who installed only the wheel."""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import List, Optional, Sequence

from . import EdgeSamError, SegmentAnything, mask_array


def _numbers(text: str, count: Sequence[int]) -> List[float]:
    values = [float(v) for v in text.split(",")]
    if len(values) not in count:
        raise argparse.ArgumentTypeError(f"'{text}': expected {' or '.join(map(str, count))} numbers")
    return values


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m edgesam")
    commands = parser.add_subparsers(dest="command", required=True)
    segment = commands.add_parser("segment", help="a mask from points and/or a box")
    segment.add_argument("--image", required=True, help="JPEG, PNG or WebP photo")
    segment.add_argument("--point", action="append", default=[], type=lambda t: _numbers(t, (2, 3)),
                         metavar="x,y[,label]", help="label 1 (default) positive, 0 negative")
    segment.add_argument("--box", type=lambda t: _numbers(t, (4,)), metavar="x0,y0,x1,y1")
    segment.add_argument("--mask-index", type=int, help="candidate 0...3 instead of the default")
    segment.add_argument("--threads", type=int, default=0, help="0: one per core")
    segment.add_argument("--mask-out", help="8-bit PNG, 255 inside (needs Pillow)")
    segment.add_argument("--json", action="store_true", help="print the result as JSON")
    segment.add_argument("--encoder", default="models/edge_sam_3x_encoder.onnx")
    segment.add_argument("--decoder", default="models/edge_sam_3x_decoder.onnx")
    return parser


def _segment(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    model = SegmentAnything.from_files(args.encoder, args.decoder, threads=args.threads)
    loaded = time.perf_counter()
    embedding = model.encode(args.image)
    encoded = time.perf_counter()
    result = model.segment(embedding, points=[p[:2] for p in args.point],
                           labels=[int(p[2]) if len(p) == 3 else 1 for p in args.point],
                           box=args.box, mask_index=args.mask_index)
    segmented = time.perf_counter()
    if args.mask_out:
        from PIL import Image
        Image.fromarray(mask_array(result)).convert("L").save(args.mask_out)
    mask = result.mask
    box = mask.bounding_box()
    if args.json:
        print(json.dumps({
            "image": {"width": mask.width(), "height": mask.height()},
            "scores": result.scores,
            "mask_index": result.mask_index,
            "score": result.score,
            "bbox": None if box is None else [box.x, box.y, box.width, box.height],
            "area": mask.area(),
            "timings_ms": {"load": (loaded - started) * 1e3, "encode": (encoded - loaded) * 1e3,
                           "predict": (segmented - encoded) * 1e3},
        }))
    else:
        where = "none" if box is None else f"{box.x},{box.y} {box.width}x{box.height}"
        print(f"mask {mask.width()}x{mask.height()}: candidate {result.mask_index} "
              f"score {result.score:.3f}, area {mask.area()} px, box {where}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        _segment(args)
    except EdgeSamError as error:
        print(f"edgesam: {error.reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
