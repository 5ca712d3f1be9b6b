"""int16 ops: CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED in the 16x8 scheme (int16
activations, int8 weights, int64 or int32 bias), QUANTIZE/DEQUANTIZE, the elementwise ops,
pooling, SOFTMAX, LOGISTIC and TANH: bit-exact with TFLM (tolerance 0) on randomized one-op
models written with edgecraft's writer; what TFLM refuses or misreads is refused."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ops.base import OpError
from edgecraft.runtime import run_model
from int16_cases import INT16_CASES, conv, fully_connected, int16_inputs, softmax16
from oracle import check_tflm


@pytest.mark.parametrize("op", sorted(INT16_CASES))
def test_int16_matches_tflm(op: str) -> None:
    rng = np.random.default_rng(sum(map(ord, op)) + 16)
    for case in range(12):
        graph = INT16_CASES[op](rng)
        check_tflm(graph, [x[0] for x in int16_inputs(graph, 1, seed=case)], f"{op} case {case}")


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


def test_softmax_rows_of_close_values_match_tflm() -> None:
    """Rows whose values lie within a few units of each other: every exp in the table's
    interpolated middle, sums over many near-equal terms."""
    rng = np.random.default_rng(9)
    for case in range(6):
        graph = softmax16(rng)
        x = graph.input_tensors()[0]
        values = rng.integers(-400, 400, x.shape) + int(rng.integers(-20000, 20000))
        check_tflm(graph, [values.astype(np.int16)], f"close softmax {case}")


@pytest.mark.parametrize("op", ["LOGISTIC", "TANH"])
def test_every_int16_input_matches_tflm(op: str) -> None:
    """All 65536 inputs, for a power-of-two input scale and another."""
    values = np.arange(-32768, 32768, dtype=np.int16).reshape(1, -1)
    for s_in in (2.0**-12, 3.1e-4):
        g = GraphBuilder(op.lower())
        x = g.tensor("x", values.shape, "int16", qparams(s_in))
        y = g.tensor("y", values.shape, "int16", qparams(2.0**-15))
        g.op(op, [x], [y])
        check_tflm(g.build([x], [y]), [values], f"{op} scale {s_in}")
