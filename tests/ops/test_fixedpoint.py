"""The gemmlowp fixed-point functions: literal values worked out by hand, and agreement with
the real functions they approximate (their primitives: tests/ops/test_arith.py). Their
bit-exactness with TFLM is checked through the SOFTMAX, LOGISTIC, TANH and HARD_SWISH tests."""

from __future__ import annotations

import numpy as np

from edgecraft.ops import fixedpoint as fp

MAX, MIN = 2**31 - 1, -(2**31)


def a(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_rescale_and_wrapping() -> None:
    assert fp.rescale(a(1 << 26), 5, 0).tolist() == [MAX]  # 1.0 does not fit Q0.31
    assert fp.add(a(MAX), 1).tolist() == [MIN]
    assert fp.neg(a(MIN, 5)).tolist() == [MIN, -5]


def test_count_leading_zeros() -> None:
    assert fp.count_leading_zeros_u32(a(0, 1, 2, 3, MAX, -1, 1 << 19)).tolist() == [32, 31, 30, 30, 1, 0, 12]


def test_exp_on_negative_values() -> None:
    # Q5.26 input: 0, -1, -1/4, -31, -32
    got = fp.exp_on_negative_values(a(0, -(1 << 26), -(1 << 24), -(31 << 26), MIN), 5)
    assert got.tolist() == [MAX, 790015308, 1672462419, 0, 0]  # exp(-1) * 2**31 = 790015084.35
    x = -np.linspace(0, 12, 1001)
    raw = np.round(x * 2**26).astype(np.int64)
    np.testing.assert_allclose(fp.exp_on_negative_values(raw, 5) / 2**31, np.exp(raw / 2**26), atol=1e-6)


def test_one_over_one_plus_x_and_reciprocal() -> None:
    assert fp.one_over_one_plus_x_for_x_in_0_1(a(0, 1 << 30)).tolist() == [MAX, 1431655762]  # 1, 2/3
    # 1/x for x = 1, 3, 10 in Q12.19: scale / 2**(31 + bits) = 1, 1/3, 1/10
    scale, bits = fp.get_reciprocal(a(1 << 19, 3 << 19, 10 << 19), 12)
    assert scale.tolist() == [MAX, 1431655762, 1717986914]
    assert bits.tolist() == [0, 1, 3]
    x = np.linspace(0, 0.999, 500)
    got = fp.one_minus_x_over_one_plus_x_for_x_in_0_1(np.round(x * 2**31).astype(np.int64)) / 2**31
    np.testing.assert_allclose(got, (1 - x) / (1 + x), atol=1e-8)


def test_logistic_and_tanh() -> None:
    q4 = a(0, 1 << 27, -(1 << 27), MAX)  # Q4.27: 0, 1, -1, ~16
    assert fp.logistic(q4, 4).tolist() == [1 << 30, 1569936226, 577547421, 2147483406]
    assert fp.tanh(q4, 4).tolist() == [0, 1635510876, -1635510876, MAX]
    x = np.linspace(-15.9, 15.9, 2001)
    raw = np.round(x * 2**27).astype(np.int64)
    np.testing.assert_allclose(fp.logistic(raw, 4) / 2**31, 1 / (1 + np.exp(-raw / 2**27)), atol=1e-7)
    np.testing.assert_allclose(fp.tanh(raw, 4) / 2**31, np.tanh(raw / 2**27), atol=1e-7)
