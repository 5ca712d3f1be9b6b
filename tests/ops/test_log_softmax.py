"""LOG_SOFTMAX (float32): a literal case, then random one-op models against TFLM (within an
ulp: TFLM uses the C library's expf/logf) and LiteRT (1e-5)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import write_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.ops import OpError
from edgecraft.reference import run_tflm
from edgecraft.runtime import run_model
from oracle import check_litert


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


def test_int8_is_refused_by_name() -> None:
    with pytest.raises(OpError, match="LOG_SOFTMAX has no int8 kernel"):
        run_model(graph((4,), "int8"), [np.zeros(4, np.int8)])
