"""REDUCE_MAX (float32, int8), SQRT and EXP (float32): a hand-checked case, randomized one-op
models against TFLM (int8 exactly) and LiteRT (float32 within 1e-5)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.ops import OpError
from edgecraft.runtime import run_model
from oracle import check_litert, check_tflm


def reduce_max_case(rng: np.random.Generator, dtype: str) -> Graph:
    g = GraphBuilder("reduce_max")
    shape = tuple(int(v) for v in rng.integers(1, 5, 4))
    axes = sorted(int(a) for a in rng.choice(4, int(rng.integers(1, 4)), replace=False))
    keep = bool(rng.integers(0, 2))
    out = tuple(1 if i in axes else d for i, d in enumerate(shape)) if keep else tuple(
        d for i, d in enumerate(shape) if i not in axes)
    q = qparams(float(rng.uniform(0.01, 0.1)), int(rng.integers(-20, 21))) if dtype == "int8" else None
    x, y = g.tensor("x", shape, dtype, q), g.tensor("y", out, dtype, q)
    g.op("REDUCE_MAX", [x, g.const("axes", np.array(axes, np.int32))], [y], keep_dims=keep)
    return g.build([x], [y])


def unary_case(rng: np.random.Generator, op: str) -> Graph:
    g = GraphBuilder(op.lower())
    shape = tuple(int(v) for v in rng.integers(1, 6, int(rng.integers(1, 4))))
    x, y = g.tensor("x", shape, "float32"), g.tensor("y", shape, "float32")
    g.op(op, [x], [y])
    return g.build([x], [y])


def test_hand_cases() -> None:
    g = GraphBuilder()
    q = qparams(0.1, 2)
    x, y = g.tensor("x", (2, 3), "int8", q), g.tensor("y", (2,), "int8", q)
    g.op("REDUCE_MAX", [x, g.const("axes", np.array([1], np.int32))], [y], keep_dims=False)
    graph = g.build([x], [y])
    xv = np.array([[-128, 5, 3], [-7, -9, -8]], np.int8)
    assert run_model(graph, [xv])[0].tolist() == [5, -7]
    check_tflm(graph, [xv], "hand")
    g = GraphBuilder()
    x, s, e = g.tensor("x", (3,), "float32"), g.tensor("s", (3,), "float32"), g.tensor("e", (3,), "float32")
    g.op("SQRT", [x], [s])
    g.op("EXP", [x], [e])
    graph = g.build([x], [s, e])
    xv = np.array([0.0, 4.0, 9.0], np.float32)
    outs = run_model(graph, [xv])
    assert outs[0].tolist() == [0.0, 2.0, 3.0] and outs[1][0] == 1.0
    check_litert(graph, [xv], label="hand")


def test_int8_reduce_max_needs_the_input_quantization() -> None:
    g = GraphBuilder()
    x, y = g.tensor("x", (2, 3), "int8", qparams(0.1, 2)), g.tensor("y", (2,), "int8", qparams(0.2, 2))
    g.op("REDUCE_MAX", [x, g.const("axes", np.array([1], np.int32))], [y], keep_dims=False)
    with pytest.raises(OpError, match="quantized as the input"):
        run_model(g.build([x], [y]), [np.zeros((2, 3), np.int8)])


def test_random_cases() -> None:
    rng = np.random.default_rng(21)
    for case in range(4):
        graph = reduce_max_case(rng, "int8")
        check_tflm(graph, [rng.integers(-128, 128, graph.input_tensors()[0].shape).astype(np.int8)],
                   f"REDUCE_MAX int8 case {case}")
        graph = reduce_max_case(rng, "float32")
        check_litert(graph, [rng.standard_normal(graph.input_tensors()[0].shape).astype(np.float32)],
                     label=f"REDUCE_MAX float32 case {case}")
        for op, lo, hi in (("SQRT", 0.0, 100.0), ("EXP", -10.0, 10.0)):
            graph = unary_case(rng, op)
            xv = rng.uniform(lo, hi, graph.input_tensors()[0].shape).astype(np.float32)
            check_litert(graph, [xv], label=f"{op} case {case}")
