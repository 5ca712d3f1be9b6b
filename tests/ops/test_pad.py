"""PAD: a hand-checked case, randomized int8 cases against TFLM, float cases against LiteRT."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ops import OpError
from edgecraft.runtime import run_model
from oracle import check_litert, check_tflm


def pad_graph(x_shape, paddings: np.ndarray, q, dtype="int8"):
    b = GraphBuilder()
    x = b.tensor("x", x_shape, dtype, q)
    p = b.const("p", paddings)
    out = tuple(int(d + lo + hi) for d, (lo, hi) in zip(x_shape, paddings, strict=True))
    y = b.tensor("y", out, dtype, q)
    b.op("PAD", [x, p], [y])
    return b.build([x], [y])


def test_hand_case() -> None:
    # int8 pads with the zero point (-3), i.e. real 0.0.
    g = pad_graph((1, 2), np.array([[0, 1], [1, 2]], np.int32), qparams(0.1, -3))
    out = run_model(g, [np.array([[5, 6]], np.int8)])[0]
    assert out.tolist() == [[-3, 5, 6, -3, -3], [-3, -3, -3, -3, -3]]
    check_tflm(g, [np.array([[5, 6]], np.int8)], "hand")


def test_bad_paddings() -> None:
    g = pad_graph((2, 2, 1), np.zeros((3, 2), np.int32), None, "float32")
    g.tensors[0].shape = (2, 2)
    with pytest.raises(OpError, match=r"shape \[2, 2\]"):
        run_model(g, [np.zeros((2, 2), np.float32)])


def random_pad(rng: np.random.Generator, dtype: str):
    rank = int(rng.integers(1, 5))
    x_shape = tuple(int(d) for d in rng.integers(1, 7, rank))
    # TFLM reads paddings as int32 whatever their type; LiteRT also takes int64.
    index_type = np.int32 if dtype == "int8" else rng.choice([np.int32, np.int64])
    paddings = rng.integers(0, 4, (rank, 2)).astype(index_type)
    if rank == 4 and rng.random() < 0.5:  # the usual image case: pad height and width only
        paddings[[0, 3]] = 0
    q = qparams(float(rng.uniform(0.01, 0.1)), int(rng.integers(-128, 128))) if dtype == "int8" else None
    g = pad_graph(x_shape, paddings, q, dtype)
    if dtype == "int8":
        xv = rng.integers(-128, 128, x_shape).astype(np.int8)
    else:
        xv = rng.standard_normal(x_shape).astype(np.float32)
    return g, xv, f"{x_shape} {paddings.tolist()} {paddings.dtype}"


@pytest.mark.parametrize("seed", range(30))
def test_int8_matches_tflm(seed: int) -> None:
    g, xv, label = random_pad(np.random.default_rng(9000 + seed), "int8")
    check_tflm(g, [xv], label)


@pytest.mark.parametrize("seed", range(10))
def test_float_matches_litert(seed: int) -> None:
    g, xv, label = random_pad(np.random.default_rng(9500 + seed), "float32")
    check_litert(g, [xv], rtol=0, atol=0, label=label)
