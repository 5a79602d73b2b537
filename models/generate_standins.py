#!/usr/bin/env python3
"""Generate stand-in EdgeSAM ONNX models: the official interface and architecture, random weights.

The official EdgeSAM weights cannot be downloaded on the project's machines, so every test runs on
these stand-ins. They are written node by node with the `onnx` package (no PyTorch) and copy what a
PyTorch opset-11 export of EdgeSAM contains, because the real files must later load unmodified in
the same code, so the stand-ins have to set the same traps:

* encoder: RepViT-M1 with the unfused `dw3x3(x) + dw1x1(x) + x` token mixer, batch norm folded into
  conv biases, exact GELU written with Erf, squeeze-excite, the fusion neck with one bilinear Resize
  (opset-11 form with roi/scales inputs), LayerNorm2d spelled out as ReduceMean/Sub/Pow/Sqrt/Div;
* decoder: SAM's prompt encoder and mask decoder as EdgeSAM's ONNX export wrapper traces them:
  labels as floats compared with Equal, `expand(-1)` turned into Where/Expand, `repeat_interleave`
  turned into OneHot/Tile, Shape/Gather/Unsqueeze/Concat/Reshape chains around every reshape, the
  dense positional encoding computed in the graph (CumSum, Sin, Cos), stability scores with
  Greater/Cast/ReduceSum/Div, and output shapes declared with made-up symbolic dims exactly like the
  official file (`Divscores_dim_0`, `Reshapemasks_dim_1`, ...).

Usage:
    python models/generate_standins.py --size {tiny,full} --out DIR [--seed N]
                                       [--scores {stability,iou}] [--force]

writes DIR/edge_sam_encoder.onnx and DIR/edge_sam_decoder.onnx. The same arguments always give
byte-identical files. `full` matches the official op counts (encoder 130 Conv, 27 Erf, 10 Sigmoid,
1 Resize; decoder 2 ConvTranspose, 7 Softmax, 2 Erf) and parameter counts within a fraction of a
per cent; `tiny` keeps every block and op kind but is narrow, so that one encoder + decoder run
takes a few tens of milliseconds on one core.
"""
from __future__ import annotations

import argparse
import hashlib
import math
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# The source this module was imported from: stamps generated files (see standins.py). Read at
# import time, so a long-running process that imported an older version stamps its files as such.
SOURCE_SHA256 = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()

OPSET = 11
IR_VERSION = 7  # what a PyTorch opset-11 export writes; onnxruntime and tract both accept it
ENCODER_FILE = "edge_sam_encoder.onnx"
DECODER_FILE = "edge_sam_decoder.onnx"

IMAGE_SIZE = 1024  # encoder input side; point coordinates live in this frame
EMBED_DIM = 256  # image embedding channels = token width (fixed by the interface)
EMBED_SIDE = 64  # image embedding is 64x64
NUM_MASK_TOKENS = 4  # single-mask token + 3 multimask tokens
NUM_HEADS = 8
STABILITY_OFFSET = 1.0  # stability score = #(logit > +1) / #(logit > -1)


# ================================================================================================
# Sizes
# ================================================================================================
@dataclass(frozen=True)
class EncoderSpec:
    stem_mid: int  # channels after the first stem conv (official: 24)
    widths: Tuple[int, int, int, int]  # per-stage channels (official: 48/96/192/384)
    depths: Tuple[int, int, int, int] = (3, 4, 16, 3)  # RepViT-M1 blocks per stage
    neck_width: int = 256  # fuse convs, neck 1x1 conv and LayerNorm width (official: 256)


@dataclass(frozen=True)
class DecoderSpec:
    self_attn_dim: int  # internal width of token self-attention (official: 256)
    cross_attn_dim: int  # internal width of the cross attentions (official: 256 / 2 = 128)
    mlp_dim: int  # transformer MLP hidden width (official: 2048)
    upscale_dims: Tuple[int, int]  # output upscaling channels (official: 64, 32)
    hyper_hidden: int  # hypernetwork MLP hidden width (official: 256)
    iou_hidden: int  # IoU head hidden width (official: 256)
    hyper_gain: float  # hypernetwork output gain: sets the mask logits' spread (std of a few units)
    depth: int = 2


HYPER_GAIN_FULL, HYPER_GAIN_TINY = 0.75, 2.5
SPECS = {
    "full": (
        EncoderSpec(stem_mid=24, widths=(48, 96, 192, 384)),
        DecoderSpec(self_attn_dim=256, cross_attn_dim=128, mlp_dim=2048,
                    upscale_dims=(64, 32), hyper_hidden=256, iou_hidden=256, hyper_gain=HYPER_GAIN_FULL),
    ),
    # Same blocks and op kinds, narrow. The decoder keeps the 256-wide tokens and embeddings that
    # the interface fixes; the cross attentions (which run over 4096 image tokens) are what costs.
    "tiny": (
        EncoderSpec(stem_mid=2, widths=(4, 8, 16, 32), neck_width=8),
        DecoderSpec(self_attn_dim=64, cross_attn_dim=16, mlp_dim=64,
                    upscale_dims=(8, 8), hyper_hidden=32, iou_hidden=32, hyper_gain=HYPER_GAIN_TINY),
    ),
}


