"""LOG_SOFTMAX: literal cases, then random one-op models against TFLM (int8 exact; float32
within an ulp, TFLM using the C library's expf/logf, and within 1e-5 of LiteRT)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import write_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.ops import OpError
from edgecraft.reference import run_tflm
from edgecraft.runtime import run_model
from oracle import check_litert, check_tflm


def graph(shape: tuple[int, ...], dtype: str = "float32") -> Graph:
    b = GraphBuilder()
    q = qparams(16 / 256, 127) if dtype == "int8" else None
    x, y = b.tensor("x", shape, dtype, q), b.tensor("y", shape, dtype, q)
    b.op("LOG_SOFTMAX", [x], [y])
    return b.build([x], [y])


def test_literal() -> None:
    # two equal logits: log(1/2) each.
    got = run_model(graph((2,)), [np.array([3.0, 3.0], np.float32)])[0]
    np.testing.assert_allclose(got, [-np.log(2)] * 2, rtol=1e-7)


def test_random_against_tflm_and_litert() -> None:
    rng = np.random.default_rng(8)
    for _ in range(4):
        shape = tuple(int(d) for d in rng.integers(1, 7, rng.integers(1, 4)))
        x = (rng.standard_normal(shape) * 4).astype(np.float32)
        g = graph(shape)
        ours = check_litert(g, [x], label=str(shape))[0]
        want = run_tflm(write_tflite(g), [x])[0]
        np.testing.assert_allclose(ours, want, rtol=1e-6, atol=1e-6)


def test_literal_int8() -> None:
    # equal logits: log(1/4) = -1.386 -> -1.386 * 16 + 127 = 104.8 -> 105 (the fixed-point log).
    x = np.full((1, 4), 10, np.int8)
    got = check_tflm(graph((1, 4), "int8"), [x])[0]
    assert got.tolist() == [[105, 105, 105, 105]]


def test_random_int8_against_tflm() -> None:
    rng = np.random.default_rng(12)
    for case in range(6):
        shape = tuple(int(d) for d in rng.integers(1, 9, rng.integers(1, 4))) if case else (2, 300)
        scale = float(rng.uniform(0.01, 0.5))
        b = GraphBuilder()
        x = b.tensor("x", shape, "int8", qparams(scale, int(rng.integers(-20, 20))))
        y = b.tensor("y", shape, "int8", qparams(16 / 256, 127))
        b.op("LOG_SOFTMAX", [x], [y])
        check_tflm(b.build([x], [y]), [rng.integers(-128, 128, shape).astype(np.int8)], f"{shape} {scale}")


def test_int8_needs_the_fixed_output() -> None:
    b = GraphBuilder()
    x, y = b.tensor("x", (4,), "int8", qparams(0.1)), b.tensor("y", (4,), "int8", qparams(0.1))
    b.op("LOG_SOFTMAX", [x], [y])
    with pytest.raises(OpError, match="16/256"):
        run_model(b.build([x], [y]), [np.zeros(4, np.int8)])
