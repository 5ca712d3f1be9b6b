"""Randomized float32 graphs, one output per op, shared by the C host and QEMU tests: the CNN ops
(conv, depthwise, fully connected, pooling, softmax, reductions), the unary math ops and the
two-input ops with broadcasting (arithmetic and comparisons)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ir.builder import GraphBuilder
from edgecraft.ir.graph import Graph
from edgecraft.ops import OpContext, get_op

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]
UNARY = ["ABS", "NEG", "SQUARE", "EXP", "SIN", "COS", "CEIL", "FLOOR", "RELU", "RELU6", "TANH", "LOGISTIC",
         "ELU", "HARD_SWISH", "ROUND"]
POSITIVE = ["SQRT", "RSQRT", "LOG"]
BINARY = ["ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "PRELU"]
DIVIDING = ["DIV", "FLOOR_DIV", "FLOOR_MOD"]
COMPARE = ["EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL"]


def _out(b: GraphBuilder, op_type: str, inputs: list[int], dtype: str = "float32", **attrs: Any) -> int:
    """Adds ``op_type`` with an output of the shape its shape rule gives."""
    y = b.tensor(f"{op_type.lower()}_{len(b.tensors)}", (1,), dtype)
    op = b.op(op_type, inputs, [y], **attrs)
    graph = Graph(b.tensors, b.operators, [], [y])
    b.tensors[y].shape = tuple(get_op(op_type).shape(OpContext(op, graph))[0])
    return y


def _w(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


def nn_graph(rng: np.random.Generator) -> Graph:
    """CONV_2D (plain and grouped), DEPTHWISE_CONV_2D, FULLY_CONNECTED, the three poolings, SOFTMAX,
    LOG_SOFTMAX, L2_NORMALIZATION, ARG_MAX/ARG_MIN and the four reductions, each reading the input."""
    b = GraphBuilder("float_nn")
    h, w = (int(v) for v in rng.integers(4, 8, 2))
    x = b.tensor("x", (2, h, w, 4), "float32")
    outs = []

    def act() -> str:
        return str(rng.choice(ACTS))

    for in_c, out_c, pad, stride, dil in ((4, 3, "SAME", 2, 1), (2, 4, "VALID", 1, 1), (4, 2, "SAME", 1, 2)):
        k = (b.const(f"k{len(outs)}", _w(rng, out_c, 3, 2, in_c)),
             b.const(f"bias{len(outs)}", _w(rng, out_c)))
        outs.append(_out(b, "CONV_2D", [x, *k], padding=pad, stride_h=stride, stride_w=stride,
                         dilation_h_factor=dil, dilation_w_factor=dil, fused_activation_function=act()))
    k = b.const("dw", _w(rng, 1, 2, 3, 8))
    outs.append(_out(b, "DEPTHWISE_CONV_2D", [x, k, b.const("dwb", _w(rng, 8))], padding="SAME", stride_h=1,
                     stride_w=2, depth_multiplier=2, fused_activation_function=act()))
    outs.append(_out(b, "DEPTHWISE_CONV_2D", [x, b.const("dw1", _w(rng, 1, 3, 3, 4))], padding="VALID",
                     stride_h=1, stride_w=1, depth_multiplier=1, dilation_h_factor=1, dilation_w_factor=1))
    outs.append(_out(b, "FULLY_CONNECTED", [x, b.const("fc", _w(rng, 5, 4)), b.const("fcb", _w(rng, 5))],
                     fused_activation_function=act()))
    for pool in ("AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D"):
        outs.append(_out(b, pool, [x], padding="SAME", stride_h=2, stride_w=1, filter_height=3,
                         filter_width=2, fused_activation_function=act()))
    outs.append(_out(b, "SOFTMAX", [x], beta=0.7))
    outs += [_out(b, op, [x]) for op in ("LOG_SOFTMAX", "L2_NORMALIZATION")]
    for op, axis in (("ARG_MAX", 1), ("ARG_MIN", -1)):
        outs.append(_out(b, op, [x, b.const(f"axis{len(outs)}", np.array([axis], np.int32))], dtype="int32",
                         output_type=2))
    for red, axes, keep in (("MEAN", [1, 2], True), ("SUM", [-1], False), ("REDUCE_MAX", [0, 2], False),
                            ("REDUCE_MIN", [3, 1], True)):
        outs.append(_out(b, red, [x, b.const(f"axes{len(outs)}", np.array(axes, np.int32))], keep_dims=keep))
    return b.build([x], outs)


def unary_graph(rng: np.random.Generator) -> Graph:
    """Every unary float op: on a normal input, and SQRT, RSQRT, LOG on a positive one."""
    b = GraphBuilder("float_unary")
    x, xp = b.tensor("x", (3, 5), "float32"), b.tensor("xp", (3, 5), "float32")
    outs = [_out(b, op, [x]) for op in UNARY] + [_out(b, op, [xp]) for op in POSITIVE]
    outs.append(_out(b, "LEAKY_RELU", [x], alpha=0.3))
    return b.build([x, xp], outs)


def matmul_graph(rng: np.random.Generator) -> Graph:
    """BATCH_MATMUL float32: broadcast batches, each adj_x / adj_y combination."""
    b = GraphBuilder("float_matmul")
    x1, x2 = b.tensor("m1", (2, 1, 3, 4), "float32"), b.tensor("m2", (3, 4, 5), "float32")
    outs = [_out(b, "BATCH_MATMUL", [x1, x2])]
    x3, x4 = b.tensor("m3", (2, 4, 3), "float32"), b.tensor("m4", (5, 4), "float32")
    outs.append(_out(b, "BATCH_MATMUL", [x3, x4], adj_x=True, adj_y=True))
    outs.append(_out(b, "BATCH_MATMUL", [x1, x4], adj_y=True))
    return b.build([x1, x2, x3, x4], outs)


def binary_graph(rng: np.random.Generator) -> Graph:
    """Two-input float ops broadcasting (2, 1, 4, 3) with (3, 1, 3): arithmetic with fused
    activations, division by a divisor away from zero, comparisons on small integers."""
    b = GraphBuilder("float_binary")
    x1, x2 = b.tensor("x1", (2, 1, 4, 3), "float32"), b.tensor("x2", (3, 1, 3), "float32")
    outs = []
    for op in BINARY + DIVIDING:
        plain = ("MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "FLOOR_DIV", "FLOOR_MOD", "PRELU")
        act = {} if op in plain else {"fused_activation_function": str(rng.choice(ACTS))}
        outs.append(_out(b, op, [x1, x2], **act))
    outs += [_out(b, op, [x1, x2], dtype="bool") for op in COMPARE]
    return b.build([x1, x2], outs)


def inputs_for(rng: np.random.Generator, graph: Graph) -> list[np.ndarray]:
    """Inputs the graph's ops are defined on (positive where a logarithm or root needs it, a
    divisor at least 0.5 away from zero; small integers for the comparisons' equal cases)."""
    out = []
    for t in graph.input_tensors():
        v = rng.standard_normal(t.shape).astype(np.float32) * 2
        if t.name == "xp":
            v = np.abs(v) + np.float32(0.05)
        elif t.name == "x2":
            mag = np.where(rng.random(t.shape) < 0.5, np.round(np.abs(v)) + 1, np.abs(v) + 0.5)
            v = np.where(v < 0, -1, 1) * mag
        elif t.name == "x1":
            v = np.where(rng.random(t.shape) < 0.5, np.round(v), v)
        out.append(v.astype(np.float32))
    return out


