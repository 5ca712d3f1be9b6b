"""MEAN: hand-checked cases, randomized int8 cases against TFLM, float cases against LiteRT."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ops import OpError
from edgecraft.runtime import run_model
from oracle import check_litert, check_tflm


def mean_graph(x_shape, axes, keep: bool, in_q, out_q, dtype="int8"):
    b = GraphBuilder()
    x = b.tensor("x", x_shape, dtype, in_q)
    a = b.const("axes", np.array(axes, np.int32))
    reduced = {ax % len(x_shape) for ax in axes}
    if keep:
        out = tuple(1 if i in reduced else d for i, d in enumerate(x_shape))
    else:
        out = tuple(d for i, d in enumerate(x_shape) if i not in reduced)
    y = b.tensor("y", out, dtype, out_q)
    b.op("MEAN", [x, a], [y], keep_dims=keep)
    return b.build([x], [y])


def test_hand_case() -> None:
    # Mean over H and W of [1,2,3,3] is 2.25, but TFLM folds 1/4 into the multiplier and rounds
    # twice: sum 9 * 2^30 / 2^31 = 4.5 -> 5, then 5 / 2 = 2.5 -> 3. For [-1,-2,-3,-3]: -4.5 -> -4
    # (the doubling high multiply rounds ties upward), then -4 / 2 = -2.
    g = mean_graph((1, 2, 2, 1), [1, 2], True, qparams(1.0, 0), qparams(1.0, 0))
    x = np.array([1, 2, 3, 3], np.int8).reshape(1, 2, 2, 1)
    assert run_model(g, [x])[0].ravel().tolist() == [3]
    assert run_model(g, [-x])[0].ravel().tolist() == [-2]
    check_tflm(g, [x], "hand")
    check_tflm(g, [-x], "hand negative")


def random_mean(rng: np.random.Generator, dtype: str):
    rank = int(rng.integers(1, 5))
    x_shape = tuple(int(d) for d in rng.integers(1, 9, rank))
    # TFLM resolves at most two distinct axes; duplicates and negative axes are allowed.
    axes = [int(a) for a in rng.choice(rank, size=min(rank, int(rng.integers(1, 3))), replace=False)]
    axes = [a - rank if rng.random() < 0.3 else a for a in axes]
    if rng.random() < 0.2:
        axes.append(axes[0])
    keep = bool(rng.random() < 0.5)
    if dtype == "int8":
        s_in, zp_in = float(rng.uniform(0.01, 0.1)), int(rng.integers(-128, 128))
        same = rng.random() < 0.3
        out_q = qparams(s_in, zp_in) if same else qparams(s_in * float(rng.uniform(0.3, 1.5)),
                                                          int(rng.integers(-60, 60)))
        g = mean_graph(x_shape, axes, keep, qparams(s_in, zp_in), out_q)
        xv = rng.integers(-128, 128, x_shape).astype(np.int8)
    else:
        g = mean_graph(x_shape, axes, keep, None, None, "float32")
        xv = rng.standard_normal(x_shape).astype(np.float32)
    return g, xv, f"{x_shape} axes={axes} keep={keep}"


@pytest.mark.parametrize("seed", range(40))
def test_int8_matches_tflm(seed: int) -> None:
    g, xv, label = random_mean(np.random.default_rng(10_000 + seed), "int8")
    check_tflm(g, [xv], label)


@pytest.mark.parametrize("seed", range(12))
def test_float_matches_litert(seed: int) -> None:
    g, xv, label = random_mean(np.random.default_rng(11_000 + seed), "float32")
    check_litert(g, [xv], rtol=1e-5, atol=1e-6, label=label)


def test_unquantized_int8_output_refused() -> None:
    g = mean_graph((2, 3), [1], False, qparams(0.1, 0), None)
    with pytest.raises(OpError, match="needs a positive scale"):
        run_model(g, [np.zeros((2, 3), np.int8)])
