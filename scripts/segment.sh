#!/usr/bin/env bash
# The main job: segment a photo from a tap (or a box) with the edgesam CLI.
#
#   scripts/segment.sh [IMAGE] [edgesam segment options...]
#       with the official EdgeSAM files in models/ (fetched and SHA-256-verified when missing)
#   scripts/segment.sh --standins [IMAGE] [options...]
#       offline, on generated stand-in models (random weights: the mask shows the pipeline
#       runs end to end, not a meaningful segmentation)
#
# Without options it taps the red ball of tests/data/sample.jpg. Writes out/mask.png and
# out/overlay.png and prints the result as JSON.
set -euo pipefail
cd "$(dirname "$0")/.."

standins=false
if [[ "${1:-}" == "--standins" ]]; then
    standins=true
    shift
fi
image=tests/data/sample.jpg
if [[ $# -gt 0 && "$1" != --* ]]; then
    image=$1
    shift
fi
prompt=("$@")
if [[ ${#prompt[@]} -eq 0 ]]; then
    prompt=(--point "350,420")  # one x,y argument (quoted: shellcheck reads commas as a mistake)
fi

if $standins; then
    if [[ ! -x .venv/bin/python ]]; then
        python3 -m venv .venv
    fi
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
    .venv/bin/python models/standins.py >/dev/null
    models=(--encoder models/generated/full/edge_sam_encoder.onnx
            --decoder models/generated/full/edge_sam_decoder.onnx)
    echo "running on the generated stand-ins (random weights)" >&2
else
    if ! python3 models/fetch_official.py --variant 3x --dest models; then
        cat >&2 <<'MSG'

The official EdgeSAM files are not in models/ and could not be fetched from this machine.
Copy edge_sam_3x_encoder.onnx and edge_sam_3x_decoder.onnx into models/ (see README), or run
the same job offline on generated stand-in models:

    scripts/segment.sh --standins
MSG
        exit 2
    fi
    models=(--encoder models/edge_sam_3x_encoder.onnx --decoder models/edge_sam_3x_decoder.onnx)
fi

cargo build --release --quiet -p edgesam-cli
mkdir -p out
target/release/edgesam segment "${models[@]}" --image "$image" "${prompt[@]}" \
    --mask-out out/mask.png --overlay-out out/overlay.png --json
echo "wrote out/mask.png and out/overlay.png" >&2
