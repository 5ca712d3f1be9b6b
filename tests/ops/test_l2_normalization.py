"""L2_NORMALIZATION: literal cases, then random one-op models against TFLM (int8 and float32
exact: TFLM's float arithmetic is reproduced in order)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.ops.l2_normalization import inv_sqrt_multiplier_exp
from oracle import check_tflm


def l2_graph(shape: tuple[int, ...], dtype: str, zp: int = 0) -> Graph:
    b = GraphBuilder()
    q_in, q_out = (qparams(0.05, zp), qparams(1 / 128, 0)) if dtype == "int8" else (None, None)
    x, y = b.tensor("x", shape, dtype, q_in), b.tensor("y", shape, dtype, q_out)
    b.op("L2_NORMALIZATION", [x], [y])
    return b.build([x], [y])


def test_literal() -> None:
    # (3, 4) / 5 = (0.6, 0.8) -> 0.6 * 128 = 76.8, 0.8 * 128 = 102.4.
    got = check_tflm(l2_graph((1, 2), "int8"), [np.array([[30, 40]], np.int8)])[0]
    np.testing.assert_array_equal(got, [[77, 102]])
    got = check_tflm(l2_graph((2,), "float32"), [np.array([3, 4], np.float32)])[0]
    np.testing.assert_array_equal(got, np.array([0.6, 0.8], np.float32))


def test_inv_sqrt_multiplier() -> None:
    # 1 / sqrt(2500) = 0.02 = multiplier * 2**(shift - 31)
    m, s = inv_sqrt_multiplier_exp(2500)
    assert abs(m * 2.0 ** (s - 31) - 0.02) < 1e-6
    assert inv_sqrt_multiplier_exp(1) == (2**31 - 1, 0)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_random_against_tflm(dtype: str) -> None:
    rng = np.random.default_rng(6)
    for _ in range(5):
        shape = tuple(int(d) for d in rng.integers(1, 6, rng.integers(1, 5)))
        zp = int(rng.integers(-20, 20))
        x = rng.integers(-128, 128, shape).astype(np.int8) if dtype == "int8" else \
            (rng.standard_normal(shape) * 4).astype(np.float32)
        check_tflm(l2_graph(shape, dtype, zp), [x], f"{dtype} {shape}")


def test_long_row_takes_the_large_sum_path() -> None:
    # 40000 * 127^2 > 2**29: the inverse square root's input is divided down first.
    x = np.full((1, 40000), 127, np.int8)
    x[0, ::3] = -128
    check_tflm(l2_graph(x.shape, "int8"), [x])
