"""Randomized one-op int16 graphs (the 16x8 scheme: int16 activations, int8 weights, int32 or
int64 bias) written with edgecraft's builder: shared by the runtime tests (tests/ops), the C
generator's host tests (tests/codegen) and the emulator tests (tests/emulate)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from movement_cases import padv2

ACTS = ["NONE", "NONE", "RELU", "RELU", "RELU6", "RELU_N1_TO_1"]


def _act(rng: np.random.Generator) -> str:
    return str(rng.choice(ACTS))


def _zp(rng: np.random.Generator) -> int:
    """Zero point 0 as the converter writes int16 tensors; now and then not (TFLM's int16
    conv kernels ignore it, its fully connected kernel uses it)."""
    return 0 if rng.random() < 0.8 else int(rng.integers(-300, 301))


def _bias(rng: np.random.Generator, g: GraphBuilder, n: int, scales: np.ndarray, dtype: str) -> int:
    big = 1 << 23
    return g.const("b", rng.integers(-big, big, n).astype(dtype), qparams(scales.astype(np.float32), 0))


def conv(rng: np.random.Generator, depthwise: bool = False, bias: str | None = None) -> Graph:
    """CONV_2D (grouped sometimes) or DEPTHWISE_CONV_2D 16x8; ``bias`` int32, int64 or "none"
    (default: drawn; depthwise: int64 or none)."""
    g = GraphBuilder("conv16")
    h, w = (int(v) for v in rng.integers(3, 9, 2))
    k_h, k_w = (int(v) for v in rng.integers(1, 4, 2))
    stride, dil = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    padding = str(rng.choice(["SAME", "VALID"]))
    if padding == "VALID":
        dil = 1
        h, w = max(h, k_h), max(w, k_w)
    in_c = int(rng.integers(1, 7))
    s_in = float(rng.uniform(1e-4, 1e-3))
    if bias is None:
        bias = str(rng.choice(["int64", "none"] if depthwise else ["int64", "int32", "none"]))
    if depthwise:
        mult = int(rng.integers(1, 3))
        out_c = in_c * mult
        wshape, axis, fan_in = (1, k_h, k_w, out_c), 3, k_h * k_w
    else:
        groups = int(rng.choice([1, 1, 2]))
        in_c_g = in_c
        in_c *= groups
        out_c = int(rng.integers(1, 5)) * groups
        wshape, axis, fan_in = (out_c, k_h, k_w, in_c_g), 0, k_h * k_w * in_c_g
    x = g.tensor("x", (1, h, w, in_c), "int16", qparams(s_in, _zp(rng)))
    per_channel = rng.random() < 0.7
    ws = rng.uniform(0.002, 0.02, out_c if per_channel else 1).astype(np.float32)
    wt = g.const("w", rng.integers(-127, 128, wshape).astype(np.int8), qparams(ws, 0, axis))
    inputs = [x, wt]
    if bias != "none":
        inputs.append(_bias(rng, g, out_c, np.broadcast_to(s_in * ws, (out_c,)), bias))
    eff_h, eff_w = (k_h - 1) * dil + 1, (k_w - 1) * dil + 1
    if padding == "SAME":
        oh, ow = -(-h // stride), -(-w // stride)
    else:
        oh, ow = (h - eff_h) // stride + 1, (w - eff_w) // stride + 1
    s_out = s_in * float(ws.mean()) * 127 * np.sqrt(fan_in) * float(rng.uniform(0.5, 4))
    y = g.tensor("y", (1, oh, ow, out_c), "int16", qparams(s_out, _zp(rng)))
    attrs = dict(padding=padding, stride_h=stride, stride_w=stride, dilation_h_factor=dil,
                 dilation_w_factor=dil, fused_activation_function=_act(rng))
    if depthwise:
        g.op("DEPTHWISE_CONV_2D", inputs, [y], depth_multiplier=out_c // in_c, **attrs)
    else:
        g.op("CONV_2D", inputs, [y], quantized_bias_type=int(rng.choice([0, 2])) if bias == "none" else 0,
             **attrs)
    return g.build([x], [y])


def depthwise(rng: np.random.Generator) -> Graph:
    return conv(rng, depthwise=True)


def fully_connected(rng: np.random.Generator, bias: str | None = None) -> Graph:
    """FULLY_CONNECTED 16x8, per tensor or per channel, int32/int64/no bias."""
    g = GraphBuilder("fc16")
    rows, depth, units = int(rng.integers(1, 4)), int(rng.integers(1, 48)), int(rng.integers(1, 12))
    s_in = float(rng.uniform(1e-4, 1e-3))
    x = g.tensor("x", (rows, depth), "int16", qparams(s_in, _zp(rng)))
    per_channel = rng.random() < 0.5
    ws = rng.uniform(0.002, 0.02, units if per_channel else 1).astype(np.float32)
    wt = g.const("w", rng.integers(-127, 128, (units, depth)).astype(np.int8), qparams(ws, 0))
    if bias is None:
        bias = str(rng.choice(["int64", "int32", "none"]))
    inputs = [x, wt]
    if bias != "none":
        inputs.append(_bias(rng, g, units, np.broadcast_to(s_in * ws, (units,)), bias))
    s_out = s_in * float(ws.mean()) * 127 * np.sqrt(depth) * float(rng.uniform(0.5, 4))
    y = g.tensor("y", (rows, units), "int16", qparams(s_out, _zp(rng)))
    g.op("FULLY_CONNECTED", inputs, [y], fused_activation_function=_act(rng), keep_num_dims=False,
         quantized_bias_type=int(rng.choice([0, 2])) if bias == "none" else 0)
    return g.build([x], [y])


def _q(rng: np.random.Generator, dtype: str):  # type: ignore[no-untyped-def]
    """Quantization typical of a tensor of ``dtype``: int16 (and int32) symmetric."""
    if dtype == "int8":
        return qparams(float(rng.uniform(0.01, 0.1)), int(rng.integers(-20, 21)))
    if dtype in ("int16", "int32"):
        return qparams(float(rng.uniform(1e-4, 1e-3)) * (1e-3 if dtype == "int32" else 1), _zp(rng))
    return None


def convert(rng: np.random.Generator, op: str, src: str, dst: str) -> Graph:
    """QUANTIZE ``src`` -> ``dst`` or DEQUANTIZE ``src`` -> float32."""
    g = GraphBuilder(f"{op.lower()}_{src}_{dst}")
    shape = tuple(int(v) for v in rng.integers(1, 6, int(rng.integers(1, 4))))
    x = g.tensor("x", shape, src, _q(rng, src))
    y = g.tensor("y", shape, dst, _q(rng, dst))
    g.op(op, [x], [y])
    return g.build([x], [y])


#: QUANTIZE type pairs with int16 on a side, and the float32 ones.
QUANTIZE_PAIRS = [("int8", "int16"), ("int16", "int8"), ("int16", "int16"), ("int16", "int32"),
                  ("int8", "int32"), ("float32", "int16"), ("float32", "int8")]

#: op name -> random int16 case builder.
INT16_CASES: dict[str, Callable[[np.random.Generator], Graph]] = {
    "CONV_2D": conv,
    "DEPTHWISE_CONV_2D": depthwise,
    "FULLY_CONNECTED": fully_connected,
    **{f"QUANTIZE_{a}_{b}": (lambda rng, a=a, b=b: convert(rng, "QUANTIZE", a, b))
       for a, b in QUANTIZE_PAIRS},
    "DEQUANTIZE": lambda rng: convert(rng, "DEQUANTIZE", "int16", "float32"),
}


def int16_inputs(graph: Graph, n: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` inputs per graph input over the whole of its type, batched: (n, *shape) each."""
    rng = np.random.default_rng(seed)
    out = []
    for t in graph.input_tensors():
        if t.dtype == "bool":
            out.append(rng.integers(0, 2, (n, *t.shape)).astype(bool))
            continue
        info = np.iinfo(t.np_dtype) if t.dtype != "float32" else None
        if info is None:  # float32: a few units, some beyond the int16 range once quantized
            out.append((rng.standard_normal((n, *t.shape)) * 3).astype(np.float32))
        else:
            out.append(rng.integers(int(info.min), int(info.max) + 1, (n, *t.shape)).astype(t.np_dtype))
    return out


