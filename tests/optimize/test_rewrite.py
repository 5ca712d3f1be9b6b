"""Each MCU rewrite gives the same bytes as the original graph under TFLM (tolerance 0), and
edgecraft's runtime agrees on the rewritten graph."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import write_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.optimize.rewrite import rewrite
from edgecraft.reference import run_tflm
from oracle import check_tensor, check_tflm


def _same_as_original(g: Graph, x: np.ndarray) -> Graph:
    new, _ = rewrite(g)
    want = run_tflm(write_tflite(g), [x])
    got = check_tflm(new, [x], "rewritten")  # runtime == TFLM on the rewritten graph
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        check_tensor(a, b, f"rewritten vs original output {i}")
    return new


@pytest.mark.parametrize("seed", range(6))
def test_depthwise_on_one_channel_becomes_conv(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h, w, m = (int(v) for v in rng.integers(3, 10, 3))
    kh, kw = (int(v) for v in rng.integers(1, 4, 2))
    stride, padding = int(rng.integers(1, 3)), str(rng.choice(["SAME", "VALID"]))
    act = str(rng.choice(["NONE", "RELU", "RELU6"]))
    oh = -(-h // stride) if padding == "SAME" else (h - kh) // stride + 1
    ow = -(-w // stride) if padding == "SAME" else (w - kw) // stride + 1
    s_in, s_w = 0.05, rng.uniform(0.002, 0.02, m) if seed % 2 else np.array([0.01])
    b = GraphBuilder()
    x = b.tensor("x", (1, h, w, 1), "int8", qparams(s_in, int(rng.integers(-20, 20))))
    wt = b.const("w", rng.integers(-127, 128, (1, kh, kw, m)).astype(np.int8), qparams(s_w, 0, 3))
    bias = b.const("b", rng.integers(-2000, 2000, m).astype(np.int32), qparams(s_in * s_w, 0))
    y = b.tensor("y", (1, oh, ow, m), "int8", qparams(0.1, int(rng.integers(-10, 10))))
    b.op("DEPTHWISE_CONV_2D", [x, wt, bias], [y], padding=padding, stride_w=stride, stride_h=stride,
         depth_multiplier=m, fused_activation_function=act)
    g = b.build([x], [y])
    new = _same_as_original(g, rng.integers(-128, 128, (1, h, w, 1)).astype(np.int8))
    assert [op.type for op in new.operators] == ["CONV_2D"]
    assert new.tensors[new.operators[0].inputs[1]].shape == (m, kh, kw, 1)


def test_cancelling_pairs_and_identity_quantize_go() -> None:
    q = qparams(0.05, 3)
    b = GraphBuilder()
    x = b.tensor("x", (1, 4, 6, 2), "int8", q)
    t1 = b.tensor("t1", (1, 2, 4, 6), "int8", q)
    t2 = b.tensor("t2", (1, 4, 6, 2), "int8", q)
    r1 = b.tensor("r1", (1, 48), "int8", q)
    r2 = b.tensor("r2", (1, 4, 6, 2), "int8", q)
    q1 = b.tensor("q1", (1, 4, 6, 2), "int8", q)
    requant = b.tensor("requant", (1, 4, 6, 2), "int8", qparams(0.1, 0))
    y = b.tensor("y", (1, 2, 3, 2), "int8", qparams(0.1, 0))
    b.op("TRANSPOSE", [x, b.const("p1", np.array([0, 3, 1, 2], np.int32))], [t1])
    b.op("TRANSPOSE", [t1, b.const("p2", np.array([0, 2, 3, 1], np.int32))], [t2])
    b.op("RESHAPE", [t2, b.const("s1", np.array([1, 48], np.int32))], [r1], new_shape=[1, 48])
    b.op("RESHAPE", [r1, b.const("s2", np.array([1, 4, 6, 2], np.int32))], [r2], new_shape=[1, 4, 6, 2])
    b.op("QUANTIZE", [r2], [q1])  # same parameters: an identity
    b.op("QUANTIZE", [q1], [requant])  # a real requantization: stays
    b.op("MAX_POOL_2D", [requant], [y], padding="VALID", stride_w=2, stride_h=2, filter_width=2,
         filter_height=2)
    g = b.build([x], [y])
    x_in = np.random.default_rng(0).integers(-128, 128, (1, 4, 6, 2)).astype(np.int8)
    new = _same_as_original(g, x_in)
    assert [op.type for op in new.operators] == ["QUANTIZE", "MAX_POOL_2D"]
    _, counts = rewrite(g)
    assert counts == {"depthwise_to_conv": 0, "cancel_pairs": 2, "identity_quantize": 1}
