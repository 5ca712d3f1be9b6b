"""Randomized one-op int8 graphs for every op the C generator supports (shared by the codegen
and emulate tests): the same cases run through the Python runtime, TFLM, the host C library and
the emulated boards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.ops.base import OpContext
from edgecraft.ops.strided_slice import slice_spec
from movement_cases import MOVEMENT_CASES
from oracle import check_tensor

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


def _act(rng: np.random.Generator) -> str:
    return str(rng.choice(ACTS))


def _scale(rng: np.random.Generator, lo: float = 0.01, hi: float = 0.1) -> float:
    return float(rng.uniform(lo, hi))


def _zp(rng: np.random.Generator) -> int:
    return int(rng.integers(-20, 21))


def conv(rng: np.random.Generator, depthwise: bool = False) -> Graph:
    g = GraphBuilder("conv")
    h, w = (int(v) for v in rng.integers(3, 10, 2))
    k_h, k_w = (int(v) for v in rng.integers(1, 4, 2))
    stride, dil = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    padding = str(rng.choice(["SAME", "VALID"]))
    if padding == "VALID":
        dil = 1
        h, w = max(h, k_h), max(w, k_w)
    in_c = int(rng.integers(1, 9))
    s_in = _scale(rng)
    x = g.tensor("x", (1, h, w, in_c), "int8", qparams(s_in, _zp(rng)))
    if depthwise:
        mult = int(rng.integers(1, 3))
        out_c = in_c * mult
        wshape, axis, fan_in = (1, k_h, k_w, out_c), 3, k_h * k_w
    else:
        groups = int(rng.choice([1, 1, 2]))
        in_c_g = in_c
        in_c *= groups
        g.tensors[x].shape = (1, h, w, in_c)
        out_c = int(rng.integers(1, 5)) * groups
        wshape, axis, fan_in = (out_c, k_h, k_w, in_c_g), 0, k_h * k_w * in_c_g
    ws = rng.uniform(0.002, 0.02, out_c).astype(np.float32)
    wt = g.const("w", rng.integers(-127, 128, wshape).astype(np.int8), qparams(ws, 0, axis))
    b = g.const("b", rng.integers(-3000, 3000, out_c).astype(np.int32), qparams(s_in * ws, 0))
    eff_h, eff_w = (k_h - 1) * dil + 1, (k_w - 1) * dil + 1
    if padding == "SAME":
        oh, ow = -(-h // stride), -(-w // stride)
    else:
        oh, ow = (h - eff_h) // stride + 1, (w - eff_w) // stride + 1
    s_out = s_in * float(ws.mean()) * 127 * np.sqrt(fan_in) / 16
    y = g.tensor("y", (1, oh, ow, out_c), "int8", qparams(s_out, _zp(rng)))
    attrs = dict(padding=padding, stride_h=stride, stride_w=stride, dilation_h_factor=dil,
                 dilation_w_factor=dil, fused_activation_function=_act(rng))
    if depthwise:
        g.op("DEPTHWISE_CONV_2D", [x, wt, b], [y], depth_multiplier=out_c // in_c, **attrs)
    else:
        g.op("CONV_2D", [x, wt, b], [y], **attrs)
    return g.build([x], [y])


def depthwise(rng: np.random.Generator) -> Graph:
    return conv(rng, depthwise=True)


def fully_connected(rng: np.random.Generator) -> Graph:
    g = GraphBuilder("fc")
    rows, depth, units = int(rng.integers(1, 4)), int(rng.integers(1, 40)), int(rng.integers(1, 12))
    s_in = _scale(rng)
    x = g.tensor("x", (rows, depth), "int8", qparams(s_in, _zp(rng)))
    per_channel = bool(rng.integers(0, 2))
    ws = rng.uniform(0.002, 0.02, units if per_channel else 1).astype(np.float32)
    wt = g.const("w", rng.integers(-127, 128, (units, depth)).astype(np.int8), qparams(ws, 0))
    bias = rng.integers(-3000, 3000, units).astype(np.int32)
    b = g.const("b", bias, qparams(np.broadcast_to(s_in * ws, (units,)).copy(), 0))
    s_out = s_in * float(ws.mean()) * 127 * np.sqrt(depth) / 16
    y = g.tensor("y", (rows, units), "int8", qparams(s_out, _zp(rng)))
    g.op("FULLY_CONNECTED", [x, wt, b], [y], fused_activation_function=_act(rng), keep_num_dims=False)
    return g.build([x], [y])


def pool(rng: np.random.Generator, op: str = "AVERAGE_POOL_2D") -> Graph:
    g = GraphBuilder("pool")
    h, w, c = int(rng.integers(2, 9)), int(rng.integers(2, 9)), int(rng.integers(1, 6))
    fh, fw = int(rng.integers(1, min(h, 3) + 1)), int(rng.integers(1, min(w, 3) + 1))
    stride = int(rng.integers(1, 3))
    padding = str(rng.choice(["SAME", "VALID"]))
    oh = -(-h // stride) if padding == "SAME" else (h - fh) // stride + 1
    ow = -(-w // stride) if padding == "SAME" else (w - fw) // stride + 1
    q = qparams(_scale(rng), _zp(rng))
    x = g.tensor("x", (1, h, w, c), "int8", q)
    y = g.tensor("y", (1, oh, ow, c), "int8", q)
    g.op(op, [x], [y], padding=padding, stride_h=stride, stride_w=stride, filter_height=fh,
         filter_width=fw, fused_activation_function=_act(rng))
    return g.build([x], [y])


def max_pool(rng: np.random.Generator) -> Graph:
    return pool(rng, "MAX_POOL_2D")


def softmax(rng: np.random.Generator, out: str = "int8") -> Graph:
    """int8 in, int8 (scale 1/256) or int16 (scale 1/65536) out."""
    g = GraphBuilder("softmax")
    rows, depth = int(rng.integers(1, 4)), int(rng.integers(2, 20))
    x = g.tensor("x", (rows, depth), "int8", qparams(_scale(rng, 0.02, 0.3), _zp(rng)))
    y = (g.tensor("y", (rows, depth), "int8", qparams(1 / 256, -128)) if out == "int8"
         else g.tensor("y", (rows, depth), "int16", qparams(1 / 65536, -32768)))
    g.op("SOFTMAX", [x], [y], beta=1.0)
    return g.build([x], [y])


def binary(rng: np.random.Generator, op: str = "ADD") -> Graph:
    g = GraphBuilder(op.lower())
    shape = tuple(int(v) for v in rng.integers(1, 5, int(rng.integers(1, 5))))
    other = tuple(d if rng.random() < 0.6 else 1 for d in shape)[int(rng.integers(0, len(shape))):]
    a_shape, b_shape = (shape, other) if rng.random() < 0.5 else (other, shape)
    a = g.tensor("a", a_shape, "int8", qparams(_scale(rng), _zp(rng)))
    b = g.tensor("b", b_shape, "int8", qparams(_scale(rng), _zp(rng)))
    s_out = _scale(rng, 0.02, 0.2) if op != "MUL" else _scale(rng, 0.001, 0.01)
    y = g.tensor("y", shape, "int8", qparams(s_out, _zp(rng)))
    g.op(op, [a, b], [y], fused_activation_function=_act(rng))
    return g.build([a, b], [y])


def sub(rng: np.random.Generator) -> Graph:
    return binary(rng, "SUB")


def mul(rng: np.random.Generator) -> Graph:
    return binary(rng, "MUL")


def pad(rng: np.random.Generator) -> Graph:
    g = GraphBuilder("pad")
    shape = tuple(int(v) for v in rng.integers(1, 5, int(rng.integers(1, 5))))
    pads = rng.integers(0, 3, (len(shape), 2)).astype(np.int32)
    q = qparams(_scale(rng), _zp(rng))
    x = g.tensor("x", shape, "int8", q)
    p = g.const("paddings", pads)
    y = g.tensor("y", tuple(int(d + a + b) for d, (a, b) in zip(shape, pads, strict=True)), "int8", q)
    g.op("PAD", [x, p], [y])
    return g.build([x], [y])


def mean(rng: np.random.Generator) -> Graph:
    g = GraphBuilder("mean")
    shape = (1, int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(1, 6)))
    axes = sorted(int(a) for a in rng.choice([1, 2, 3], int(rng.integers(1, 3)), replace=False))
    keep = bool(rng.integers(0, 2))
    out = tuple(1 if i in axes else d for i, d in enumerate(shape)) if keep else tuple(
        d for i, d in enumerate(shape) if i not in axes)
    x = g.tensor("x", shape, "int8", qparams(_scale(rng), _zp(rng)))
    ax = g.const("axes", np.array(axes, np.int32))
    y = g.tensor("y", out, "int8", qparams(_scale(rng), _zp(rng)))
    g.op("MEAN", [x, ax], [y], keep_dims=keep)
    return g.build([x], [y])


def quantize(rng: np.random.Generator) -> Graph:
    g = GraphBuilder("requantize")
    shape = (1, int(rng.integers(1, 30)))
    x = g.tensor("x", shape, "int8", qparams(_scale(rng), _zp(rng)))
    y = g.tensor("y", shape, "int8", qparams(_scale(rng), _zp(rng)))
    g.op("QUANTIZE", [x], [y])
    return g.build([x], [y])


def reshape(rng: np.random.Generator) -> Graph:
    g = GraphBuilder("reshape")
    a, b = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    q = qparams(_scale(rng), _zp(rng))
    x = g.tensor("x", (1, a, b, 2), "int8", q)
    s = g.const("shape", np.array([1, a * b * 2], np.int32))
    y = g.tensor("y", (1, a * b * 2), "int8", q)
    g.op("RESHAPE", [x, s], [y], new_shape=[1, a * b * 2])
    return g.build([x], [y])


def transpose(rng: np.random.Generator) -> Graph:
    g = GraphBuilder("transpose")
    shape = tuple(int(v) for v in rng.integers(1, 5, int(rng.integers(2, 5))))
    perm = [int(v) for v in rng.permutation(len(shape))]
    q = qparams(_scale(rng), _zp(rng))
    x = g.tensor("x", shape, "int8", q)
    y = g.tensor("y", tuple(shape[p] for p in perm), "int8", q)
    g.op("TRANSPOSE", [x, g.const("perm", np.array(perm, np.int32))], [y])
    return g.build([x], [y])


def strided_slice(rng: np.random.Generator) -> Graph:
    """A random slice with at least one element."""
    while True:
        g = _strided_slice(rng)
        if g.output_tensors()[0].size > 0:
            return g


def _strided_slice(rng: np.random.Generator) -> Graph:
    g = GraphBuilder("strided_slice")
    shape = (1, int(rng.integers(2, 7)), int(rng.integers(2, 7)), int(rng.integers(1, 5)))
    begin = [0, int(rng.integers(0, shape[1])), int(rng.integers(-shape[2], shape[2])), 0]
    end = [1, shape[1], int(rng.integers(-shape[2], shape[2] + 1)), shape[3]]
    strides = [1, int(rng.integers(1, 3)), int(rng.choice([-1, 1, 2])), 1]
    shrink = int(rng.choice([0, 1]))  # shrink the batch axis sometimes
    q = qparams(_scale(rng), _zp(rng))
    x = g.tensor("x", shape, "int8", q)
    consts = [g.const(n, np.array(v, np.int32))
              for n, v in (("begin", begin), ("end", end), ("strides", strides))]
    op = g.op("STRIDED_SLICE", [x, *consts], [], begin_mask=0, end_mask=int(rng.choice([0, 4])),
              shrink_axis_mask=shrink, ellipsis_mask=0, new_axis_mask=0, offset=False)
    probe = Graph(g.tensors, [op], [x], [])
    out_shape = slice_spec(OpContext(op, probe)).output_shape
    y = g.tensor("y", out_shape, "int8", q)
    op.outputs = [y]
    return g.build([x], [y])


def concatenation(rng: np.random.Generator) -> Graph:
    g = GraphBuilder("concat")
    base = [1, int(rng.integers(1, 5)), int(rng.integers(1, 5)), int(rng.integers(1, 5))]
    axis = int(rng.integers(1, 4))
    q = qparams(_scale(rng), _zp(rng))
    ins = []
    for i in range(int(rng.integers(2, 4))):
        shape = list(base)
        shape[axis] = int(rng.integers(1, 4))
        ins.append(g.tensor(f"x{i}", tuple(shape), "int8", q))
    out = list(base)
    out[axis] = sum(g.tensors[k].shape[axis] for k in ins)
    y = g.tensor("y", tuple(out), "int8", q)
    g.op("CONCATENATION", ins, [y], axis=axis, fused_activation_function="NONE")
    return g.build(ins, [y])


def unary(rng: np.random.Generator, op: str) -> Graph:
    g = GraphBuilder(op.lower())
    shape = (1, int(rng.integers(1, 40)))
    x = g.tensor("x", shape, "int8", qparams(_scale(rng, 0.02, 0.1), _zp(rng)))
    if op == "DEQUANTIZE":
        y = g.tensor("y", shape, "float32")
    elif op in ("LOGISTIC",):
        y = g.tensor("y", shape, "int8", qparams(1 / 256, -128))
    elif op in ("TANH",):
        y = g.tensor("y", shape, "int8", qparams(1 / 128, 0))
    else:
        y = g.tensor("y", shape, "int8", qparams(_scale(rng, 0.02, 0.1), _zp(rng)))
    attrs = {"alpha": float(rng.uniform(0.05, 0.5))} if op == "LEAKY_RELU" else {}
    g.op(op, [x], [y], **attrs)
    return g.build([x], [y])


def minmax(rng: np.random.Generator, op: str) -> Graph:
    g = GraphBuilder(op.lower())
    shape = tuple(int(v) for v in rng.integers(1, 5, 3))
    other = tuple(d if rng.random() < 0.6 else 1 for d in shape)
    q = qparams(_scale(rng), _zp(rng))
    a = g.tensor("a", shape, "int8", q)
    b = g.tensor("b", other, "int8", q)
    y = g.tensor("y", shape, "int8", q)
    g.op(op, [a, b], [y])
    return g.build([a, b], [y])


def rsqrt(rng: np.random.Generator) -> Graph:
    """Zero point -128: every int8 input is at or above it (TFLM refuses the others)."""
    g = GraphBuilder("rsqrt")
    shape = (1, int(rng.integers(1, 30)))
    x = g.tensor("x", shape, "int8", qparams(_scale(rng, 0.001, 0.05), -128))
    y = g.tensor("y", shape, "int8", qparams(_scale(rng, 0.05, 0.5), _zp(rng) - 100))
    g.op("RSQRT", [x], [y])
    return g.build([x], [y])


def squared_difference(rng: np.random.Generator) -> Graph:
    g = GraphBuilder("squared_difference")
    shape = tuple(int(v) for v in rng.integers(1, 5, int(rng.integers(1, 5))))
    other = tuple(d if rng.random() < 0.6 else 1 for d in shape)[int(rng.integers(0, len(shape))):]
    sa, sb = _scale(rng), _scale(rng)
    a = g.tensor("a", shape, "int8", qparams(sa, _zp(rng)))
    b = g.tensor("b", other, "int8", qparams(sb, _zp(rng)))
    y = g.tensor("y", shape, "int8", qparams(max(sa, sb) ** 2 * float(rng.uniform(60, 500)), _zp(rng)))
    g.op("SQUARED_DIFFERENCE", [a, b], [y])
    return g.build([a, b], [y])


def batch_matmul(rng: np.random.Generator) -> Graph:
    g = GraphBuilder("batch_matmul")
    heads, rows, depth, cols = (int(v) for v in rng.integers(1, 6, 4))
    adj_y = bool(rng.integers(0, 2))
    sl, sr = _scale(rng), _scale(rng)
    lhs = g.tensor("lhs", (1, heads, rows, depth), "int8", qparams(sl, _zp(rng)))
    rhs_shape = (heads, cols, depth) if adj_y else (heads, depth, cols)
    if rng.random() < 0.3:  # one rhs matrix for every head (broadcast)
        rhs_shape = (1, *rhs_shape[1:])
    rhs = g.tensor("rhs", rhs_shape, "int8", qparams(sr, _zp(rng)))
    y = g.tensor("y", (1, heads, rows, cols), "int8", qparams(sl * sr * 127 * np.sqrt(depth) / 4, _zp(rng)))
    g.op("BATCH_MATMUL", [lhs, rhs], [y], adj_x=False, adj_y=adj_y, asymmetric_quantize_inputs=False)
    return g.build([lhs, rhs], [y])


def fc_tables_chain(seed: int = 0) -> Graph:
    """Five FULLY_CONNECTED layers on two input rows: per tensor (37 -> 11 units: blocks of four
    and three left over; 11 -> 16; 16 -> 12, the shape the Helium kernel's fused loop takes per
    channel), per channel (12 -> 7, every unit its own scale) and per tensor with a filter zero
    point (7 -> 5, no bias): the per-tensor ones' requantization tables are one entry each in
    the generated C, the per-channel one's one per unit."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("fc_tables")
    s = 0.05
    x = first = g.tensor("x", (2, 37), "int8", qparams(s, 5))
    for k, (depth, units, zero) in enumerate([(37, 11, 0), (11, 16, 0), (16, 12, 0), (12, 7, 0), (7, 5, 4)]):
        ws = rng.uniform(0.002, 0.02, units if k == 3 else 1).astype(np.float32)
        w = g.const(f"w{k}", rng.integers(-127, 128, (units, depth)).astype(np.int8), qparams(ws, zero))
        inputs = [x, w]
        if k < 4:
            bias = rng.integers(-3000, 3000, units).astype(np.int32)
            inputs.append(g.const(f"b{k}", bias, qparams(np.broadcast_to(s * ws, (units,)).copy(), 0)))
        s = s * float(ws.mean()) * 127 * np.sqrt(depth) / 16
        y = g.tensor(f"y{k}", (2, units), "int8", qparams(s, int(rng.integers(-20, 21))))
        act = ["NONE", "RELU", "NONE", "RELU6", "NONE"][k]
        g.op("FULLY_CONNECTED", inputs, [y], fused_activation_function=act, keep_num_dims=False)
        x = y
    return g.build([first], [x])