def _conv_layer(rng: np.random.Generator, g: GraphBuilder, x: int, shape: tuple[int, ...], s_in: float,
                out_c: int, depthwise: bool, bias: str) -> tuple[int, tuple[int, ...], float]:
    """A 3x3 SAME 16x8 convolution on tensor ``x``: (output tensor, its shape, its scale)."""
    in_c = shape[3]
    wshape = (1, 3, 3, out_c) if depthwise else (out_c, 3, 3, in_c)
    fan_in = 9 if depthwise else 9 * in_c
    ws = rng.uniform(0.002, 0.02, out_c).astype(np.float32)
    w = g.const(f"w{len(g.tensors)}", rng.integers(-127, 128, wshape).astype(np.int8),
                qparams(ws, 0, 3 if depthwise else 0))
    b = _bias(rng, g, out_c, s_in * ws, bias)
    s_out = s_in * float(ws.mean()) * 127 * np.sqrt(fan_in) * 2
    out_shape = (*shape[:3], out_c)
    y = g.tensor(f"t{len(g.tensors)}", out_shape, "int16", qparams(s_out))
    attrs = dict(padding="SAME", stride_h=1, stride_w=1, fused_activation_function="RELU")
    if depthwise:
        g.op("DEPTHWISE_CONV_2D", [x, w, b], [y], depth_multiplier=out_c // in_c, **attrs)
    else:
        g.op("CONV_2D", [x, w, b], [y], **attrs)
    return y, out_shape, s_out


def int16_chain(seed: int) -> Graph:
    """A small int16 model: CONV_2D, DEPTHWISE_CONV_2D, RESHAPE, FULLY_CONNECTED (16x8), a
    QUANTIZE to int8 as a second output; for the host, QEMU and end-to-end tests."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("int16_chain")
    s_in = 2e-4
    x = g.tensor("x", (1, 6, 6, 2), "int16", qparams(s_in))
    t, shape, s = _conv_layer(rng, g, x, (1, 6, 6, 2), s_in, 4, False, "int64")
    t, shape, s = _conv_layer(rng, g, t, shape, s, 8, True, "int64")
    flat = int(np.prod(shape))
    r = g.tensor("flat", (1, flat), "int16", qparams(s))
    g.op("RESHAPE", [t, g.const("shape", np.array([1, flat], np.int32))], [r], new_shape=[1, flat])
    ws = rng.uniform(0.002, 0.02, 5).astype(np.float32)
    w = g.const("fc_w", rng.integers(-127, 128, (5, flat)).astype(np.int8), qparams(ws))
    b = _bias(rng, g, 5, s * ws, "int32")
    s_fc = s * float(ws.mean()) * 127 * np.sqrt(flat) / 4
    y = g.tensor("y", (1, 5), "int16", qparams(s_fc))
    g.op("FULLY_CONNECTED", [r, w, b], [y], fused_activation_function="NONE", keep_num_dims=False)
    y8 = g.tensor("y8", (1, 5), "int8", qparams(s_fc * 256, 3))
    g.op("QUANTIZE", [y], [y8])
    return g.build([x], [y, y8])


def softmax16(rng: np.random.Generator) -> Graph:
    g = GraphBuilder("softmax16")
    rows, depth = int(rng.integers(1, 4)), int(rng.integers(1, 40))
    x = g.tensor("x", (rows, depth), "int16", qparams(float(rng.uniform(1e-4, 2e-3))))
    y = g.tensor("y", (rows, depth), "int16", qparams(1 / 32768))
    g.op("SOFTMAX", [x], [y], beta=float(rng.choice([1.0, 0.5, 2.0])))
    return g.build([x], [y])


def lut_op(rng: np.random.Generator, op: str) -> Graph:
    """LOGISTIC or TANH int16: input scale a power of two (TFLM's fast case) or not."""
    g = GraphBuilder(op.lower())
    shape = (1, int(rng.integers(1, 60)))
    pot = [2.0**-12] + ([2.0**-11] if op == "TANH" else [])
    s_in = float(rng.choice(pot)) if rng.random() < 0.4 else float(rng.uniform(5e-5, 2e-3))
    x = g.tensor("x", shape, "int16", qparams(s_in))
    y = g.tensor("y", shape, "int16", qparams(2.0**-15))
    g.op(op, [x], [y])
    return g.build([x], [y])


INT16_CASES.update({
    "SOFTMAX": softmax16,
    "LOGISTIC": lambda rng: lut_op(rng, "LOGISTIC"),
    "TANH": lambda rng: lut_op(rng, "TANH"),
})


def binary16(rng: np.random.Generator, op: str) -> Graph:
    """ADD, SUB, MUL, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE int16 with broadcasting, zero points
    0 (TFLM's int16 kernels require them)."""
    g = GraphBuilder(op.lower() + "16")
    shape = tuple(int(v) for v in rng.integers(1, 5, int(rng.integers(1, 5))))
    other = tuple(d if rng.random() < 0.6 else 1 for d in shape)[int(rng.integers(0, len(shape))):]
    a_shape, b_shape = (shape, other) if rng.random() < 0.5 else (other, shape)
    s1, s2 = (float(np.exp(rng.uniform(np.log(2e-4), np.log(2e-2)))) for _ in range(2))
    if op == "MUL":
        s_out = s1 * s2 * 32767 * float(rng.uniform(0.05, 0.6))
    elif op in ("ADD", "SUB"):
        s_out = max(s1, s2) * float(rng.uniform(0.6, 2.5))
    elif op == "SQUARED_DIFFERENCE":
        s_out = max(s1, s2) ** 2 * float(rng.uniform(3e3, 3e4))
    else:
        s_out = s1 = s2
    a = g.tensor("a", a_shape, "int16", qparams(s1))
    b = g.tensor("b", b_shape, "int16", qparams(s2))
    y = g.tensor("y", shape, "int16", qparams(s_out))
    attrs = {"fused_activation_function": _act(rng)} if op in ("ADD", "SUB", "MUL") else {}
    g.op(op, [a, b], [y], **attrs)
    return g.build([a, b], [y])


def pool16(rng: np.random.Generator, op: str) -> Graph:
    g = GraphBuilder(op.lower() + "16")
    h, w, c = int(rng.integers(2, 9)), int(rng.integers(2, 9)), int(rng.integers(1, 6))
    fh, fw = int(rng.integers(1, min(h, 3) + 1)), int(rng.integers(1, min(w, 3) + 1))
    stride = int(rng.integers(1, 3))
    padding = str(rng.choice(["SAME", "VALID"]))
    oh = -(-h // stride) if padding == "SAME" else (h - fh) // stride + 1
    ow = -(-w // stride) if padding == "SAME" else (w - fw) // stride + 1
    q = qparams(float(rng.uniform(1e-4, 1e-3)), _zp(rng))
    x = g.tensor("x", (1, h, w, c), "int16", q)
    y = g.tensor("y", (1, oh, ow, c), "int16", q)
    g.op(op, [x], [y], padding=padding, stride_h=stride, stride_w=stride, filter_height=fh,
         filter_width=fw, fused_activation_function=_act(rng))
    return g.build([x], [y])


INT16_CASES.update({
    **{op: (lambda rng, op=op: binary16(rng, op))
       for op in ("ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE")},
    **{op: (lambda rng, op=op: pool16(rng, op)) for op in ("AVERAGE_POOL_2D", "MAX_POOL_2D")},
})


def int16_chain2(seed: int) -> Graph:
    """Every other int16 kernel with C in one graph: ADD, MUL, AVERAGE_POOL_2D, MAX_POOL_2D,
    TANH, LOGISTIC, MAXIMUM, MINIMUM, SUB, SQUARED_DIFFERENCE, RESHAPE, SOFTMAX."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("int16_chain2")
    s0 = 2.0**-12
    x = g.tensor("x", (1, 4, 4, 3), "int16", qparams(s0))
    z = g.tensor("z", (1, 1, 4, 3), "int16", qparams(float(rng.uniform(2e-4, 4e-4))))

    def t(name: str, shape: tuple[int, ...], scale: float) -> int:
        return g.tensor(name, shape, "int16", qparams(scale))

    a = t("a", (1, 4, 4, 3), 2.0**-11)
    g.op("ADD", [x, z], [a], fused_activation_function="NONE")
    m = t("m", (1, 4, 4, 3), 2.0**-11 * s0 * 32767 / 4)
    g.op("MUL", [a, x], [m], fused_activation_function="NONE")
    pool = dict(padding="VALID", stride_h=2, stride_w=2, filter_height=2, filter_width=2,
                fused_activation_function="NONE")
    p1 = t("p1", (1, 2, 2, 3), g.tensors[m].quant.scale[0])  # type: ignore[union-attr]
    g.op("AVERAGE_POOL_2D", [m], [p1], **pool)
    p2 = t("p2", (1, 2, 2, 3), 2.0**-11)
    g.op("MAX_POOL_2D", [a], [p2], **pool)
    th = t("th", (1, 2, 2, 3), 2.0**-15)
    g.op("TANH", [p1], [th])
    lg = t("lg", (1, 2, 2, 3), 2.0**-15)
    g.op("LOGISTIC", [p2], [lg])
    mx, mn = t("mx", (1, 2, 2, 3), 2.0**-15), t("mn", (1, 2, 2, 3), 2.0**-15)
    g.op("MAXIMUM", [th, lg], [mx])
    g.op("MINIMUM", [th, lg], [mn])
    d = t("d", (1, 2, 2, 3), 2.0**-14)
    g.op("SUB", [mx, mn], [d], fused_activation_function="NONE")
    sq = t("sq", (1, 2, 2, 3), 2.0**-13)
    g.op("SQUARED_DIFFERENCE", [th, lg], [sq])
    r = t("r", (1, 12), 2.0**-14)
    g.op("RESHAPE", [d, g.const("shape", np.array([1, 12], np.int32))], [r], new_shape=[1, 12])
    sm = t("sm", (1, 12), 1 / 32768)
    g.op("SOFTMAX", [r], [sm], beta=1.0)
    return g.build([x, z], [sm, sq])


def pad16(rng: np.random.Generator, dtype: str = "int16") -> Graph:
    """PAD without a pad value: TFLM pads int16 and int32 with 0 whatever the zero point."""
    g = GraphBuilder("pad16")
    shape = tuple(int(v) for v in rng.integers(1, 5, int(rng.integers(1, 5))))
    pads = rng.integers(0, 3, (len(shape), 2)).astype(np.int32)
    q = _q(rng, dtype)
    x = g.tensor("x", shape, dtype, q)
    y = g.tensor("y", tuple(int(d + a + b) for d, (a, b) in zip(shape, pads, strict=True)), dtype, q)
    g.op("PAD", [x, g.const("paddings", pads)], [y])
    return g.build([x], [y])


def reduce16(rng: np.random.Generator, op: str) -> Graph:
    """MEAN or SUM int16 over one or two of axes 1..3."""
    g = GraphBuilder(op.lower() + "16")
    shape = (1, *(int(v) for v in rng.integers(1, 6, 3)))
    axes = sorted(int(a) for a in rng.choice([1, 2, 3], int(rng.integers(1, 3)), replace=False))
    keep = bool(rng.integers(0, 2))
    out = tuple(1 if i in axes else d for i, d in enumerate(shape)) if keep else tuple(
        d for i, d in enumerate(shape) if i not in axes)
    s_in = float(rng.uniform(1e-4, 1e-3))
    count = int(np.prod([shape[a] for a in axes]))
    s_out = s_in * float(rng.uniform(0.5, 2)) * (np.sqrt(count) if op == "SUM" else 1)
    x = g.tensor("x", shape, "int16", qparams(s_in, _zp(rng)))
    y = g.tensor("y", out, "int16", qparams(s_out, _zp(rng)))
    g.op(op, [x, g.const("axes", np.array(axes, np.int32))], [y], keep_dims=keep)
    return g.build([x], [y])


def unary16(rng: np.random.Generator, op: str) -> Graph:
    """RELU, RELU6, LEAKY_RELU, ABS int16 (zero points 0 where TFLM requires them)."""
    g = GraphBuilder(op.lower() + "16")
    shape = (1, int(rng.integers(1, 60)))
    s_in = float(rng.uniform(1e-4, 1e-3))
    s_out = s_in if op == "RELU6" else s_in * float(rng.uniform(0.5, 2))
    zp_in = _zp(rng) if op == "RELU6" else 0
    zp_out = zp_in
    x = g.tensor("x", shape, "int16", qparams(s_in, zp_in))
    y = g.tensor("y", shape, "int16", qparams(s_out, zp_out))
    attrs = {"alpha": float(rng.uniform(-0.5, 0.9))} if op == "LEAKY_RELU" else {}
    g.op(op, [x], [y], **attrs)
    return g.build([x], [y])


INT16_CASES.update({
    "PAD": pad16,
    "PAD_int32": lambda rng: pad16(rng, "int32"),
    "MEAN": lambda rng: reduce16(rng, "MEAN"),
    "SUM": lambda rng: reduce16(rng, "SUM"),
    **{op: (lambda rng, op=op: unary16(rng, op)) for op in ("RELU", "RELU6", "LEAKY_RELU", "ABS")},
})


INT16_CASES.update({
    "PAD_float32": lambda rng: pad16(rng, "float32"),
    **{f"PADV2_{dtype}": (lambda rng, dtype=dtype: padv2(rng, dtype))
       for dtype in ("int16", "int32", "float32")},
})


def int16_chain3(seed: int) -> Graph:
    """The int16 data and activation kernels with C in one graph: PAD, RELU, RELU6, LEAKY_RELU,
    ABS, MEAN, SUM."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("int16_chain3")
    s = float(rng.uniform(2e-4, 4e-4))

    def t(name: str, shape: tuple[int, ...], scale: float, zp: int = 0) -> int:
        return g.tensor(name, shape, "int16", qparams(scale, zp))

    x = t("x", (1, 3, 4, 2), s)
    pd = t("pd", (1, 5, 5, 2), s)
    g.op("PAD", [x, g.const("paddings", np.array([[0, 0], [1, 1], [0, 1], [0, 0]], np.int32))], [pd])
    r = t("r", (1, 5, 5, 2), s * 1.3)
    g.op("RELU", [pd], [r])
    r6 = t("r6", (1, 5, 5, 2), s * 1.3)
    g.op("RELU6", [r], [r6])
    lk = t("lk", (1, 5, 5, 2), s * 0.7)
    g.op("LEAKY_RELU", [pd], [lk], alpha=0.3)
    ab = t("ab", (1, 5, 5, 2), s * 1.1)
    g.op("ABS", [lk], [ab])
    mn = t("mn", (1, 2), s * 0.5, 5)
    g.op("MEAN", [r6, g.const("axes", np.array([1, 2], np.int32))], [mn], keep_dims=False)
    sm = t("sm", (1, 1, 1, 2), s * 6)
    g.op("SUM", [ab, g.const("axes2", np.array([1, 2], np.int32))], [sm], keep_dims=True)
    return g.build([x], [mn, sm])


def int16_model(seed: int) -> Graph:
    """A small 16x8 classifier as a converter writes one, float in and out: QUANTIZE to int16,
    CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, RESHAPE, FULLY_CONNECTED, SOFTMAX, DEQUANTIZE."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("int16_model")
    s_in = 1 / 8192
    xf = g.tensor("input", (1, 8, 8, 1), "float32")
    x = g.tensor("input_q", (1, 8, 8, 1), "int16", qparams(s_in))
    g.op("QUANTIZE", [xf], [x])
    t, shape, s = _conv_layer(rng, g, x, (1, 8, 8, 1), s_in, 4, False, "int64")
    t, shape, s = _conv_layer(rng, g, t, shape, s, 4, True, "int64")
    p = g.tensor("pool", (1, 4, 4, 4), "int16", qparams(s))
    g.op("AVERAGE_POOL_2D", [t], [p], padding="VALID", stride_h=2, stride_w=2, filter_height=2,
         filter_width=2, fused_activation_function="NONE")
    r = g.tensor("flat", (1, 64), "int16", qparams(s))
    g.op("RESHAPE", [p, g.const("shape", np.array([1, 64], np.int32))], [r], new_shape=[1, 64])
    # logits of a few units: 64 terms of |w| ~ 73 times pooled values ~ 5000 steps of s
    ws = (rng.uniform(0.5, 2, 6) * 2 / (8 * 73 * 5000 * s)).astype(np.float32)
    w = g.const("fc_w", rng.integers(-127, 128, (6, 64)).astype(np.int8), qparams(ws))
    b = _bias(rng, g, 6, s * ws, "int64")
    s_fc = 8 / 32767
    logits = g.tensor("logits", (1, 6), "int16", qparams(s_fc))
    g.op("FULLY_CONNECTED", [r, w, b], [logits], fused_activation_function="NONE", keep_num_dims=False)
    probs = g.tensor("probs", (1, 6), "int16", qparams(1 / 32768))
    g.op("SOFTMAX", [logits], [probs], beta=1.0)
    out = g.tensor("output", (1, 6), "float32")
    g.op("DEQUANTIZE", [probs], [out])
    return g.build([xf], [out])


def select16(rng: np.random.Generator, dtype: str) -> Graph:
    """SELECT_V2 with the condition, x and y broadcast together."""
    g = GraphBuilder("select")
    shape = tuple(int(v) for v in rng.integers(1, 5, int(rng.integers(1, 5))))

    def part() -> tuple[int, ...]:
        return tuple(d if rng.random() < 0.6 else 1 for d in shape)[int(rng.integers(0, len(shape))):]

    q = _q(rng, dtype)
    c = g.tensor("c", part(), "bool")
    x = g.tensor("x", part(), dtype, q)
    y = g.tensor("y", shape, dtype, q)
    out = g.tensor("out", shape, dtype, q)
    g.op("SELECT_V2", [c, x, y], [out])
    return g.build([c, x, y], [out])


def cast16(rng: np.random.Generator, src: str, dst: str) -> Graph:
    g = GraphBuilder("cast")
    shape = tuple(int(v) for v in rng.integers(1, 6, 2))
    x = g.tensor("x", shape, src)
    y = g.tensor("y", shape, dst)
    g.op("CAST", [x], [y])
    return g.build([x], [y])


INT16_CASES.update({
    **{f"SELECT_V2_{d}": (lambda rng, d=d: select16(rng, d)) for d in ("int16", "int8", "float32")},
    **{f"CAST_{a}_{b}": (lambda rng, a=a, b=b: cast16(rng, a, b))
       for a in ("int8", "int16", "int32", "float32", "bool") for b in ("int8", "int16", "int32", "float32")
       if a != b},
})


def int16_chain4(seed: int) -> Graph:
    """SELECT_V2, CAST, PRELU and BATCH_MATMUL in C: int16 values selected, cast to int32, float32, int32
    again and int8 (wrapping; a float out of int8's range would be undefined in C), and PRELU."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("int16_chain4")
    q = qparams(float(rng.uniform(1e-4, 1e-3)))
    c = g.tensor("c", (2, 3), "bool")
    x = g.tensor("x", (1, 3), "int16", q)
    y = g.tensor("y", (2, 3), "int16", q)
    s = g.tensor("s", (2, 3), "int16", q)
    g.op("SELECT_V2", [c, x, y], [s])
    i32 = g.tensor("i32", (2, 3), "int32")
    g.op("CAST", [s], [i32])
    f = g.tensor("f", (2, 3), "float32")
    g.op("CAST", [i32], [f])
    back = g.tensor("back", (2, 3), "int32")
    g.op("CAST", [f], [back])
    i8 = g.tensor("i8", (2, 3), "int8")
    g.op("CAST", [back], [i8])
    alpha = g.const("alpha", rng.integers(-128, 128, (3,)).astype(np.int8), qparams(0.01, 2))
    pr = g.tensor("pr", (2, 3), "int16", qparams(float(q.scale[0]) * 1.5))
    g.op("PRELU", [s, alpha], [pr])
    w = g.const("w", rng.integers(-32768, 32768, (3, 4)).astype(np.int16), qparams(1e-3))
    bm = g.tensor("bm", (2, 4), "int16", qparams(float(q.scale[0]) * 1e-3 * 32767 * 2))
    g.op("BATCH_MATMUL", [s, w], [bm], adj_x=False, adj_y=False, asymmetric_quantize_inputs=False)
    return g.build([c, x, y], [f, i8, pr, bm])


def prelu16(rng: np.random.Generator, dtype: str) -> Graph:
    """PRELU int8 or int16 with a constant int8 alpha broadcast over the trailing dimensions."""
    g = GraphBuilder("prelu")
    shape = tuple(int(d) for d in rng.integers(1, 5, 4))
    a_shape = shape[int(rng.integers(1, 4)):]
    zp = 0 if dtype == "int16" else int(rng.integers(-20, 20))
    x = g.tensor("x", shape, dtype, qparams(float(rng.uniform(0.01, 0.1)), zp))
    a = g.const("alpha", rng.integers(-128, 128, a_shape).astype(np.int8),
                qparams(float(rng.uniform(0.002, 0.02)), int(rng.integers(-5, 6))))
    y = g.tensor("y", shape, dtype, qparams(float(rng.uniform(0.01, 0.1)), zp))
    g.op("PRELU", [x, a], [y])
    return g.build([x], [y])


INT16_CASES.update({f"PRELU_{d}": (lambda rng, d=d: prelu16(rng, d)) for d in ("int16", "int8")})


def batch_matmul16(rng: np.random.Generator) -> Graph:
    """BATCH_MATMUL int16 x int16 (zero points 0), batches broadcast, adj_y either way (the C
    kernel takes adj_x false)."""
    g = GraphBuilder("batch_matmul16")
    heads, rows, depth, cols = (int(v) for v in rng.integers(1, 6, 4))
    adj_y = bool(rng.integers(0, 2))
    sl, sr = float(rng.uniform(1e-4, 1e-3)), float(rng.uniform(1e-4, 1e-3))
    lhs = g.tensor("lhs", (1, heads, rows, depth), "int16", qparams(sl))
    rhs_shape = (heads, cols, depth) if adj_y else (heads, depth, cols)
    if rng.random() < 0.3:
        rhs_shape = (1, *rhs_shape[1:])
    rhs = g.tensor("rhs", rhs_shape, "int16", qparams(sr))
    y = g.tensor("y", (1, heads, rows, cols), "int16",
                 qparams(sl * sr * 32767 * np.sqrt(depth) * float(rng.uniform(0.5, 2))))
    g.op("BATCH_MATMUL", [lhs, rhs], [y], adj_x=False, adj_y=adj_y, asymmetric_quantize_inputs=False)
    return g.build([lhs, rhs], [y])


INT16_CASES["BATCH_MATMUL"] = batch_matmul16