INT32_OPS = ["ADD", "SUB", "MUL", "SQUARED_DIFFERENCE", "DIV", "MAXIMUM", "MINIMUM", *COMPARE]


def int_graph(dtype: str) -> Graph:
    """The unquantized integer ops of ``dtype`` (int32: arithmetic, extremes and comparisons;
    int64: MAXIMUM, MINIMUM and comparisons; bool: EQUAL, NOT_EQUAL), broadcasting."""
    b = GraphBuilder(f"int_{dtype}")
    x1, x2 = b.tensor("x1", (2, 1, 4, 3), dtype), b.tensor("x2", (3, 1, 3), dtype)
    ops = {"int32": INT32_OPS, "int64": ["MAXIMUM", "MINIMUM", *COMPARE],
           "bool": ["EQUAL", "NOT_EQUAL"]}[dtype]
    outs = [_out(b, op, [x1, x2], dtype="bool" if op in COMPARE else dtype) for op in ops]
    return b.build([x1, x2], outs)


def int_inputs(rng: np.random.Generator, graph: Graph) -> list[np.ndarray]:
    """Small values (equal cases), large ones (wrapping sums and products), no zero divisor."""
    out = []
    for t in graph.input_tensors():
        if t.dtype == "bool":
            out.append(rng.random(t.shape) < 0.5)
            continue
        info = np.iinfo(t.dtype)
        small = rng.integers(-3, 4, t.shape)
        big = rng.integers(info.min // 2, info.max // 2, t.shape, dtype=t.dtype)
        v = np.where(rng.random(t.shape) < 0.5, small, big).astype(t.dtype)
        if t.name == "x2":
            v[v == 0] = 1
        out.append(v)
    return out
