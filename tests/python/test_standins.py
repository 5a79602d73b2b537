"""The generated stand-in models meet the official EdgeSAM contract (facts sections 2, 3 and 6) and
behave enough like trained ones for the pipeline tests to mean something.

Interface: names, dtypes, shapes, opset 11, only num_points dynamic, decoder outputs declared with
made-up symbolic dims. Architecture: exact op counts and parameter counts of the official files for
`full`, the same block structure for `tiny`. Semantics: the decoder graph equals a plain numpy
implementation of SAM's prompt encoder + mask decoder reading the same weights. Behaviour (through
onnxruntime): unit-scale embeddings that depend on the image, mask logits spanning several units,
distinct stability scores, masks that change with the prompt and the image. Determinism.
"""
from __future__ import annotations

import collections
import math

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

import generate_standins as gen
import standins

OFFICIAL_ENCODER_PARAMS = 5_493_544
OFFICIAL_DECODER_PARAMS = 3_923_424  # stability-score export

VARIANTS = [("tiny", "stability"), ("full", "stability"), ("tiny", "iou")]


# ------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def paths():
    return {v: standins.ensure_standins(*v) for v in VARIANTS}


@pytest.fixture(scope="module")
def protos(paths):
    return {v: (onnx.load(str(e)), onnx.load(str(d))) for v, (e, d) in paths.items()}


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def photo(seed: int) -> np.ndarray:
    """A normalised, padded encoder input: smooth colour fields and flat shapes, like a photo."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:1024, 0:1024] / 1024.0
    img = np.stack([np.sin(xx * rng.uniform(2, 8) + rng.uniform(0, 6)) + np.cos(yy * rng.uniform(2, 8))
                    for _ in range(3)])
    for _ in range(8):
        cx, cy, r = rng.uniform(0.1, 0.9, 2).tolist() + [rng.uniform(0.05, 0.2)]
        img[:, (xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = rng.uniform(-2, 2, size=(3, 1))
    img += 0.1 * rng.standard_normal(img.shape)
    img[:, :, 800:] = 0.0  # zero padding on the right, as for a portrait photo
    return img[None].astype(np.float32)


class Runner:
    def __init__(self, encoder_path, decoder_path):
        self.enc, self.dec = session(encoder_path), session(decoder_path)
        self._emb = {}

    def embed(self, seed: int) -> np.ndarray:
        if seed not in self._emb:
            self._emb[seed] = self.enc.run(None, {"image": photo(seed)})[0]
        return self._emb[seed]

    def decode(self, emb, points, labels):
        feeds = {"image_embeddings": emb,
                 "point_coords": np.asarray(points, np.float32).reshape(1, -1, 2),
                 "point_labels": np.asarray(labels, np.float32).reshape(1, -1)}
        scores, masks = self.dec.run(None, feeds)
        return scores[0], masks[0]


@pytest.fixture(scope="module")
def runners(paths):
    return {v: Runner(*p) for v, p in paths.items()}


def stability(masks: np.ndarray) -> np.ndarray:
    return (masks > 1.0).sum(axis=(1, 2)) / (masks > -1.0).sum(axis=(1, 2))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def op_counts(model) -> collections.Counter:
    return collections.Counter(n.op_type for n in model.graph.node)


def param_count(model) -> int:
    return sum(int(np.prod(t.dims)) for t in model.graph.initializer)


def dims(value_info):
    return [d.dim_param if d.HasField("dim_param") else d.dim_value
            for d in value_info.type.tensor_type.shape.dim]


# ------------------------------------------------------------------------------------ interface
def test_paths_and_folders(paths):
    for (size, scores), (enc, dec) in paths.items():
        folder = standins.GENERATED_DIR / (size if scores == "stability" else f"{size}-iou")
        assert enc == folder / "edge_sam_encoder.onnx" and dec == folder / "edge_sam_decoder.onnx"
        assert enc.is_file() and dec.is_file()


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(v))
def test_encoder_interface(protos, variant):
    enc = protos[variant][0]
    assert [o.version for o in enc.opset_import if o.domain in ("", "ai.onnx")] == [11]
    assert enc.ir_version == 7
    (inp,), (out,) = enc.graph.input, enc.graph.output
    assert inp.name == "image" and dims(inp) == [1, 3, 1024, 1024]
    assert out.name == "image_embeddings" and dims(out) == [1, 256, 64, 64]
    assert inp.type.tensor_type.elem_type == out.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    gen.check(enc)  # checker + strict shape inference


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(v))
def test_decoder_interface(protos, variant):
    dec = protos[variant][1]
    assert [o.version for o in dec.opset_import if o.domain in ("", "ai.onnx")] == [11]
    assert dec.ir_version == 7
    inputs = {i.name: i for i in dec.graph.input}
    assert list(inputs) == ["image_embeddings", "point_coords", "point_labels"]  # no mask_input etc.
    assert dims(inputs["image_embeddings"]) == [1, 256, 64, 64]
    coords, labels = dims(inputs["point_coords"]), dims(inputs["point_labels"])
    assert coords[0] == 1 and coords[2] == 2 and labels[0] == 1
    assert isinstance(coords[1], str) and coords[1] == labels[1] == "num_points"  # the only dynamic dim
    assert all(i.type.tensor_type.elem_type == onnx.TensorProto.FLOAT for i in dec.graph.input)

    outputs = {o.name: o for o in dec.graph.output}
    assert list(outputs) == ["scores", "masks"]
    scores_op = "Div" if variant[1] == "stability" else "Gemm"
    # Made-up symbolic dims, as in the official export: a loader must not trust them.
    assert dims(outputs["scores"]) == [f"{scores_op}scores_dim_{i}" for i in range(2)]
    assert dims(outputs["masks"]) == [f"Reshapemasks_dim_{i}" for i in range(4)]
    assert all(o.type.tensor_type.elem_type == onnx.TensorProto.FLOAT for o in dec.graph.output)
    producers = {n.output[0]: n.op_type for n in dec.graph.node}
    assert producers["scores"] == scores_op and producers["masks"] == "Reshape"
    gen.check(dec)


# ------------------------------------------------------------------------------------ architecture
def test_full_matches_official_counts(protos):
    enc, dec = protos[("full", "stability")]
    e, d = op_counts(enc), op_counts(dec)
    assert (e["Conv"], e["Erf"], e["Sigmoid"], e["Resize"]) == (130, 27, 10, 1)
    assert (d["ConvTranspose"], d["Softmax"], d["Erf"]) == (2, 7, 2)
    assert abs(param_count(enc) / OFFICIAL_ENCODER_PARAMS - 1) < 0.05
    assert abs(param_count(dec) / OFFICIAL_DECODER_PARAMS - 1) < 0.05
    # The IoU-head export is the larger one (facts: about 515 KB more).
    iou_dec = gen.build_decoder("full", scores="iou")
    assert 0.1e6 < param_count(iou_dec) - param_count(dec) < 0.2e6


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(v))
def test_op_kinds(protos, variant):
    enc, dec = protos[variant]
    e, d = op_counts(enc), op_counts(dec)
    # Same block structure in tiny and full.
    assert (e["Conv"], e["Erf"], e["Sigmoid"], e["Resize"]) == (130, 27, 10, 1)
    assert (d["ConvTranspose"], d["Softmax"], d["Erf"]) == (2, 7, 2)
    # The traps of a PyTorch opset-11 export.
    for op in ("ReduceMean", "Sub", "Pow", "Sqrt", "Div"):  # LayerNorm2d spelled out
        assert e[op] > 0, op
    for op in ("OneHot", "Tile", "Expand", "Where", "Sin", "Cos", "Shape", "Gather", "Unsqueeze",
               "Concat", "Reshape", "Equal", "CumSum", "MatMul", "Gemm"):
        assert d[op] > 0, op
    assert "LayerNormalization" not in e and "LayerNormalization" not in d
    if variant[1] == "stability":
        assert all(d[op] > 0 for op in ("Greater", "Cast", "ReduceSum"))
    else:
        assert "Greater" not in d and "ReduceSum" not in d
    resize = next(n for n in enc.graph.node if n.op_type == "Resize")
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in resize.attribute}
    assert attrs["mode"] == b"linear" and attrs["coordinate_transformation_mode"] == b"pytorch_half_pixel"
    assert len(resize.input) == 3  # X, roi, scales (opset-11 form)
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t)
              for n in enc.graph.node if n.op_type == "Constant"}
    assert consts[resize.input[1]].size == 0 and consts[resize.input[2]].tolist() == [1, 1, 2, 2]


# ------------------------------------------------------------------------------------ semantics
class NumpySam:
    """SAM's prompt encoder (EdgeSAM's ONNX wrapper form) + mask decoder in plain numpy, reading
    the stand-in's weights by name: an independent statement of what the graph must compute."""

    def __init__(self, decoder_proto, spec: "gen.DecoderSpec"):
        self.w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in decoder_proto.graph.initializer}
        self.spec = spec

    def p(self, name):
        return self.w[name]

    @staticmethod
    def pe_encoding(coords01, gaussian):
        c = 2 * math.pi * ((2 * coords01 - 1) @ gaussian)
        return np.concatenate([np.sin(c), np.cos(c)], axis=-1)

    def linear(self, x, prefix):
        if prefix + ".weight_t" in self.w:
            return x @ self.p(prefix + ".weight_t") + self.p(prefix + ".bias")
        return x @ self.p(prefix + ".weight").T + self.p(prefix + ".bias")

    def layernorm(self, x, prefix, eps=1e-5, axis=-1):
        u = x.mean(axis, keepdims=True)
        var = ((x - u) ** 2).mean(axis, keepdims=True)
        return (x - u) / np.sqrt(var + eps) * self.p(prefix + ".weight") + self.p(prefix + ".bias")

    def attention(self, q, k, v, prefix):
        q, k, v = (self.linear(t, f"{prefix}.{n}_proj") for t, n in ((q, "q"), (k, "k"), (v, "v")))
        heads = lambda t: t.reshape(t.shape[0], 8, -1).transpose(1, 0, 2)  # noqa: E731
        q, k, v = heads(q), heads(k), heads(v)
        logits = q @ k.transpose(0, 2, 1) / math.sqrt(q.shape[-1])
        attn = np.exp(logits - logits.max(-1, keepdims=True))
        attn /= attn.sum(-1, keepdims=True)
        out = (attn @ v).transpose(1, 0, 2).reshape(q.shape[1], -1)
        return self.linear(out, f"{prefix}.out_proj")

    def mlp(self, x, prefix, n_layers=3):
        for i in range(n_layers):
            x = self.linear(x, f"{prefix}.layers.{i}")
            x = np.maximum(x, 0) if i < n_layers - 1 else x
        return x

    @staticmethod
    def gelu(x):
        return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))

    @staticmethod
    def conv_transpose2x2(x, weight, bias):
        c_out = weight.shape[1]
        y = np.einsum("chw,coab->ohawb", x, weight).reshape(c_out, 2 * x.shape[1], 2 * x.shape[2])
        return y + bias[:, None, None]

    def __call__(self, emb, coords, labels):
        g = self.p("prompt_encoder.pe_layer.positional_encoding_gaussian_matrix")
        coords, labels = np.asarray(coords, np.float64), np.asarray(labels, np.float64)
        # SAM prompt encoder semantics (labels: -1 pad, 0 neg, 1 pos, 2/3 box corners).
        sparse = self.pe_encoding((coords + 0.5) / 1024.0, g)
        sparse[labels == -1] = 0.0
        sparse[labels == -1] += self.p("prompt_encoder.not_a_point_embed.weight")[0]
        for i in range(4):
            sparse[labels == i] += self.p(f"prompt_encoder.point_embeddings.{i}.weight")[0]
        centres = (np.arange(64) + 0.5) / 64
        grid = np.stack(np.meshgrid(centres, centres, indexing="xy"), -1)  # [y, x, (x, y)]
        key_pe = self.pe_encoding(grid, g).reshape(4096, 256)
        tokens = np.concatenate([self.p("mask_decoder.output_tokens")[0], sparse])
        src = emb[0].astype(np.float64) + self.p("prompt_encoder.no_mask_embed.weight")[0]
        keys = src.reshape(256, 4096).T
        # TwoWayTransformer.
        t = "mask_decoder.transformer"
        queries = tokens
        for i in range(self.spec.depth):
            lp = f"{t}.layers.{i}"
            if i == 0:
                queries = self.attention(queries, queries, queries, f"{lp}.self_attn")
            else:
                q = queries + tokens
                queries = queries + self.attention(q, q, queries, f"{lp}.self_attn")
            queries = self.layernorm(queries, f"{lp}.norm1")
            queries = queries + self.attention(queries + tokens, keys + key_pe, keys,
                                               f"{lp}.cross_attn_token_to_image")
            queries = self.layernorm(queries, f"{lp}.norm2")
            h = np.maximum(self.linear(queries, f"{lp}.mlp.lin1"), 0)
            queries = self.layernorm(queries + self.linear(h, f"{lp}.mlp.lin2"), f"{lp}.norm3")
            keys = keys + self.attention(keys + key_pe, queries + tokens, queries,
                                         f"{lp}.cross_attn_image_to_token")
            keys = self.layernorm(keys, f"{lp}.norm4")
        queries = queries + self.attention(queries + tokens, keys + key_pe, keys,
                                           f"{t}.final_attn_token_to_image")
        queries = self.layernorm(queries, f"{t}.norm_final_attn")
        # Upscaling, hypernetworks, masks.
        u = "mask_decoder.output_upscaling"
        x = keys.T.reshape(256, 64, 64)
        x = self.conv_transpose2x2(x, self.p(f"{u}.0.weight"), self.p(f"{u}.0.bias"))
        x = self.gelu(self.layernorm(x, f"{u}.1", eps=1e-6, axis=0))
        x = self.gelu(self.conv_transpose2x2(x, self.p(f"{u}.3.weight"), self.p(f"{u}.3.bias")))
        hyper = np.stack([self.mlp(queries[1 + i], f"mask_decoder.output_hypernetworks_mlps.{i}")
                          for i in range(4)])
        masks = (hyper @ x.reshape(x.shape[0], -1)).reshape(4, 256, 256)
        if "mask_decoder.iou_prediction_head.layers.0.weight" in self.w:
            scores = self.mlp(queries[0], "mask_decoder.iou_prediction_head")
        else:
            scores = stability(masks)
        return scores, masks


