"""EdgeSAM (on-device Segment Anything) on tract, with NumPy and Pillow in and out.

    import edgesam
    model = edgesam.SegmentAnything.from_files("edge_sam_3x_encoder.onnx", "edge_sam_3x_decoder.onnx")
    embedding = model.encode("photo.jpg")               # a path, bytes, a PIL.Image or an HxWx3 array
    result = model.segment(embedding, points=[(812, 430), (600, 300)], labels=[1, 0])
    mask = edgesam.mask_array(result)                   # HxW bool; result.score, result.mask.bounding_box()

Every call raises `edgesam.EdgeSamError` (cases `BadImage`, `BadPrompt`, ...) on bad input.
The generated UniFFI API (`SegmentPrompt`, `SegmentMask`, `run_benchmark`, ...) is here too.
"""
from ._uniffi import *  # noqa: F401,F403  (the generated API, beside the layer)
from ._ffi import BoundingBox, PromptBox  # noqa: F401  (the vocabulary's names)
from ._api import SegmentAnything, everything_arrays, mask_array, rgba_array  # noqa: F401