def fc_shift_chain(seed: int = 0) -> Graph:
    """Three per-tensor FULLY_CONNECTED layers on two input rows whose real multipliers (input
    scale x filter scale / output scale) are 1.5, 0.75 and 3: shifts +1, 0 and +2, where the
    per-tensor requantization shifts left before SRDHM or not at all. Depths 40, 9 and 12: whole
    pairs of groups of four, one group and a remainder of one, a pair and one group left."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("fc_shift")
    s = 0.05
    x = first = g.tensor("x", (2, 40), "int8", qparams(s, 3))
    for k, (depth, units, real) in enumerate([(40, 9, 1.5), (9, 12, 0.75), (12, 8, 3.0)]):
        ws = 0.01
        w = g.const(f"w{k}", rng.integers(-4, 5, (units, depth)).astype(np.int8), qparams(ws, 0))
        bias = g.const(f"b{k}", rng.integers(-40, 40, units).astype(np.int32), qparams(s * ws, 0))
        out = s * ws / real
        y = g.tensor(f"y{k}", (2, units), "int8", qparams(out, int(rng.integers(-10, 11))))
        g.op("FULLY_CONNECTED", [x, w, bias], [y], fused_activation_function=["NONE", "RELU", "NONE"][k],
             keep_num_dims=False)
        x, s = y, out
    return g.build([first], [x])


def comparison(rng: np.random.Generator, op: str) -> Graph:
    g = GraphBuilder(op.lower())
    shape = tuple(int(v) for v in rng.integers(1, 5, 3))
    other = tuple(d if rng.random() < 0.6 else 1 for d in shape)
    a = g.tensor("a", shape, "int8", qparams(_scale(rng), _zp(rng)))
    b = g.tensor("b", other, "int8", qparams(_scale(rng), _zp(rng)))
    y = g.tensor("y", shape, "bool")
    g.op(op, [a, b], [y])
    return g.build([a, b], [y])


def filler(rng: np.random.Generator, op: str) -> Graph:
    """BROADCAST_TO, FILL, SHAPE, ZEROS_LIKE on int8 (shape: an int32 output)."""
    g = GraphBuilder(op.lower())
    shape = tuple(int(v) for v in rng.integers(1, 5, 3))
    q = qparams(_scale(rng), _zp(rng))
    small = tuple(d if rng.random() < 0.5 else 1 for d in shape)[1:]
    if op == "FILL":
        v = g.tensor("v", (), "int8", q)
        y = g.tensor("y", shape, "int8", q)
        g.op(op, [g.const("dims", np.array(shape, np.int32)), v], [y])
        return g.build([v], [y])
    x = g.tensor("x", small if op == "BROADCAST_TO" else shape, "int8", q)
    if op == "BROADCAST_TO":
        y = g.tensor("y", shape, "int8", q)
        g.op(op, [x, g.const("shape", np.array(shape, np.int32))], [y])
    elif op == "SHAPE":
        y = g.tensor("y", (len(shape),), "int32")
        g.op(op, [x], [y])
    else:
        y = g.tensor("y", shape, "int8", q)
        g.op(op, [x], [y])
    return g.build([x], [y])


def logical(rng: np.random.Generator, op: str) -> Graph:
    g = GraphBuilder(op.lower())
    shape = tuple(int(v) for v in rng.integers(1, 5, 3))
    a, y = g.tensor("a", shape, "bool"), g.tensor("y", shape, "bool")
    if op == "LOGICAL_NOT":
        g.op(op, [a], [y])
        return g.build([a], [y])
    b = g.tensor("b", tuple(d if rng.random() < 0.6 else 1 for d in shape), "bool")
    g.op(op, [a, b], [y])
    return g.build([a, b], [y])


#: op name -> random case builder.
CASES: dict[str, Callable[[np.random.Generator], Graph]] = {
    "CONV_2D": conv,
    "DEPTHWISE_CONV_2D": depthwise,
    "FULLY_CONNECTED": fully_connected,
    "AVERAGE_POOL_2D": pool,
    "MAX_POOL_2D": max_pool,
    "SOFTMAX": softmax,
    "ADD": binary,
    "SUB": sub,
    "MUL": mul,
    "PAD": pad,
    "MEAN": mean,
    "QUANTIZE": quantize,
    "RESHAPE": reshape,
    "TRANSPOSE": transpose,
    "STRIDED_SLICE": strided_slice,
    "CONCATENATION": concatenation,
    "MAXIMUM": lambda rng: minmax(rng, "MAXIMUM"),
    "MINIMUM": lambda rng: minmax(rng, "MINIMUM"),
    **{op: (lambda rng, op=op: filler(rng, op)) for op in ("BROADCAST_TO", "FILL", "SHAPE", "ZEROS_LIKE")},
    **{op: (lambda rng, op=op: logical(rng, op)) for op in ("LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT")},
    **{op: (lambda rng, op=op: comparison(rng, op))
       for op in ("EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL")},
    **{op: (lambda rng, op=op: unary(rng, op))
       for op in ("ABS", "ELU", "RELU", "RELU6", "LEAKY_RELU", "LOGISTIC", "TANH", "HARD_SWISH",
                  "DEQUANTIZE")},
    # int8 cases of the ops the PyTorch converter emits
    **{op: (lambda rng, build=build: build(rng, "int8"))
       for op, (build, _) in MOVEMENT_CASES.items()},
    "RSQRT": rsqrt,
    "BATCH_MATMUL": batch_matmul,
    "SQUARED_DIFFERENCE": squared_difference,
}


def random_inputs(graph: Graph, n: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` random int8 inputs per graph input (bool: true or false evenly), batched: one
    (n, *shape) array each."""
    rng = np.random.default_rng(seed)
    return [rng.integers(*((0, 2) if t.dtype == "bool" else (-128, 128)), (n, *t.shape)).astype(t.np_dtype)
            for t in graph.input_tensors()]