@pytest.mark.parametrize("variant", [("tiny", "stability"), ("tiny", "iou")], ids=lambda v: "-".join(v))
def test_decoder_computes_sam(protos, runners, variant):
    ref = NumpySam(protos[variant][1], gen.SPECS["tiny"][1])
    r = runners[variant]
    emb = r.embed(1)
    prompts = [([[300.0, 420.0]], [1]),
               ([[300.0, 420.0], [700.5, 100.25], [10, 1000]], [1, 0, -1]),
               ([[100, 200], [640, 900]], [2, 3]),
               ([[512, 512], [0, 0]], [0, -1])]
    for points, labels in prompts:
        scores, masks = r.decode(emb, points, labels)
        ref_scores, ref_masks = ref(emb, points, labels)
        np.testing.assert_allclose(masks, ref_masks, atol=2e-3 * max(1.0, np.abs(ref_masks).max()))
        np.testing.assert_allclose(scores, ref_scores, atol=2e-3)


def test_padding_point_ignores_its_coordinates(runners):
    r = runners[("tiny", "stability")]
    emb = r.embed(1)
    a = r.decode(emb, [[300, 400], [0, 0]], [1, -1])
    b = r.decode(emb, [[300, 400], [900, 50]], [1, -1])
    np.testing.assert_array_equal(a[1], b[1])
    c = r.decode(emb, [[300, 400]], [1])
    assert np.abs(a[1] - c[1]).max() > 1e-3  # a padding point is still a token (not appended by us)