# ================================================================================================
# Graph builder
# ================================================================================================
class GraphBuilder:
    """Collects nodes and initializers; names things the way a recent PyTorch export does.

    Node names are `/<scope>/<Op>_<n>`, their outputs `<node name>_output_<i>`. Learned weights are
    initializers with dotted module names; small constants (shapes, scalars) are Constant nodes,
    as the exporter writes them.
    """

    def __init__(self) -> None:
        self.nodes: List[onnx.NodeProto] = []
        self.initializers: List[onnx.TensorProto] = []
        self._scopes: List[str] = []
        self._op_counter: dict = {}
        self._names: set = set()

    # ---- scopes ---------------------------------------------------------------------------------
    class _Scope:
        def __init__(self, builder: "GraphBuilder", name: str) -> None:
            self.builder, self.name = builder, name

        def __enter__(self):
            self.builder._scopes.append(self.name)

        def __exit__(self, *exc):
            self.builder._scopes.pop()

    def scope(self, name: str) -> "GraphBuilder._Scope":
        return GraphBuilder._Scope(self, name)

    @property
    def prefix(self) -> str:
        return ".".join(self._scopes)

    # ---- tensors --------------------------------------------------------------------------------
    def param(self, suffix: str, array: np.ndarray) -> str:
        """Add a learned weight as an initializer named after the current module scope."""
        name = f"{self.prefix}.{suffix}" if self._scopes else suffix
        assert name not in self._names, name
        self._names.add(name)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def const(self, value, dtype=np.float32) -> str:
        """A Constant node (scalars, shapes, index lists): what the exporter emits for literals."""
        array = np.asarray(value, dtype=dtype)
        return self.op("Constant", [], value=numpy_helper.from_array(array, "value"))

    def op(self, op_type: str, inputs: Sequence[str], out: Optional[str] = None, **attrs) -> str:
        """Append a node; returns the name of its (single) output, `out` if given."""
        n = self._op_counter.get(op_type, 0)
        self._op_counter[op_type] = n + 1
        scope = "/" + "/".join(self._scopes) if self._scopes else ""
        node_name = f"{scope}/{op_type}_{n}"
        output = out if out is not None else f"{node_name}_output_0"
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], name=node_name, **attrs))
        return output

    # ---- traced shape arithmetic ------------------------------------------------------------------
    def dim(self, x: str, axis: int) -> str:
        """`x.shape[axis]` as traced: Shape then Gather with a scalar index (a 0-d int64)."""
        return self.op("Gather", [self.op("Shape", [x]), self.const(axis, np.int64)], axis=0)

    def shape_of(self, *parts) -> str:
        """A 1-d int64 shape from traced 0-d dims (str) and literal ints, as `reshape(a, b, ...)`
        traces: each part Unsqueezed to [1], then one Concat."""
        pieces = []
        for p in parts:
            if isinstance(p, str):
                pieces.append(self.op("Unsqueeze", [p], axes=[0]))
            else:
                pieces.append(self.const([p], np.int64))
        return self.op("Concat", pieces, axis=0)


def make_model(builder: GraphBuilder, inputs, outputs, doc: str) -> onnx.ModelProto:
    graph = helper.make_graph(builder.nodes, "main_graph", inputs, outputs,
                              initializer=builder.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="edgesam-standin-generator", producer_version="1",
                              doc_string=doc)
    model.ir_version = IR_VERSION
    return model


# ================================================================================================
# Weight initialisation
# ================================================================================================
class Init:
    """Seeded weight draws. Fan-in scaled normals with an explicit gain, so every scale in the
    generator is a stated choice. One Init per model keeps encoder and decoder independent."""

    def __init__(self, seed: int, stream: int) -> None:
        self.rng = np.random.default_rng([seed, stream])

    def normal(self, shape, std: float, mean: float = 0.0) -> np.ndarray:
        return (mean + std * self.rng.standard_normal(shape)).astype(np.float32)

    def fan_in(self, shape, fan_in: int, gain: float) -> np.ndarray:
        return self.normal(shape, gain / math.sqrt(fan_in))


def stable(x) -> np.ndarray:
    """Round derived statistics to 12 significant bits, so that last-bit differences between CPUs'
    summation orders cannot change the weights written (the files must be byte-identical)."""
    mantissa, exponent = np.frexp(np.asarray(x, dtype=np.float64))
    return np.ldexp(np.round(mantissa * 4096.0) / 4096.0, exponent)


# ================================================================================================
# Numpy versions of the encoder's layers, used only to calibrate the folded batch norms
# ================================================================================================
def np_erf(x: np.ndarray) -> np.ndarray:
    """erf, Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): enough for calibration statistics."""
    t = 1.0 / (1.0 + 0.3275911 * np.abs(x))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return np.sign(x) * (1.0 - poly * np.exp(-x * x))


def np_gelu(x: np.ndarray) -> np.ndarray:
    return (0.5 * x * (1.0 + np_erf(x / math.sqrt(2.0)))).astype(np.float32)


def np_conv(x: np.ndarray, w: np.ndarray, stride: int = 1, groups: int = 1) -> np.ndarray:
    """Conv2d of a CHW array with padding k // 2 and no bias; dense or depthwise only."""
    c_out, _, k, _ = w.shape
    pad = k // 2
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    h_out = (x.shape[1] + 2 * pad - k) // stride + 1
    w_out = (x.shape[2] + 2 * pad - k) // stride + 1
    out = np.zeros((c_out, h_out, w_out), np.float32)
    for i in range(k):
        for j in range(k):
            patch = xp[:, i:i + stride * (h_out - 1) + 1:stride, j:j + stride * (w_out - 1) + 1:stride]
            if groups == 1:
                out += np.tensordot(w[:, :, i, j], patch, axes=(1, 0))
            else:
                assert groups == x.shape[0] == c_out, "only dense and depthwise convs are used"
                out += w[:, 0, i, j, None, None] * patch
    return out


def np_upsample2x(x: np.ndarray) -> np.ndarray:
    """Bilinear x2, half-pixel centres (what the Resize node computes)."""
    def along(a: np.ndarray, axis: int) -> np.ndarray:
        prev = np.concatenate([np.take(a, [0], axis), np.take(a, range(a.shape[axis] - 1), axis)], axis)
        nxt = np.concatenate([np.take(a, range(1, a.shape[axis]), axis), np.take(a, [-1], axis)], axis)
        even, odd = 0.75 * a + 0.25 * prev, 0.75 * a + 0.25 * nxt
        return np.stack([even, odd], axis + 1).reshape(
            a.shape[:axis] + (2 * a.shape[axis],) + a.shape[axis + 1:])
    return along(along(x, 1), 2).astype(np.float32)


def np_layernorm2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    u = x.mean(0, keepdims=True)
    var = ((x - u) ** 2).mean(0, keepdims=True)
    return (weight * (x - u) / np.sqrt(var + eps) + bias).astype(np.float32)


