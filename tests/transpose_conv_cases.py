"""One-op TRANSPOSE_CONV models (int8, int16 16x8, float32) with random shapes, strides, padding,
activations and per-channel or per-tensor filter scales, for the ops, C and QEMU tests."""

from __future__ import annotations

import numpy as np

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


def transpose_conv_graph(rng: np.random.Generator, dtype: str = "int8", bias: bool = True,
                         per_channel: bool = True, shape_input: bool = False) -> Graph:
    """A random TRANSPOSE_CONV: output = about stride x input, SAME or VALID padding.
    ``shape_input``: the output shape is the model's second input (fed at run time, as in
    TFLM's SEANet integration models) instead of a constant."""
    b = GraphBuilder("tconv")
    n = int(rng.integers(1, 3))
    in_h, in_w = (int(v) for v in rng.integers(1, 6, 2))
    k_h, k_w = (int(v) for v in rng.integers(1, 4, 2))
    s_h, s_w = (int(v) for v in rng.integers(1, 3, 2))
    in_c, out_c = (int(v) for v in rng.integers(1, 6, 2))
    padding = str(rng.choice(["SAME", "VALID"]))
    if padding == "SAME":
        out_h, out_w = in_h * s_h, in_w * s_w
    else:
        out_h, out_w = (in_h - 1) * s_h + k_h, (in_w - 1) * s_w + k_w
    act = str(rng.choice(ACTS)) if dtype != "int16" else str(rng.choice(["NONE", "RELU"]))
    dims = (b.tensor("output_shape", (4,), "int32") if shape_input
            else b.const("output_shape", np.array([n, out_h, out_w, out_c], np.int32)))
    real_w = rng.uniform(-1, 1, size=(out_c, k_h, k_w, in_c)).astype(np.float32)
    if dtype == "float32":
        x = b.tensor("x", (n, in_h, in_w, in_c), "float32")
        w = b.const("w", real_w)
        ins = [dims, w, x]
        if bias:
            ins.append(b.const("b", rng.uniform(-1, 1, out_c).astype(np.float32)))
        y = b.tensor("y", (n, out_h, out_w, out_c), "float32")
    else:
        x_scale = float(rng.uniform(0.01, 0.1)) / (256 if dtype == "int16" else 1)
        x_zp = int(rng.integers(-20, 21)) if dtype == "int8" else 0
        x = b.tensor("x", (n, in_h, in_w, in_c), dtype, qparams(x_scale, x_zp))
        scales = (np.abs(real_w).reshape(out_c, -1).max(axis=1) / 127 if per_channel
                  else np.array([np.abs(real_w).max() / 127]))
        q = np.clip(np.round(real_w / scales.reshape(-1, 1, 1, 1)), -127, 127).astype(np.int8)
        w = b.const("w", q, qparams(scales, 0, axis=0))
        ins = [dims, w, x]
        if bias:
            bias_type = np.int32 if dtype == "int8" else np.int64
            bscale = x_scale * np.broadcast_to(scales, (out_c,))
            values = np.round(rng.uniform(-1, 1, out_c) / bscale).astype(bias_type)
            ins.append(b.const("b", values, qparams(bscale, 0)))
        y_scale = x_scale * float(rng.uniform(1, 6)) * np.sqrt(k_h * k_w * in_c) / 4
        y_zp = int(rng.integers(-20, 21)) if dtype == "int8" else 0
        y = b.tensor("y", (n, out_h, out_w, out_c), dtype, qparams(y_scale, y_zp))
    b.op("TRANSPOSE_CONV", ins, [y], padding=padding, stride_h=s_h, stride_w=s_w,
         fused_activation_function=act)
    return b.build([x, dims] if shape_input else [x], [y])


def random_input(rng: np.random.Generator, graph: Graph) -> np.ndarray:
    t = graph.input_tensors()[0]
    if t.dtype == "float32":
        return rng.standard_normal(t.shape).astype(np.float32)
    info = np.iinfo(t.np_dtype)
    return rng.integers(info.min, info.max + 1, size=t.shape).astype(t.np_dtype)