# ------------------------------------------------------------------------------------ behaviour
BEHAVIOUR = [("tiny", "stability"), ("full", "stability")]


@pytest.mark.parametrize("variant", BEHAVIOUR, ids=lambda v: "-".join(v))
def test_embeddings_look_trained(runners, variant):
    r = runners[variant]
    e1, e2 = r.embed(1), r.embed(2)
    assert e1.shape == (1, 256, 64, 64) and e1.dtype == np.float32
    assert np.isfinite(e1).all() and np.isfinite(e2).all()
    assert 0.5 < e1.std() < 2.0 and np.abs(e1).max() < 20
    # Spatial structure, not one vector repeated over the grid.
    assert e1[0].reshape(256, -1).std(axis=1).mean() > 0.5
    # Depends on the image.
    assert (e1 - e2).std() > 0.5


@pytest.mark.parametrize("variant", BEHAVIOUR, ids=lambda v: "-".join(v))
def test_masks_look_trained(runners, variant):
    r = runners[variant]
    prompts = [([[200, 200]], [1]), ([[600, 700]], [1]), ([[400, 300], [650, 500]], [1, 0]),
               ([[100, 150], [500, 600]], [2, 3]), ([[700, 200]], [1]), ([[350, 800]], [1])]
    chosen = set()
    for seed in (1, 2):
        emb = r.embed(seed)
        for points, labels in prompts:
            scores, masks = r.decode(emb, points, labels)
            assert scores.shape == (4,) and masks.shape == (4, 256, 256)
            assert np.isfinite(masks).all()
            # Logits spanning several units, both signs.
            assert 2.0 < masks.std() < 10.0
            assert 0.02 < (masks > 0).mean() < 0.98
            # The stability-score export's scores are the stability of its own masks...
            np.testing.assert_allclose(scores, stability(masks), atol=1e-6)
            # ... and the four candidates differ clearly.
            s = np.sort(scores)
            assert s[-1] - s[0] > 0.03 and np.diff(s).min() > 1e-4, scores
            chosen.add(int(np.argmax(scores)))
    assert len(chosen) >= 2, f"argmax never changes: {chosen}"