def ops_chain(seed: int = 0) -> Graph:
    """Two inputs, two outputs, and the ops the synthetic CNN lacks: PAD, MAX_POOL_2D, MUL, SUB,
    MEAN, QUANTIZE (a twin for multi-input/multi-output code paths)."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("ops_chain")
    q = [qparams(_scale(rng), _zp(rng)) for _ in range(8)]
    a = g.tensor("a", (1, 6, 6, 4), "int8", q[0])
    b = g.tensor("b", (1, 1, 1, 4), "int8", q[1])
    padded = g.tensor("padded", (1, 8, 7, 4), "int8", q[0])
    g.op("PAD", [a, g.const("paddings", np.array([[0, 0], [1, 1], [0, 1], [0, 0]], np.int32))], [padded])
    pooled = g.tensor("pooled", (1, 4, 4, 4), "int8", q[0])
    g.op("MAX_POOL_2D", [padded], [pooled], padding="SAME", stride_h=2, stride_w=2, filter_height=3,
         filter_width=2, fused_activation_function="NONE")
    prod = g.tensor("prod", (1, 4, 4, 4), "int8", qparams(0.002, 3))
    g.op("MUL", [pooled, b], [prod], fused_activation_function="NONE")
    diff = g.tensor("diff", (1, 4, 4, 4), "int8", q[2])
    g.op("SUB", [prod, pooled], [diff], fused_activation_function="RELU")
    avg = g.tensor("avg", (1, 4), "int8", q[3])
    g.op("MEAN", [diff, g.const("axes", np.array([1, 2], np.int32))], [avg], keep_dims=False)
    requant = g.tensor("requant", (1, 4), "int8", q[4])
    g.op("QUANTIZE", [avg], [requant])
    return g.build([a, b], [requant, pooled])


def tflm_outputs(graph: Graph, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """TFLM's outputs for one sample, every output (TflmRunner.run returns only the first
    when the package cannot list output details)."""
    from edgecraft.formats import write_tflite
    from edgecraft.reference import TflmRunner

    runner = TflmRunner(write_tflite(graph))
    runner.run(inputs)
    return [np.array(runner.interp.get_output(i)) for i in range(len(graph.outputs))]


def emulated_exactly(graph: Graph, target: str, n: int, seed: int, **options: Any) -> Any:
    """Run ``n`` random samples (``random_inputs``) of ``graph`` on the emulated ``target``
    (``emulate``'s other options as keywords), check every output against TFLM, and return the
    emulator's result (instructions, sizes, ...)."""
    from edgecraft.emulate import emulate

    batches = random_inputs(graph, n, seed)
    result = emulate(graph, target, batches, **options)
    check_against(graph, result.outputs, batches, f"{target} {graph.name}")
    return result


def check_against(graph: Graph, outputs: list[np.ndarray], batches: list[np.ndarray], label: str) -> None:
    """Every output of every sample of ``batches`` (one (n, *shape) array per input; ``outputs``
    batched the same way: from the emulator, a host build, ...) equals TFLM's exactly."""
    for b in range(len(batches[0])):
        for i, want in enumerate(tflm_outputs(graph, [x[b] for x in batches])):
            check_tensor(outputs[i][b], want, f"{label} input {b} output {i}")


def ops_chain2(seed: int = 0) -> Graph:
    """Data movement and table ops in one graph: TRANSPOSE, STRIDED_SLICE, CONCATENATION,
    MAXIMUM, MINIMUM, RELU, RELU6, LEAKY_RELU, LOGISTIC, TANH, HARD_SWISH, DEQUANTIZE (int8 and
    float32 outputs)."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("ops_chain2")
    q = qparams(_scale(rng), _zp(rng))
    x = g.tensor("x", (1, 4, 6, 3), "int8", q)
    b = g.tensor("b", (1, 3, 4, 2), "int8", q)
    c = g.tensor("c", (1, 1, 1, 5), "int8", q)
    t = g.tensor("t", (1, 6, 4, 3), "int8", q)
    g.op("TRANSPOSE", [x, g.const("perm", np.array([0, 2, 1, 3], np.int32))], [t])
    s = g.tensor("s", (1, 3, 4, 3), "int8", q)
    consts = [g.const(n, np.array(v, np.int32)) for n, v in
              (("begin", [0, 1, 0, 0]), ("end", [1, 6, 4, 3]), ("strides", [1, 2, 1, 1]))]
    g.op("STRIDED_SLICE", [t, *consts], [s], begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0,
         shrink_axis_mask=0, offset=False)
    cat = g.tensor("cat", (1, 3, 4, 5), "int8", q)
    g.op("CONCATENATION", [s, b], [cat], axis=3, fused_activation_function="NONE")
    mx = g.tensor("mx", (1, 3, 4, 5), "int8", q)
    g.op("MAXIMUM", [cat, c], [mx])
    mn = g.tensor("mn", (1, 3, 4, 5), "int8", q)
    g.op("MINIMUM", [mx, cat], [mn])
    chain = [("RELU", q, {}), ("LEAKY_RELU", qparams(0.05, 3), {"alpha": 0.2}),
             ("RELU6", qparams(0.03, -7), {}), ("LOGISTIC", qparams(1 / 256, -128), {}),
             ("TANH", qparams(1 / 128, 0), {}),
             ("HARD_SWISH", qparams(0.01, -2), {})]
    prev = mn
    for op, qp, attrs in chain:
        nxt = g.tensor(op.lower(), (1, 3, 4, 5), "int8", qp)
        g.op(op, [prev], [nxt], **attrs)
        prev = nxt
    real = g.tensor("real", (1, 3, 4, 5), "float32")
    g.op("DEQUANTIZE", [prev], [real])
    return g.build([x, b, c], [prev, real])


def too_big_for_m0() -> Graph:
    """An ADD of two 16 KiB activations: more RAM than the micro:bit's 16 KiB."""
    g = GraphBuilder("big_add")
    a = g.tensor("a", (1, 32, 32, 16), "int8", qparams(0.05, 1))
    b = g.tensor("b", (1, 32, 32, 16), "int8", qparams(0.04, -2))
    y = g.tensor("y", (1, 32, 32, 16), "int8", qparams(0.08, 0))
    g.op("ADD", [a, b], [y], fused_activation_function="NONE")
    return g.build([a, b], [y])


def ops_chain3(seed: int = 0) -> Graph:
    """The ops the PyTorch converter emits for standard architectures, in one graph: PADV2,
    SLICE, SPLIT, PACK, UNPACK, SPLIT_V, SUM, BATCH_MATMUL, RSQRT, GATHER, SQUARED_DIFFERENCE
    (int8; one firmware for the emulator)."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("ops_chain3")
    q = qparams(_scale(rng), _zp(rng))
    x = g.tensor("x", (1, 5, 4, 3), "int8", q)
    padded = g.tensor("padded", (1, 7, 6, 3), "int8", q)
    g.op("PADV2", [x, g.const("paddings", np.array([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32)),
                   g.const("value", np.array([-128], np.int8), q)], [padded])
    cut = g.tensor("cut", (1, 6, 4, 3), "int8", q)
    g.op("SLICE", [padded, g.const("begin", np.array([0, 1, 2, 0], np.int32)),
                   g.const("size", np.array([-1, 6, 4, -1], np.int32))], [cut])
    halves = [g.tensor(f"half{i}", (1, 3, 4, 3), "int8", q) for i in range(2)]
    g.op("SPLIT", [g.const("axis", np.array(1, np.int32)), cut], halves, num_splits=2)
    packed = g.tensor("packed", (1, 3, 2, 4, 3), "int8", q)
    g.op("PACK", [halves[1], halves[0]], [packed], values_count=2, axis=2)
    rows = [g.tensor(f"row{i}", (1, 2, 4, 3), "int8", q) for i in range(3)]
    g.op("UNPACK", [packed], rows, num=3, axis=1)
    parts = [g.tensor("p0", (1, 2, 1, 3), "int8", q), g.tensor("p1", (1, 2, 3, 3), "int8", q)]
    sizes, axis = g.const("sizes", np.array([1, -1], np.int32)), g.const("axis", np.array([2], np.int32))
    g.op("SPLIT_V", [rows[2], sizes, axis], parts, num_splits=2)
    total = g.tensor("total", (1, 3), "int8", qparams(_scale(rng, 0.1, 0.3), _zp(rng)))
    g.op("SUM", [parts[1], g.const("axes", np.array([1, 2], np.int32))], [total], keep_dims=False)
    # attention-style: a batched matrix product (rhs transposed in scratch), then RSQRT
    lhs = g.tensor("lhs", (1, 2, 3, 4), "int8", qparams(_scale(rng), _zp(rng)))
    rhs = g.tensor("rhs", (2, 4, 5), "int8", qparams(_scale(rng), _zp(rng)))
    prod = g.tensor("prod", (1, 2, 3, 5), "int8", qparams(0.002, -128))
    g.op("BATCH_MATMUL", [lhs, rhs], [prod], adj_x=False, adj_y=False, asymmetric_quantize_inputs=False)
    inv = g.tensor("inv", (1, 2, 3, 5), "int8", qparams(0.2, -90))
    g.op("RSQRT", [prod], [inv])
    picked = g.tensor("picked", (1, 2, 3, 3), "int8", q)
    g.op("GATHER", [rows[1], g.const("positions", np.array([3, 0, 3], np.int32))], [picked], axis=2,
         batch_dims=0)
    sq = g.tensor("sq", (1, 2, 4, 3), "int8", qparams(q.scale[0] ** 2 * 200, -100))
    g.op("SQUARED_DIFFERENCE", [rows[0], rows[2]], [sq])
    return g.build([x, lhs, rhs], [total, parts[0], rows[0], inv, picked, sq])


def ops_chain4(seed: int = 0) -> Graph:
    """ABS, ELU (int8 tables in C) and LESS_EQUAL with broadcasting (bool output) in one
    firmware for the emulator."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("ops_chain4")
    x = g.tensor("x", (1, 6, 5), "int8", qparams(_scale(rng), _zp(rng)))
    a = g.tensor("a", (1, 6, 5), "int8", qparams(_scale(rng), _zp(rng)))
    g.op("ABS", [x], [a])
    e = g.tensor("e", (1, 6, 5), "int8", qparams(_scale(rng), _zp(rng)))
    g.op("ELU", [x], [e])
    t = g.tensor("t", (1, 1, 5), "int8", qparams(_scale(rng), _zp(rng)))
    le = g.tensor("le", (1, 6, 5), "bool")
    g.op("LESS_EQUAL", [x, t], [le])
    return g.build([x, t], [a, e, le])
