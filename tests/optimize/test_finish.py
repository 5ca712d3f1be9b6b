"""Finishing full-int8 conversion in the IR, on graphs built in code (no torch needed)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph, Operator, Tensor
from edgecraft.optimize.finish import finish_int8, float_ops
from oracle import check_tflm


def fc_then(tail: str, float_input: bool = False, requant: bool = False) -> Graph:
    """[QUANTIZE] -> FC int8 -> DEQUANTIZE -> tail (float) [-> QUANTIZE]: what PT2E leaves."""
    rng = np.random.default_rng(7)
    b = GraphBuilder("pt2e_like")
    x = b.tensor("x", (1, 12), "int8", qparams(0.05, 3))
    inputs = [x]
    if float_input:
        xf = b.tensor("x_float", (1, 12), "float32")
        b.op("QUANTIZE", [xf], [x])
        inputs = [xf]
    w = b.const("w", rng.integers(-127, 128, (10, 12)).astype(np.int8),
                qparams(rng.uniform(0.002, 0.01, 10).astype(np.float32), 0))
    bias = b.const("b", rng.integers(-500, 500, 10).astype(np.int32), qparams(np.full(10, 1e-4), 0))
    h = b.tensor("logits", (1, 10), "int8", qparams(0.1, -5))
    b.op("FULLY_CONNECTED", [x, w, bias], [h], fused_activation_function="NONE", keep_num_dims=False)
    hf = b.tensor("logits_float", (1, 10), "float32")
    b.op("DEQUANTIZE", [h], [hf])
    out = b.tensor("probs", (1, 10), "float32")
    b.op(tail, [hf], [out], **({"beta": 1.0} if tail == "SOFTMAX" else {}))
    if requant:
        q = b.tensor("probs_q", (1, 10), "int8", qparams(0.0042, -127))
        b.op("QUANTIZE", [out], [q])
        out = q
    return b.build(inputs, [out])


@pytest.mark.parametrize("tail,scale,zp", [("SOFTMAX", 1 / 256, -128), ("LOGISTIC", 1 / 256, -128),
                                           ("TANH", 1 / 128, 0)])
def test_trailing_float_op_becomes_int8_and_matches_tflm(tail: str, scale: float, zp: int) -> None:
    g = finish_int8(fc_then(tail, float_input=True))
    assert [op.type for op in g.operators] == ["FULLY_CONNECTED", tail]
    assert not float_ops(g)
    (inp,), (out,) = g.input_tensors(), g.output_tensors()
    assert (inp.dtype, out.dtype) == ("int8", "int8")
    assert (out.scale, out.zero_point) == (np.float32(scale), zp)
    assert all(t.dtype != "float32" for t in g.tensors)  # the float tensors are gone
    rng = np.random.default_rng(1)
    for _ in range(5):
        check_tflm(g, [rng.integers(-128, 128, (1, 12)).astype(np.int8)], tail)


def test_quantize_after_softmax_at_the_output_is_dropped() -> None:
    g = finish_int8(fc_then("SOFTMAX", requant=True))
    assert [op.type for op in g.operators] == ["FULLY_CONNECTED", "SOFTMAX"]
    assert g.output_tensors()[0].scale == np.float32(1 / 256)


def test_mid_graph_island_keeps_an_int8_requantize() -> None:
    g = fc_then("SOFTMAX", requant=True)
    b_out = g.outputs[0]
    relu_out = g.add_tensor(Tensor("after", (1, 10), "int8", quant=qparams(0.0042, -127)))
    g.operators.append(Operator("RELU", [b_out], [relu_out]))
    g.outputs = [relu_out]
    f = finish_int8(g)
    assert [op.type for op in f.operators] == ["FULLY_CONNECTED", "SOFTMAX", "QUANTIZE", "RELU"]
    assert not float_ops(f)
    check_tflm(f, [np.arange(-6, 6, dtype=np.int8).reshape(1, 12) * 9], "requantized softmax")


def test_float_ops_names_what_is_left() -> None:
    g = fc_then("SOFTMAX")
    assert [op.type for _, op in float_ops(g)] == ["DEQUANTIZE", "SOFTMAX"]