@pytest.mark.parametrize("variant", BEHAVIOUR, ids=lambda v: "-".join(v))
def test_masks_follow_prompt_and_image(runners, variant):
    r = runners[variant]
    emb1, emb2 = r.embed(1), r.embed(2)

    def masks(emb, points, labels):
        return r.decode(emb, points, labels)[1] > 0

    def mean_iou(a, b):  # over the four candidates
        return np.mean([iou(x, y) for x, y in zip(a, b)])

    here = masks(emb1, [[200, 200]], [1])
    assert mean_iou(here, masks(emb1, [[210, 205]], [1])) > 0.5  # a nearby click: similar masks
    assert mean_iou(here, masks(emb1, [[750, 600]], [1])) < 0.8  # another region: different masks
    assert mean_iou(here, masks(emb1, [[200, 200]], [0])) < 0.8  # negative instead of positive
    assert mean_iou(here, masks(emb2, [[200, 200]], [1])) < 0.8  # another image
    # More points are fine (num_points is dynamic), and they change the answer.
    many = masks(emb1, [[200, 200], [600, 600], [300, 900], [50, 50], [800, 100]], [1, 1, 0, 0, 1])
    assert many.shape == (4, 256, 256) and mean_iou(here, many) < 0.95


def test_iou_variant(protos, runners):
    enc_s, dec_s = protos[("tiny", "stability")]
    enc_i, dec_i = protos[("tiny", "iou")]
    assert enc_i.SerializeToString() == enc_s.SerializeToString()  # same encoder
    names = {t.name for t in dec_i.graph.initializer}
    assert any(n.startswith("mask_decoder.iou_prediction_head.") for n in names)
    assert not any("iou_prediction_head" in t.name for t in dec_s.graph.initializer)
    r_s, r_i = runners[("tiny", "stability")], runners[("tiny", "iou")]
    emb = r_s.embed(1)
    for points, labels in [([[200, 200]], [1]), ([[100, 150], [500, 600]], [2, 3])]:
        scores_s, masks_s = r_s.decode(emb, points, labels)
        scores_i, masks_i = r_i.decode(emb, points, labels)
        np.testing.assert_array_equal(masks_i, masks_s)  # same decoder weights up to the head
        assert scores_i.shape == (4,) and np.isfinite(scores_i).all()
        assert 0.2 < scores_i.min() and scores_i.max() < 1.2  # IoU-like predictions
        assert np.abs(scores_i - scores_s).max() > 1e-3  # not the stability scores
        assert np.ptp(scores_i) > 0.01


