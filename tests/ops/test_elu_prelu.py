"""ELU and PRELU: literal cases, then random one-op models against TFLM (integers exact, float32
within an ulp-sized tolerance for ELU's exponential)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import write_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph, Quantization
from edgecraft.reference import run_tflm
from edgecraft.runtime import run_model
from oracle import check_tflm


def elu_graph(shape: tuple[int, ...], dtype: str, q_in: Quantization | None = None,
              q_out: Quantization | None = None) -> Graph:
    b = GraphBuilder()
    x, y = b.tensor("x", shape, dtype, q_in), b.tensor("y", shape, dtype, q_out)
    b.op("ELU", [x], [y])
    return b.build([x], [y])


def prelu_graph(shape: tuple[int, ...], alpha: np.ndarray, dtype: str,
                qs: tuple[Quantization | None, ...] = (None, None, None)) -> Graph:
    b = GraphBuilder()
    x = b.tensor("x", shape, dtype, qs[0])
    a = b.const("alpha", alpha, qs[1])
    y = b.tensor("y", np.broadcast_shapes(shape, alpha.shape), dtype, qs[2])
    b.op("PRELU", [x, a], [y])
    return b.build([x], [y])


def test_literal_elu_int8() -> None:
    # scale 0.5 zp 0 both sides: 4 -> 2.0 -> 4; -2 -> exp(-1) - 1 = -0.632 -> -1.26 -> -1.
    g = elu_graph((4,), "int8", qparams(0.5, 0), qparams(0.5, 0))
    np.testing.assert_array_equal(check_tflm(g, [np.array([4, -2, 0, -128], np.int8)])[0], [4, -1, 0, -2])


def test_literal_prelu_int8() -> None:
    # all scales 0.5 except alpha 0.25: x = [4, -4] -> [2, -2]; alpha 2 -> 0.5: [2, -1] -> [4, -2].
    g = prelu_graph((2,), np.array([2], np.int8), "int8", (qparams(0.5), qparams(0.25), qparams(0.5)))
    np.testing.assert_array_equal(check_tflm(g, [np.array([4, -4], np.int8)])[0], [4, -2])


def test_random_elu_against_tflm() -> None:
    rng = np.random.default_rng(2)
    for _ in range(4):
        shape = tuple(int(d) for d in rng.integers(1, 5, 3))
        q_in = qparams(float(rng.uniform(0.01, 0.1)), int(rng.integers(-30, 30)))
        q_out = qparams(float(rng.uniform(0.01, 0.1)), int(rng.integers(-30, 30)))
        check_tflm(elu_graph(shape, "int8", q_in, q_out), [rng.integers(-128, 128, shape).astype(np.int8)])
    x = (rng.standard_normal((5, 20)) * 3).astype(np.float32)
    g = elu_graph(x.shape, "float32")
    ours, want = run_model(g, [x])[0], run_tflm(write_tflite(g), [x])[0]
    np.testing.assert_array_equal(ours, run_model(g, [x], reference=True)[0])
    assert np.all(np.abs(ours.view(np.int32) - want.view(np.int32)) <= 1)


@pytest.mark.parametrize("dtype", ["float32", "int8", "int16"])
def test_random_prelu_against_tflm(dtype: str) -> None:
    rng = np.random.default_rng(4)
    for _ in range(4):
        shape = tuple(int(d) for d in rng.integers(1, 5, 4))
        a_shape = shape[rng.integers(1, 4):]
        if dtype == "float32":
            alpha, qs = rng.uniform(-1, 1, a_shape).astype(np.float32), (None, None, None)
            x = rng.standard_normal(shape).astype(np.float32)
        else:
            zp = 0 if dtype == "int16" else int(rng.integers(-20, 20))
            qs = (qparams(float(rng.uniform(0.01, 0.1)), zp), qparams(float(rng.uniform(0.002, 0.02)), 0),
                  qparams(float(rng.uniform(0.01, 0.1)), zp))
            alpha = rng.integers(-128, 128, a_shape).astype(np.int8)
            info = np.iinfo(dtype)
            x = rng.integers(info.min, info.max + 1, shape).astype(dtype)
        check_tflm(prelu_graph(shape, alpha, dtype, qs), [x], f"PRELU {dtype}")
