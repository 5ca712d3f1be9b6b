"""TFLite's converter writes per-channel biases with the filter's quantized dimension (axis 3 on
a rank-1 tensor, as in TFLM's person_detect.tflite). TFLM runs such models; so must we."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import write_tflite
from edgecraft.formats.tflite_reader import read_tflite_bytes
from edgecraft.ir import GraphError, validate
from edgecraft.ir.builder import GraphBuilder, qparams
from oracle import check_tflm


def conv_with_bias_axis(axis: int, op: str = "CONV_2D"):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(13)
    cout = 4
    b = GraphBuilder()
    s_in = 0.05
    x = b.tensor("x", (1, 5, 5, 2 if op == "CONV_2D" else cout), "int8", qparams(s_in, 3))
    s_w = rng.uniform(0.005, 0.02, cout)
    if op == "CONV_2D":
        w = b.const("w", rng.integers(-127, 128, (cout, 3, 3, 2)).astype(np.int8), qparams(s_w, 0, axis=0))
    else:
        w = b.const("w", rng.integers(-127, 128, (1, 3, 3, cout)).astype(np.int8), qparams(s_w, 0, axis=3))
    bias = b.const("bias", rng.integers(-2000, 2000, cout).astype(np.int32),
                   qparams(np.float32(s_in) * s_w.astype(np.float32), 0, axis=axis))
    y = b.tensor("y", (1, 3, 3, cout), "int8", qparams(0.4, -5))
    extra = {"depth_multiplier": 1} if op == "DEPTHWISE_CONV_2D" else {}
    b.op(op, [x, w, bias], [y], padding="VALID", stride_w=1, stride_h=1, **extra)
    return b.build([x], [y]), rng.integers(-128, 128, (1, 5, 5, b.tensors[x].shape[3])).astype(np.int8)


@pytest.mark.parametrize("op", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_bias_along_axis_3_runs_as_in_tflm(op: str) -> None:
    g, xv = conv_with_bias_axis(3, op)
    with pytest.warns(UserWarning, match="axis 3 of a rank-1 tensor; read as axis 0"):
        back = read_tflite_bytes(write_tflite(g))  # the metadata survives writer and reader
    assert back.tensors[2].quant is not None and back.tensors[2].quant.axis == 3
    with pytest.warns(UserWarning):
        check_tflm(back, [xv], op)


def test_stray_axis_still_refused_where_it_matters() -> None:
    # A rank-1 tensor whose scales do not match its length, and a rank-4 filter whose axis is
    # out of range, are still inconsistent: TFLM would index past the filter's dimensions.
    g, _ = conv_with_bias_axis(3)
    g.tensors[2].quant = qparams([0.1, 0.2, 0.3], 0, axis=3)
    with pytest.raises(GraphError, match="axis 3 of a rank-1 tensor"):
        validate(g)
    g, _ = conv_with_bias_axis(0)
    g.tensors[1].quant = qparams(np.full(4, 0.01), 0, axis=4)
    with pytest.raises(GraphError, match="axis 4 of a rank-4 tensor"):
        validate(g)
