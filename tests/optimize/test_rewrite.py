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
    assert counts == {"depthwise_to_conv": 0, "fold_pad": 0, "cancel_pairs": 2, "identity_quantize": 1}


@pytest.mark.parametrize("seed", range(8))
def test_pad_before_a_valid_conv_folds_when_it_equals_same(seed: int) -> None:
    """PAD (or PADV2 with the zero point) + VALID conv/depthwise: folded into SAME padding when
    the pads are SAME's (odd seeds), kept when they are not (even seeds: PyTorch's symmetric
    (1, 1) before a stride-2 3x3 on an even size, where SAME pads (0, 1)); same bytes under TFLM."""
    rng = np.random.default_rng(seed)
    depthwise, v2, same = seed % 4 >= 2, seed % 3 == 0, seed % 2 == 1
    h, w, c = (8, 6, 3) if not same else (int(rng.integers(4, 9)), int(rng.integers(4, 9)), 3)
    k, stride = (3, 2) if not same else (int(rng.integers(2, 5)), int(rng.integers(1, 3)))
    pads = [(1, 1), (1, 1)] if not same else [_same(h, k, stride), _same(w, k, stride)]
    ph, pw = h + sum(pads[0]), w + sum(pads[1])
    oh, ow = (ph - k) // stride + 1, (pw - k) // stride + 1
    zp = int(rng.integers(-20, 20))
    q = qparams(0.05, zp)
    b = GraphBuilder()
    x = b.tensor("x", (1, h, w, c), "int8", q)
    mid = b.tensor("mid", (1, ph, pw, c), "int8", q)
    amounts = b.const("pads", np.array([[0, 0], *pads, [0, 0]], np.int32))
    if v2:
        b.op("PADV2", [x, amounts, b.const("v", np.array([zp], np.int8), q)], [mid])
    else:
        b.op("PAD", [x, amounts], [mid])
    m = c if depthwise else 4
    s_w = rng.uniform(0.002, 0.02, m)
    shape_w = (1, k, k, m) if depthwise else (m, k, k, c)
    wt = b.const("w", rng.integers(-127, 128, shape_w).astype(np.int8),
                 qparams(s_w, 0, 3 if depthwise else 0))
    bias = b.const("b", rng.integers(-2000, 2000, m).astype(np.int32), qparams(0.05 * s_w, 0))
    y = b.tensor("y", (1, oh, ow, m), "int8", qparams(0.1, 3))
    attrs = {"depth_multiplier": 1} if depthwise else {}
    b.op("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", [mid, wt, bias], [y], padding="VALID",
         stride_w=stride, stride_h=stride, **attrs)
    g = b.build([x], [y])
    new = _same_as_original(g, rng.integers(-128, 128, (1, h, w, c)).astype(np.int8))
    types = [op.type for op in new.operators]
    if same:
        assert types == [g.operators[1].type] and new.operators[0].attrs["padding"] == "SAME"
    else:
        assert types[0] in ("PAD", "PADV2") and len(types) == 2


def _same(size: int, k: int, stride: int) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2
