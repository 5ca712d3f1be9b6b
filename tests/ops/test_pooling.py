"""AVERAGE_POOL_2D and MAX_POOL_2D: hand-checked cases, randomized int8 cases against TFLM,
float cases against LiteRT."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ops import OpContext, get_op
from edgecraft.runtime import run_model
from oracle import check_litert, check_tflm

ACTIVATIONS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


def out_size(size: int, k: int, stride: int, padding: str) -> int:
    return -(-size // stride) if padding == "SAME" else (size - k) // stride + 1


def pool_graph(op: str, x_shape, out_shape, q, dtype="int8", **attrs):
    b = GraphBuilder()
    x = b.tensor("x", x_shape, dtype, q)
    y = b.tensor("y", out_shape, dtype, q)
    b.op(op, [x], [y], **attrs)
    return b.build([x], [y])


def test_hand_average() -> None:
    # 3x3 input, 2x2 filter, stride 2, SAME: windows clipped at the border count only taps inside.
    # [1 2 | 3]   -> (1+2+4+5)/4 = 3, (3+6)/2 = 4.5 -> 5, (7+8)/2 = 7.5 -> 8, 9
    # [4 5 | 6]      negative sums round away from zero too: -(1+2+4+5)/4 = -3, -4.5 -> -5
    # [7 8 | 9]
    x = np.arange(1, 10, dtype=np.int8).reshape(1, 3, 3, 1)
    g = pool_graph("AVERAGE_POOL_2D", (1, 3, 3, 1), (1, 2, 2, 1), qparams(0.5, 0), padding="SAME",
                   stride_w=2, stride_h=2, filter_width=2, filter_height=2)
    assert run_model(g, [x])[0].ravel().tolist() == [3, 5, 8, 9]
    assert run_model(g, [-x])[0].ravel().tolist() == [-3, -5, -8, -9]
    check_tflm(g, [x], "avg hand")
    check_tflm(g, [-x], "avg hand negative")
    cost = get_op("AVERAGE_POOL_2D").cost(OpContext(g.operators[0], g))
    assert (cost.macs, cost.bytes_read, cost.bytes_written) == (4 * 4, 9, 4)


def test_hand_max() -> None:
    # Same windows; RELU with zero point 4 clamps below at 4: max 5, 6, 8, 9; negated: -1, -3,
    # -7, -9 clamp to 4.
    x = np.arange(1, 10, dtype=np.int8).reshape(1, 3, 3, 1)
    g = pool_graph("MAX_POOL_2D", (1, 3, 3, 1), (1, 2, 2, 1), qparams(0.5, 4), padding="SAME",
                   stride_w=2, stride_h=2, filter_width=2, filter_height=2,
                   fused_activation_function="RELU")
    assert run_model(g, [x])[0].ravel().tolist() == [5, 6, 8, 9]
    assert run_model(g, [-x])[0].ravel().tolist() == [4, 4, 4, 4]
    check_tflm(g, [x], "max hand")


def random_pool(rng: np.random.Generator, op: str, dtype: str):
    n = int(rng.choice([1, 1, 2]))
    h, w = (int(v) for v in rng.integers(1, 14, 2))
    c = int(rng.integers(1, 9))
    fh, fw = (int(v) for v in rng.integers(1, 5, 2))
    sh, sw = (int(v) for v in rng.integers(1, 4, 2))
    padding = str(rng.choice(["SAME", "VALID"]))
    if padding == "VALID" and (fh > h or fw > w):
        padding = "SAME"
    act = str(rng.choice(ACTIVATIONS))
    out = (n, out_size(h, fh, sh, padding), out_size(w, fw, sw, padding), c)
    q = qparams(float(rng.uniform(0.005, 0.1)), int(rng.integers(-128, 128))) if dtype == "int8" else None
    g = pool_graph(op, (n, h, w, c), out, q, dtype, padding=padding, stride_h=sh, stride_w=sw,
                   filter_height=fh, filter_width=fw, fused_activation_function=act)
    if dtype == "int8":
        xv = rng.integers(-128, 128, (n, h, w, c)).astype(np.int8)
    else:
        xv = (rng.standard_normal((n, h, w, c)) * 3).astype(np.float32)
    return g, xv, f"{op} n{n} {h}x{w}x{c} f{fh}x{fw} s{sh}{sw} {padding} {act}"


@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("seed", range(30))
def test_int8_matches_tflm(op: str, seed: int) -> None:
    g, xv, label = random_pool(np.random.default_rng(7000 + seed), op, "int8")
    check_tflm(g, [xv], label)


@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("seed", range(10))
def test_float_matches_litert(op: str, seed: int) -> None:
    g, xv, label = random_pool(np.random.default_rng(8000 + seed), op, "float32")
    check_litert(g, [xv], rtol=1e-5, atol=1e-6, label=label)