def test_tiny_is_a_small_fraction_of_full(protos):
    """The tiny pair exists so that tests can run it hundreds of times: it keeps full's graph
    and interface with under a tenth of its weights (about 1/94 of the encoder's and 1/12 of the
    decoder's)."""
    def weights(model) -> int:
        return sum(int(np.prod(t.dims)) for t in model.graph.initializer)

    for part in (0, 1):
        tiny, full = weights(protos[("tiny", "stability")][part]), weights(protos[("full", "stability")][part])
        assert tiny * 10 < full, f"{'encoder' if part == 0 else 'decoder'}: tiny {tiny}, full {full} weights"


# ------------------------------------------------------------------------------------ determinism
def test_generation_is_deterministic(tmp_path, paths):
    a = gen.generate("tiny", tmp_path / "a", seed=0)
    b = gen.generate("tiny", tmp_path / "b", seed=0)
    for fa, fb, cached in zip(a, b, paths[("tiny", "stability")]):
        assert fa.read_bytes() == fb.read_bytes()
        assert fa.read_bytes() == cached.read_bytes()  # the cached stand-ins are current
    iou_decoder = paths[("tiny", "iou")][1].read_bytes()
    assert iou_decoder == gen.build_decoder("tiny", 0, "iou").SerializeToString()
    c = gen.generate("tiny", tmp_path / "c", seed=1)
    assert c[0].read_bytes() != a[0].read_bytes() and c[1].read_bytes() != a[1].read_bytes()
    # Existing files are kept without --force.
    before = a[0].stat().st_mtime_ns
    gen.generate("tiny", tmp_path / "a", seed=5)
    assert a[0].stat().st_mtime_ns == before and a[0].read_bytes() == b[0].read_bytes()


def test_cli(tmp_path):
    import subprocess
    import sys
    out = tmp_path / "cli"
    cmd = [sys.executable, str(standins.MODELS_DIR / "generate_standins.py"), "--size", "tiny",
           "--out", str(out), "--scores", "iou"]
    subprocess.run(cmd, check=True, capture_output=True)
    ref = gen.build_decoder("tiny", 0, "iou").SerializeToString()
    assert (out / "edge_sam_decoder.onnx").read_bytes() == ref
    assert sorted(p.name for p in out.iterdir()) == ["edge_sam_decoder.onnx", "edge_sam_encoder.onnx"]