def calibration_image(side: int, rng: np.random.Generator) -> np.ndarray:
    """A normalised photo-like CHW image (smooth colour fields, flat shapes with edges, grain):
    the data the folded batch norms' statistics are taken from."""
    yy, xx = np.mgrid[0:side, 0:side] / side
    img = np.zeros((3, side, side))
    for c in range(3):
        fx, fy, phase = rng.uniform(1, 6), rng.uniform(1, 6), rng.uniform(0, 2 * math.pi)
        img[c] = np.sin(2 * math.pi * fx * xx + phase) * np.cos(2 * math.pi * fy * yy)
    for _ in range(24):
        cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.02, 0.25)
        if rng.uniform() < 0.5:
            inside = (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
        else:
            inside = (np.abs(xx - cx) < r) & (np.abs(yy - cy) < 0.6 * r)
        img[:, inside] = rng.uniform(-1.8, 2.2, size=(3, 1))
    img += 0.15 * rng.standard_normal(img.shape)
    return img.astype(np.float32)


# ================================================================================================
# Common layers
# ================================================================================================
def gelu(b: GraphBuilder, x: str) -> str:
    """Exact GELU as torch exports it at opset 11: x * (1 + erf(x / sqrt 2)) * 0.5."""
    e = b.op("Erf", [b.op("Div", [x, b.const(1.4142135623730951)])])
    return b.op("Mul", [b.op("Mul", [x, b.op("Add", [e, b.const(1.0)])]), b.const(0.5)])


def layernorm2d_params(channels: int, init: Init) -> Tuple[np.ndarray, np.ndarray]:
    """LayerNorm2d affine parameters, [C, 1, 1] as the exporter folds weight[:, None, None]."""
    return init.normal((channels, 1, 1), 0.05, mean=1.0), init.normal((channels, 1, 1), 0.05)


def layernorm2d(b: GraphBuilder, x: str, params: Tuple[np.ndarray, np.ndarray], eps: float = 1e-6,
                out: Optional[str] = None) -> str:
    """SAM's LayerNorm2d over the channel axis, spelled out as the trace records it (x - u twice)."""
    weight, bias = b.param("weight", params[0]), b.param("bias", params[1])
    u = b.op("ReduceMean", [x], axes=[1], keepdims=1)
    var = b.op("ReduceMean", [b.op("Pow", [b.op("Sub", [x, u]), b.const(2.0)])], axes=[1],
               keepdims=1)
    normed = b.op("Div", [b.op("Sub", [x, u]), b.op("Sqrt", [b.op("Add", [var, b.const(eps)])])])
    return b.op("Add", [b.op("Mul", [weight, normed]), bias], out=out)


def layernorm(b: GraphBuilder, x: str, channels: int, init: Init, eps: float = 1e-5) -> str:
    """nn.LayerNorm over the last axis as exported at opset 11 (no LayerNormalization op yet)."""
    weight = b.param("weight", init.normal((channels,), 0.05, mean=1.0))
    bias = b.param("bias", init.normal((channels,), 0.05))
    u = b.op("ReduceMean", [x], axes=[-1], keepdims=1)
    d = b.op("Sub", [x, u])
    var = b.op("ReduceMean", [b.op("Pow", [d, b.const(2.0)])], axes=[-1], keepdims=1)
    normed = b.op("Div", [d, b.op("Sqrt", [b.op("Add", [var, b.const(eps)])])])
    return b.op("Add", [b.op("Mul", [normed, weight]), bias])


def linear(b: GraphBuilder, x: str, n_in: int, n_out: int, init: Init, gain: float = 1.0,
           rank: int = 3, weight: Optional[np.ndarray] = None, out: Optional[str] = None) -> str:
    """nn.Linear as exported: Gemm(transB=1) on 2-d input, MatMul (pre-transposed weight) + Add
    on 3-d input. `weight` ([n_out, n_in]) overrides the random draw (tied q/k projections)."""
    w = init.fan_in((n_out, n_in), n_in, gain) if weight is None else weight
    bias = b.param("bias", init.normal((n_out,), 0.02))
    if rank == 2:
        return b.op("Gemm", [x, b.param("weight", w), bias], alpha=1.0, beta=1.0, transB=1, out=out)
    y = b.op("MatMul", [x, b.param("weight_t", np.ascontiguousarray(w.T))])
    return b.op("Add", [bias, y], out=out)


# ================================================================================================
# Encoder: RepViT-M1 + fusion neck
# ================================================================================================
class EncoderBuilder:
    """Builds the image encoder. Batch norm is folded, so each "Conv2d_BN" is a Conv with bias.

    A trained network's folded BN centres and scales each conv output with statistics of real
    data. The stand-in does the same: while it adds nodes it also runs the layers in numpy on a
    photo-like calibration image, and folds into every Conv2d_BN a BN that maps that conv's
    per-channel output statistics to weight `gamma` and a small random shift. Without this,
    random biases and GELU means pile up through 26 residual blocks into a constant vector that
    swamps the image content (or the activations explode).
    """

    CALIBRATION_SIDE = 512  # stage 3 still has 16x16 positions to take statistics over

    def __init__(self, spec: EncoderSpec, init: Init) -> None:
        self.spec, self.init, self.b = spec, init, GraphBuilder()
        self.value = {"image": calibration_image(self.CALIBRATION_SIDE, init.rng)}

    # ---- graph + calibration in lockstep ---------------------------------------------------------
    def add(self, x: str, y: str) -> str:
        out = self.b.op("Add", [x, y])
        self.value[out] = self.value[x] + self.value[y]
        return out

    def gelu(self, x: str) -> str:
        out = gelu(self.b, x)
        self.value[out] = np_gelu(self.value[x])
        return out

    def conv_bn(self, x: str, c_in: int, c_out: int, k: int = 1, stride: int = 1,
                groups: int = 1, gamma: float = 1.0) -> str:
        """Conv2d_BN: a fan-in scaled random conv with a calibrated BN folded in."""
        raw = self.init.fan_in((c_out, c_in // groups, k, k), (c_in // groups) * k * k, 1.0)
        y = np_conv(self.value[x], raw, stride, groups)
        bn_weight = gamma * (1.0 + 0.1 * self.init.rng.standard_normal(c_out))
        bn_shift = 0.1 * gamma * self.init.rng.standard_normal(c_out)
        scale = stable(bn_weight / np.sqrt(y.var(axis=(1, 2), dtype=np.float64) + 1e-5))
        w = (raw * scale[:, None, None, None]).astype(np.float32)
        bias = (bn_shift - stable(y.mean(axis=(1, 2), dtype=np.float64)) * scale).astype(np.float32)
        out = self.b.op("Conv", [x, self.b.param("weight", w), self.b.param("bias", bias)],
                        dilations=[1, 1], group=groups, kernel_shape=[k, k],
                        pads=[k // 2] * 4, strides=[stride, stride])
        self.value[out] = y * scale[:, None, None].astype(np.float32) + bias[:, None, None]
        return out

    def plain_conv(self, x: str, c_in: int, c_out: int, k: int = 1) -> str:
        """nn.Conv2d(bias=False) of the fusion neck: no BN and no bias; the weights are scaled to
        give the output unit variance on the calibration image, as trained weights would."""
        raw = self.init.fan_in((c_out, c_in, k, k), c_in * k * k, 1.0)
        y = np_conv(self.value[x], raw)
        scale = float(stable(1.0 / math.sqrt(float(np.mean(y.astype(np.float64) ** 2)) + 1e-5)))
        w = (raw * scale).astype(np.float32)
        out = self.b.op("Conv", [x, self.b.param("weight", w)], dilations=[1, 1], group=1,
                        kernel_shape=[k, k], pads=[k // 2] * 4, strides=[1, 1])
        self.value[out] = y * np.float32(scale)
        return out

    def layernorm2d(self, x: str, channels: int, out: Optional[str] = None) -> str:
        params = layernorm2d_params(channels, self.init)
        y = layernorm2d(self.b, x, params, out=out)
        self.value[y] = np_layernorm2d(self.value[x], *params)
        return y

    # ---- blocks -------------------------------------------------------------------------------
    def squeeze_excite(self, x: str, c: int) -> str:
        """timm SqueezeExcite(c, 0.25): mean, 1x1 conv, ReLU, 1x1 conv, Sigmoid gate, Mul."""
        b, rd = self.b, make_divisible(c * 0.25, 8)
        pooled_value = self.value[x].mean(axis=(1, 2), dtype=np.float64)
        spread = float(np.sqrt(np.mean(pooled_value ** 2)) + 1e-3)
        w1 = self.init.fan_in((rd, c, 1, 1), c, stable(2.0 / spread))
        b1 = self.init.normal((rd,), 0.1)
        # fc2 bias around +1: gates open to ~0.7, as trained SE layers mostly pass the signal.
        w2 = self.init.fan_in((c, rd, 1, 1), rd, 1.0)
        b2 = self.init.normal((c,), 0.1, mean=1.0)
        pooled = b.op("ReduceMean", [x], axes=[2, 3], keepdims=1)
        with b.scope("fc1"):
            h = b.op("Conv", [pooled, b.param("weight", w1), b.param("bias", b1)],
                     dilations=[1, 1], group=1, kernel_shape=[1, 1], pads=[0, 0, 0, 0], strides=[1, 1])
        h = b.op("Relu", [h])
        with b.scope("fc2"):
            g = b.op("Conv", [h, b.param("weight", w2), b.param("bias", b2)],
                     dilations=[1, 1], group=1, kernel_shape=[1, 1], pads=[0, 0, 0, 0], strides=[1, 1])
        out = b.op("Mul", [x, b.op("Sigmoid", [g])])
        hidden = np.maximum(w1[:, :, 0, 0] @ pooled_value + b1, 0.0)
        gate = 1.0 / (1.0 + np.exp(-(w2[:, :, 0, 0] @ hidden + b2)))
        self.value[out] = self.value[x] * gate[:, None, None].astype(np.float32)
        return out

    def channel_mixer(self, x: str, c: int) -> str:
        """Residual(conv1x1 c->2c, GELU, conv1x1 2c->c). The last BN is initialised to 0 in
        training and stays small, hence gamma 0.5."""
        with self.b.scope("channel_mixer.m.0"):
            h = self.conv_bn(x, c, 2 * c)
        h = self.gelu(h)
        with self.b.scope("channel_mixer.m.2"):
            h = self.conv_bn(h, 2 * c, c, gamma=0.5)
        return self.add(x, h)

    def block(self, x: str, c_in: int, c_out: int, stride: int, use_se: bool) -> str:
        b = self.b
        if stride == 2:
            # Downsample block: dw3x3 s2, [SE], 1x1 to the new width, channel mixer.
            with b.scope("token_mixer.0"):
                x = self.conv_bn(x, c_in, c_in, k=3, stride=2, groups=c_in)
            if use_se:
                with b.scope("token_mixer.1"):
                    x = self.squeeze_excite(x, c_in)
            with b.scope("token_mixer.2"):
                x = self.conv_bn(x, c_in, c_out)
        else:
            # RepVGGDW, exported unfused: dw3x3(x) + dw1x1(x) + x.
            with b.scope("token_mixer.0.conv"):
                y3 = self.conv_bn(x, c_in, c_in, k=3, groups=c_in, gamma=0.5)
            with b.scope("token_mixer.0.conv1"):
                y1 = self.conv_bn(x, c_in, c_in, k=1, groups=c_in, gamma=0.5)
            x = self.add(self.add(y3, y1), x)
            if use_se:
                with b.scope("token_mixer.1"):
                    x = self.squeeze_excite(x, c_in)
        return self.channel_mixer(x, c_out)

    # ---- the network --------------------------------------------------------------------------
    def build(self) -> onnx.ModelProto:
        spec, b = self.spec, self.b
        x = "image"
        with b.scope("features.0"):
            with b.scope("0"):
                x = self.conv_bn(x, 3, spec.stem_mid, k=3, stride=2)
            x = self.gelu(x)
            with b.scope("2"):
                x = self.conv_bn(x, spec.stem_mid, spec.widths[0], k=3, stride=2)

        stage_outputs = []
        c_prev, index = spec.widths[0], 1
        for stage, (width, depth) in enumerate(zip(spec.widths, spec.depths)):
            for i in range(depth):
                stride = 2 if (i == 0 and stage > 0) else 1
                with b.scope(f"features.{index}"):
                    x = self.block(x, c_prev, width, stride, use_se_at(stage, i))
                c_prev, index = width, index + 1
            stage_outputs.append(x)

        n = spec.neck_width
        with b.scope("fuse_stage2"):
            f2 = self.plain_conv(stage_outputs[2], spec.widths[2], n)
        with b.scope("fuse_stage3.op_list.0"):
            f3 = self.plain_conv(stage_outputs[3], spec.widths[3], n)
        with b.scope("fuse_stage3.op_list.1"):
            # F.interpolate(scale_factor=2, mode="bilinear", align_corners=False) at opset 11.
            up = b.op("Resize", [f3, b.const(np.zeros((0,), np.float32)), b.const([1.0, 1.0, 2.0, 2.0])],
                      coordinate_transformation_mode="pytorch_half_pixel", cubic_coeff_a=-0.75,
                      mode="linear", nearest_mode="floor")
            self.value[up] = np_upsample2x(self.value[f3])
        x = self.add(f2, up)
        with b.scope("neck.0"):
            x = self.plain_conv(x, n, n)
        with b.scope("neck.1"):
            x = self.layernorm2d(x, n)
        with b.scope("neck.2"):
            x = self.plain_conv(x, n, EMBED_DIM, k=3)
        with b.scope("neck.3"):
            self.layernorm2d(x, EMBED_DIM, out="image_embeddings")

        inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                [1, 3, IMAGE_SIZE, IMAGE_SIZE])]
        outputs = [helper.make_tensor_value_info("image_embeddings", TensorProto.FLOAT,
                                                 [1, EMBED_DIM, EMBED_SIDE, EMBED_SIDE])]
        return make_model(b, inputs, outputs,
                          "EdgeSAM image encoder STAND-IN (random weights, official interface)")


def make_divisible(v: float, divisor: int) -> int:
    """timm's make_divisible with round_limit=0 (SqueezeExcite's reduced width)."""
    return max(divisor, int(v + divisor / 2) // divisor * divisor)


def use_se_at(stage: int, block: int) -> bool:
    """Squeeze-excite placement of RepViT-M1: block 0 of stage 0, block 1 of stages 1 and 3, the
    odd blocks 1..13 of stage 2."""
    if stage == 0:
        return block == 0
    if stage == 2:
        return block % 2 == 1 and block <= 13
    return block == 1


def build_encoder(size: str = "tiny", seed: int = 0) -> onnx.ModelProto:
    return EncoderBuilder(SPECS[size][0], Init(seed, 1)).build()


# ================================================================================================
# Decoder: SAM prompt encoder + mask decoder, as EdgeSAM's ONNX wrapper traces them
# ================================================================================================
class DecoderBuilder:
    """Builds the prompt encoder + mask decoder graph with the official interface.

    Random weights are drawn so that the stand-in reacts to its inputs the way a trained SAM
    decoder does (the tests depend on it): masks move with the prompt and the image, logits span
    several units, and the four candidates get clearly different stability scores.
    """

    # Attention query/key projections are drawn tied (key = query weights + a little noise) with a
    # gain, so that attention logits carry the positional-encoding kernel pe(a) . pe(b): tokens
    # attend to the image around their point and pixels to the tokens near them, as in a trained
    # SAM. Untied random projections give near-uniform attention and prompt-blind masks.
    QK_GAIN = 2.0
    QK_TIE = 0.9
    # Attention output projections: large enough that attention visibly moves tokens and pixels
    # against the residual stream (at gain 1 the prompt barely changes the mask tokens).
    OUT_GAIN = 1.5
    UPSCALE_TAP_SHARE = 0.95  # see conv_transpose_weight

    def __init__(self, spec: DecoderSpec, init: Init, scores: str) -> None:
        assert scores in ("stability", "iou")
        self.spec, self.init, self.scores, self.b = spec, init, scores, GraphBuilder()

    # ---- prompt encoder -----------------------------------------------------------------------
    def pe_encoding(self, coords: str, gaussian: str) -> str:
        """PositionEmbeddingRandom._pe_encoding of coords in [0, 1]: 2c - 1, @ G, * 2pi, sin|cos."""
        b = self.b
        c = b.op("Sub", [b.op("Mul", [coords, b.const(2.0)]), b.const(1.0)])
        c = b.op("Mul", [b.op("MatMul", [c, gaussian]), b.const(2 * math.pi)])
        return b.op("Concat", [b.op("Sin", [c]), b.op("Cos", [c])], axis=-1)

    def dense_pe(self, gaussian: str) -> str:
        """get_dense_pe(): the encoding of the 64x64 cell centres, computed in the graph from a
        grid of ones with CumSum as traced (the export does not fold it into a constant)."""
        b, s = self.b, EMBED_SIDE
        with b.scope("pe_layer"):
            ones = b.const(np.ones((s, s), np.float32))
            y = b.op("Div", [b.op("Sub", [b.op("CumSum", [ones, b.const(0, np.int64)]), b.const(0.5)]),
                             b.const(float(s))])
            x = b.op("Div", [b.op("Sub", [b.op("CumSum", [ones, b.const(1, np.int64)]), b.const(0.5)]),
                             b.const(float(s))])
            grid = b.op("Concat", [b.op("Unsqueeze", [x], axes=[-1]), b.op("Unsqueeze", [y], axes=[-1])],
                        axis=-1)
            pe = self.pe_encoding(grid, gaussian)  # [64, 64, 256]
            return b.op("Unsqueeze", [b.op("Transpose", [pe], perm=[2, 0, 1])], axes=[0])

    def embed_points(self, gaussian: str) -> str:
        """EdgeSAM's export wrapper `_embed_points` (no padding point appended):
        pe(coords + 0.5) zeroed where label == -1, plus not_a_point_embed there, plus
        point_embeddings[i] where label == i for i in 0..3."""
        b, init = self.b, self.init
        with b.scope("prompt_encoder"):
            c = b.op("Div", [b.op("Add", ["point_coords", b.const(0.5)]), b.const(float(IMAGE_SIZE))])
            pe = self.pe_encoding(c, gaussian)  # [1, N, 256]
            labels = b.op("Expand", [b.op("Unsqueeze", ["point_labels"], axes=[-1]),
                                     b.op("Shape", [pe])])  # expand_as
            is_pad = b.op("Equal", [labels, b.const(-1.0)])
            pe = b.op("Mul", [pe, b.op("Cast", [b.op("Not", [is_pad])], to=TensorProto.FLOAT)])
            not_a_point = b.param("not_a_point_embed.weight", init.normal((1, EMBED_DIM), 1.0))
            pe = b.op("Add", [pe, b.op("Mul", [not_a_point, b.op("Cast", [is_pad], to=TensorProto.FLOAT)])])
            for i in range(4):  # negative, positive, box top-left, box bottom-right
                emb = b.param(f"point_embeddings.{i}.weight", init.normal((1, EMBED_DIM), 1.0))
                hit = b.op("Cast", [b.op("Equal", [labels, b.const(float(i))])], to=TensorProto.FLOAT)
                pe = b.op("Add", [pe, b.op("Mul", [emb, hit])])
        return pe

    # ---- traced tensor plumbing ---------------------------------------------------------------
    def expand_batch(self, x: str, like: str) -> str:
        """`x.expand(like.size(0), -1, -1)`: torch writes the -1s through Where(size == -1, 1, size)."""
        b = self.b
        size = b.shape_of(b.dim(like, 0), -1, -1)
        ones = b.op("ConstantOfShape", [b.op("Shape", [size])],
                    value=numpy_helper.from_array(np.array([1], np.int64), "value"))
        neg_ones = b.op("Mul", [ones, b.const(-1, np.int64)])
        size = b.op("Where", [b.op("Equal", [size, neg_ones]), ones, size])
        return b.op("Expand", [x, size])

    def flatten_dims(self, x: str, start: int, end: int, rank: int) -> str:
        """torch.flatten(x, start, end) for a non-2-d result: Shape/Slice/Concat/Reshape."""
        b = self.b
        shape = b.op("Shape", [x])
        parts = [b.op("Slice", [shape, b.const([0], np.int64), b.const([start], np.int64),
                                b.const([0], np.int64)]),
                 b.const([-1], np.int64)]
        if end < rank - 1:
            parts.append(b.op("Slice", [shape, b.const([end + 1], np.int64), b.const([rank], np.int64),
                                        b.const([0], np.int64)]))
        return b.op("Reshape", [x, b.op("Concat", parts, axis=0)])

    def repeat_interleave_batch(self, x: str, repeats: str) -> str:
        """torch.repeat_interleave(x, repeats, dim=0) for a traced (non-constant) scalar repeats,
        as torch's opset-11 helper writes it: Unsqueeze, OneHot -> per-dim repeats, Tile, flatten."""
        b = self.b
        repeats = b.op("Reshape", [repeats, b.const([1], np.int64)])
        unsqueezed = b.op("Unsqueeze", [x], axes=[1])  # rank 5
        onehot = b.op("OneHot", [b.op("Unsqueeze", [b.const(1, np.int64)], axes=[0]),
                                 b.const(5, np.int64),
                                 b.op("Concat", [b.const([1], np.int64), repeats], axis=0)],
                      axis=-1)
        per_dim = self.flatten_dims(onehot, 0, 1, rank=2)
        tiled = b.op("Tile", [unsqueezed, per_dim])
        return self.flatten_dims(tiled, 0, 1, rank=5)

    # ---- transformer --------------------------------------------------------------------------
    def attention(self, q_in: str, k_in: str, v_in: str, internal: int) -> str:
        """SAM's Attention: projections, split into 8 heads, softmax(q k^T / sqrt(d)) v, merge, out."""
        b, init, e = self.b, self.init, EMBED_DIM
        wq = init.fan_in((internal, e), e, self.QK_GAIN)
        wk = self.QK_TIE * wq + math.sqrt(1 - self.QK_TIE ** 2) * init.fan_in((internal, e), e, self.QK_GAIN)
        with b.scope("q_proj"):
            q = linear(b, q_in, e, internal, init, weight=wq)
        with b.scope("k_proj"):
            k = linear(b, k_in, e, internal, init, weight=wk.astype(np.float32))
        with b.scope("v_proj"):
            v = linear(b, v_in, e, internal, init)
        q, k, v = (self.separate_heads(t) for t in (q, k, v))
        logits = b.op("MatMul", [q, b.op("Transpose", [k], perm=[0, 1, 3, 2])])
        logits = b.op("Div", [logits, b.const(math.sqrt(internal // NUM_HEADS))])
        attn = b.op("Softmax", [logits], axis=3)
        out = self.recombine_heads(b.op("MatMul", [attn, v]))
        with b.scope("out_proj"):
            return linear(b, out, internal, e, init, gain=self.OUT_GAIN)

    def separate_heads(self, x: str) -> str:
        b = self.b
        bs, n, c = b.dim(x, 0), b.dim(x, 1), b.dim(x, 2)
        per_head = b.op("Div", [c, b.const(NUM_HEADS, np.int64)])
        x = b.op("Reshape", [x, b.shape_of(bs, n, NUM_HEADS, per_head)])
        return b.op("Transpose", [x], perm=[0, 2, 1, 3])

    def recombine_heads(self, x: str) -> str:
        b = self.b
        bs, heads, n, per_head = (b.dim(x, i) for i in range(4))
        x = b.op("Transpose", [x], perm=[0, 2, 1, 3])
        return b.op("Reshape", [x, b.shape_of(bs, n, b.op("Mul", [heads, per_head]))])

    def mlp_block(self, x: str) -> str:
        b, e, h = self.b, EMBED_DIM, self.spec.mlp_dim
        with b.scope("lin1"):
            x = b.op("Relu", [linear(b, x, e, h, self.init, gain=math.sqrt(2.0))])
        with b.scope("lin2"):
            return linear(b, x, h, e, self.init)

    def two_way_block(self, queries: str, keys: str, query_pe: str, key_pe: str,
                      first: bool) -> Tuple[str, str]:
        b, spec, init = self.b, self.spec, self.init
        with b.scope("self_attn"):
            if first:  # skip_first_layer_pe: the first layer replaces the queries
                queries = self.attention(queries, queries, queries, spec.self_attn_dim)
            else:
                q = b.op("Add", [queries, query_pe])
                queries = b.op("Add", [queries, self.attention(q, q, queries, spec.self_attn_dim)])
        with b.scope("norm1"):
            queries = layernorm(b, queries, EMBED_DIM, init)
        with b.scope("cross_attn_token_to_image"):
            q, k = b.op("Add", [queries, query_pe]), b.op("Add", [keys, key_pe])
            queries = b.op("Add", [queries, self.attention(q, k, keys, spec.cross_attn_dim)])
        with b.scope("norm2"):
            queries = layernorm(b, queries, EMBED_DIM, init)
        with b.scope("mlp"):
            queries = b.op("Add", [queries, self.mlp_block(queries)])
        with b.scope("norm3"):
            queries = layernorm(b, queries, EMBED_DIM, init)
        with b.scope("cross_attn_image_to_token"):
            q, k = b.op("Add", [queries, query_pe]), b.op("Add", [keys, key_pe])
            keys = b.op("Add", [keys, self.attention(k, q, queries, spec.cross_attn_dim)])
        with b.scope("norm4"):
            keys = layernorm(b, keys, EMBED_DIM, init)
        return queries, keys

    def transformer(self, src: str, pos_src: str, tokens: str) -> Tuple[str, str]:
        """TwoWayTransformer: image BxCxHxW -> BxHWxC tokens, `depth` blocks, final token->image
        attention and LayerNorm. Returns (queries, keys)."""
        b = self.b
        keys = b.op("Transpose", [self.flatten_dims(src, 2, 3, rank=4)], perm=[0, 2, 1])
        key_pe = b.op("Transpose", [self.flatten_dims(pos_src, 2, 3, rank=4)], perm=[0, 2, 1])
        queries = tokens
        for i in range(self.spec.depth):
            with b.scope(f"layers.{i}"):
                queries, keys = self.two_way_block(queries, keys, tokens, key_pe, first=(i == 0))
        with b.scope("final_attn_token_to_image"):
            q, k = b.op("Add", [queries, tokens]), b.op("Add", [keys, key_pe])
            queries = b.op("Add", [queries, self.attention(q, k, keys, self.spec.cross_attn_dim)])
        with b.scope("norm_final_attn"):
            queries = layernorm(b, queries, EMBED_DIM, self.init)
        return queries, keys

    # ---- heads --------------------------------------------------------------------------------
    def mlp_head(self, x: str, dims: Sequence[int], last_gain: float, out: Optional[str] = None,
                 last_bias: float = 0.0) -> str:
        """SAM's MLP on a 2-d [1, C] input: Gemm/ReLU ... Gemm."""
        b = self.b
        for i in range(len(dims) - 1):
            last = i == len(dims) - 2
            with b.scope(f"layers.{i}"):
                if last:
                    w = self.init.fan_in((dims[i + 1], dims[i]), dims[i], last_gain)
                    bias = self.init.normal((dims[i + 1],), 0.02, mean=last_bias)
                    x = b.op("Gemm", [x, b.param("weight", w), b.param("bias", bias)],
                             alpha=1.0, beta=1.0, transB=1, out=out)
                else:
                    x = b.op("Relu", [linear(b, x, dims[i], dims[i + 1], self.init,
                                             gain=math.sqrt(2.0), rank=2)])
        return x

    def conv_transpose_weight(self, c_in: int, c_out: int, gain: float) -> np.ndarray:
        """A 2x2 stride-2 transposed conv kernel whose four taps are mostly shared: independent
        random taps would stamp a fixed 2x2 texture on every cell and speckle the masks, which
        trained upscalers do not do."""
        shared = self.init.fan_in((c_in, c_out, 1, 1), c_in, gain)
        taps = self.init.fan_in((c_in, c_out, 2, 2), c_in, gain)
        return (self.UPSCALE_TAP_SHARE * shared
                + math.sqrt(1 - self.UPSCALE_TAP_SHARE ** 2) * taps).astype(np.float32)

    def upscale(self, src: str) -> str:
        """output_upscaling: ConvT 2x2 s2, LayerNorm2d, GELU, ConvT 2x2 s2, GELU."""
        b, init = self.b, self.init
        c1, c2 = self.spec.upscale_dims
        with b.scope("output_upscaling.0"):
            w = self.conv_transpose_weight(EMBED_DIM, c1, 1.0)
            x = b.op("ConvTranspose", [src, b.param("weight", w), b.param("bias", init.normal((c1,), 0.02))],
                     dilations=[1, 1], group=1, kernel_shape=[2, 2], pads=[0, 0, 0, 0], strides=[2, 2])
        with b.scope("output_upscaling.1"):
            x = layernorm2d(b, x, layernorm2d_params(c1, init))
        x = gelu(b, x)
        with b.scope("output_upscaling.3"):
            w = self.conv_transpose_weight(c1, c2, 2.0)
            x = b.op("ConvTranspose", [x, b.param("weight", w), b.param("bias", init.normal((c2,), 0.02))],
                     dilations=[1, 1], group=1, kernel_shape=[2, 2], pads=[0, 0, 0, 0], strides=[2, 2])
        return gelu(b, x)

    def stability_scores(self, masks: str) -> str:
        """calculate_stability_score(masks, 0.0, 1.0): count logits above +1 and above -1 per mask,
        true division -> float. (SAM sums in int16 first; ReduceSum-11 has no int16 kernel in the
        ONNX spec, so the counts are int32 here; the result is identical for 256x256 masks.)"""
        b = self.b

        def count_above(threshold: float) -> str:
            above = b.op("Cast", [b.op("Greater", [masks, b.const(threshold)])], to=TensorProto.INT32)
            rows = b.op("ReduceSum", [above], axes=[-1], keepdims=0)
            total = b.op("ReduceSum", [rows], axes=[-1], keepdims=0)
            return b.op("Cast", [total], to=TensorProto.FLOAT)

        intersections = count_above(STABILITY_OFFSET)
        unions = count_above(-STABILITY_OFFSET)
        return b.op("Div", [intersections, unions], out="scores")

    # ---- the network --------------------------------------------------------------------------
    def build(self) -> onnx.ModelProto:
        b, init, spec = self.b, self.init, self.spec
        with b.scope("prompt_encoder.pe_layer"):
            gaussian = b.param("positional_encoding_gaussian_matrix",
                               init.normal((2, EMBED_DIM // 2), 1.0))
        sparse = self.embed_points(gaussian)
        image_pe = self.dense_pe(gaussian)

        with b.scope("prompt_encoder"):
            # Small, so that the image still dominates src (trained no_mask_embed is small too).
            no_mask = b.param("no_mask_embed.weight", init.normal((1, EMBED_DIM, 1, 1), 0.3))

        with b.scope("mask_decoder"):
            # cat([iou_token, mask_tokens]).unsqueeze(0), constant-folded by the exporter.
            output_tokens = b.param("output_tokens", init.normal((1, 1 + NUM_MASK_TOKENS, EMBED_DIM), 1.0))
            tokens = b.op("Concat", [self.expand_batch(output_tokens, sparse), sparse], axis=1)
            n_tokens_batch = b.dim(tokens, 0)
            src = self.repeat_interleave_batch("image_embeddings", n_tokens_batch)
            src = b.op("Add", [src, no_mask])
            pos_src = self.repeat_interleave_batch(image_pe, n_tokens_batch)
            bs, c, h, w = (b.dim(src, i) for i in range(4))

            with b.scope("transformer"):
                hs, keys = self.transformer(src, pos_src, tokens)
            mask_tokens_out = b.op("Slice", [hs, b.const([1], np.int64),
                                             b.const([1 + NUM_MASK_TOKENS], np.int64),
                                             b.const([1], np.int64), b.const([1], np.int64)])
            src = b.op("Reshape", [b.op("Transpose", [keys], perm=[0, 2, 1]), b.shape_of(bs, c, h, w)])
            upscaled = self.upscale(src)

            hyper = []
            for i in range(NUM_MASK_TOKENS):
                with b.scope(f"output_hypernetworks_mlps.{i}"):
                    token = b.op("Gather", [mask_tokens_out, b.const(i, np.int64)], axis=1)
                    dims = [EMBED_DIM, spec.hyper_hidden, spec.hyper_hidden, spec.upscale_dims[1]]
                    hyper.append(b.op("Unsqueeze", [self.mlp_head(token, dims, spec.hyper_gain)], axes=[1]))
            hyper_in = b.op("Concat", hyper, axis=1)  # torch.stack(dim=1)

            ub, uc, uh, uw = (b.dim(upscaled, i) for i in range(4))
            flat = b.op("Reshape", [upscaled, b.shape_of(ub, uc, b.op("Mul", [uh, uw]))])
            masks = b.op("Reshape", [b.op("MatMul", [hyper_in, flat]), b.shape_of(ub, -1, uh, uw)],
                         out="masks")

            if self.scores == "stability":
                scores_op = "Div"
                self.stability_scores(masks)
            else:
                scores_op = "Gemm"
                with b.scope("iou_prediction_head"):
                    iou_token_out = b.op("Gather", [hs, b.const(0, np.int64)], axis=1)
                    dims = [EMBED_DIM, spec.iou_hidden, spec.iou_hidden, NUM_MASK_TOKENS]
                    # Bias 0.8: IoU predictions of a trained head sit mostly in 0.6..1.0.
                    self.mlp_head(iou_token_out, dims, 0.1, out="scores", last_bias=0.8)

        inputs = [
            helper.make_tensor_value_info("image_embeddings", TensorProto.FLOAT,
                                          [1, EMBED_DIM, EMBED_SIDE, EMBED_SIDE]),
            helper.make_tensor_value_info("point_coords", TensorProto.FLOAT, [1, "num_points", 2]),
            helper.make_tensor_value_info("point_labels", TensorProto.FLOAT, [1, "num_points"]),
        ]
        # The official export declares its outputs with made-up symbolic dims named after the
        # producing op, not the real [1, 4] and [1, 4, 256, 256]: a loader must not trust them.
        outputs = [
            helper.make_tensor_value_info("scores", TensorProto.FLOAT,
                                          [f"{scores_op}scores_dim_{i}" for i in range(2)]),
            helper.make_tensor_value_info("masks", TensorProto.FLOAT,
                                          [f"Reshapemasks_dim_{i}" for i in range(4)]),
        ]
        kind = "stability-score" if self.scores == "stability" else "IoU-head"
        return make_model(b, inputs, outputs,
                          f"EdgeSAM prompt encoder + mask decoder STAND-IN ({kind} export, random "
                          f"weights, official interface)")


def build_decoder(size: str = "tiny", seed: int = 0, scores: str = "stability") -> onnx.ModelProto:
    return DecoderBuilder(SPECS[size][1], Init(seed, 2), scores).build()


# ================================================================================================
# Checks and output
# ================================================================================================
def check(model: onnx.ModelProto) -> None:
    """onnx.checker plus strict shape inference: the stand-ins must be valid, well-typed ONNX."""
    onnx.checker.check_model(model, full_check=False)
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)


def save_atomic(model: onnx.ModelProto, path: Path) -> None:
    """Write to a temporary file in the same folder, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide the models from other users/tools
        with os.fdopen(fd, "wb") as f:
            f.write(model.SerializeToString())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def generate(size: str, out_dir, seed: int = 0, scores: str = "stability",
             force: bool = False, verbose: bool = False) -> Tuple[Path, Path]:
    """Write the encoder and decoder stand-ins into out_dir (existing files are kept unless force).
    Returns (encoder_path, decoder_path)."""
    if size not in SPECS:
        raise ValueError(f"unknown size {size!r}; expected one of {sorted(SPECS)}")
    out_dir = Path(out_dir)
    jobs = [(out_dir / ENCODER_FILE, lambda: build_encoder(size, seed)),
            (out_dir / DECODER_FILE, lambda: build_decoder(size, seed, scores))]
    for path, build in jobs:
        if path.exists() and not force:
            if verbose:
                print(f"kept {path} (exists; --force to rebuild)")
            continue
        model = build()
        check(model)
        save_atomic(model, path)
        if verbose:
            print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return jobs[0][0], jobs[1][0]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SPECS), required=True)
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scores", choices=["stability", "iou"], default="stability",
                        help="decoder scores: stability (like the official file) or the IoU head")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    args = parser.parse_args(argv)
    generate(args.size, args.out, seed=args.seed, scores=args.scores, force=args.force,
             verbose=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
