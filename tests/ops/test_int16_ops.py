"""CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED in the 16x8 scheme (int16 activations, int8
weights, int64 or int32 bias): bit-exact with TFLM (tolerance 0) on randomized one-op models
written with edgecraft's writer, and what TFLM refuses or misreads is refused."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ops.base import OpError
from edgecraft.runtime import run_model
from int16_cases import INT16_CASES, conv, fully_connected, int16_inputs
from oracle import check_tflm


@pytest.mark.parametrize("op", sorted(INT16_CASES))
def test_16x8_matches_tflm(op: str) -> None:
    rng = np.random.default_rng(sum(map(ord, op)) + 16)
    for case in range(12):
        graph = INT16_CASES[op](rng)
        (x,) = int16_inputs(graph, 1, seed=case)
        check_tflm(graph, [x[0]], f"{op} case {case}")


@pytest.mark.parametrize("bias", ["int32", "int64", "none"])
def test_each_bias_type_matches_tflm(bias: str) -> None:
    rng = np.random.default_rng(len(bias))
    for case in range(3):
        for graph in (conv(rng, bias=bias), fully_connected(rng, bias=bias)):
            (x,) = int16_inputs(graph, 1, seed=case)
            check_tflm(graph, [x[0]], f"{graph.operators[0].type} bias {bias} case {case}")


def test_int32_and_int64_accumulators_differ_where_tflm_says() -> None:
    """The same accumulators through an int32 and an int64 bias (input at 0, weights 1: each
    accumulator is its bias) give different outputs, the int64 multiply rounding the
    multiplier to 16 bits: each must be TFLM's."""
    accs = np.arange(-40_000, 40_000, 37)
    outs = {}
    for dtype in ("int32", "int64"):
        g = GraphBuilder("fc_acc")
        x = g.tensor("x", (1, 1), "int16", qparams(1e-3))
        w = g.const("w", np.ones((accs.size, 1), np.int8), qparams(0.01))
        b = g.const("b", accs.astype(dtype), qparams(1e-5))
        y = g.tensor("y", (1, accs.size), "int16", qparams(0.0123456))
        g.op("FULLY_CONNECTED", [x, w, b], [y])
        outs[dtype] = check_tflm(g.build([x], [y]), [np.zeros((1, 1), np.int16)], dtype)[0]
    assert not np.array_equal(outs["int32"], outs["int64"])


def test_depthwise_with_int32_bias_is_refused() -> None:
    """TFLM's int16 depthwise reads its bias as int64: an int32 bias would be misread."""
    graph = conv(np.random.default_rng(1), depthwise=True, bias="int64")
    b = graph.tensors[graph.operators[0].inputs[2]]
    b.dtype, b.data = "int32", b.data.astype(np.int32)
    (x,) = int16_inputs(graph, 1)
    with pytest.raises(OpError, match="int64 bias"):
        run_model(graph, [x[0]])
