"""The gemmlowp fixed-point helpers: literal values worked out by hand, and agreement with the
real functions they approximate. (Their bit-exactness with TFLM is checked through the
SOFTMAX, LOGISTIC, TANH and HARD_SWISH tests.)"""

from __future__ import annotations

import numpy as np

from edgecraft.ops import fixedpoint as fp

MAX, MIN = 2**31 - 1, -(2**31)


def a(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_saturating_rounding_multiply_by_pot() -> None:
    # left: x * 4 saturates beyond (2**29 - 1); right: x / 2 rounds halves away from zero
    got = fp.saturating_rounding_multiply_by_pot(a(1 << 29, (1 << 29) - 1, -(1 << 29), MIN, 3), 2)
    assert got.tolist() == [MAX, MAX - 3, MIN, MIN, 12]
    assert fp.saturating_rounding_multiply_by_pot(a(5, -5, 3, -3, 4), -1).tolist() == [3, -3, 2, -2, 2]
    assert fp.rescale(a(1 << 26), 5, 0).tolist() == [MAX]  # 1.0 does not fit Q0.31


def test_rounding_half_sum_and_wrapping() -> None:
    assert fp.rounding_half_sum(a(3, -3, 1, -1, MAX), a(4, -4, 0, 0, MAX)).tolist() == [4, -4, 1, -1, MAX]
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


def test_quantize_multiplier() -> None:
    assert fp.quantize_multiplier(0.5) == (1 << 30, 0)
    assert fp.quantize_multiplier(0.75) == (3 << 29, 0)
    assert fp.quantize_multiplier(2.0**31 - 1) == (MAX, 31)  # no clamp at shift 30 (double rounding)
    assert fp.quantize_multiplier(1e-12) == (0, 0)
    assert (fp.round_half_away(2.5), fp.round_half_away(-2.5)) == (3, -3)


def test_int16_helpers() -> None:
    half = 1 << 14  # 0.5 in Q0.15
    got = fp.saturating_rounding_doubling_high_mul_int16(a(half, -32768, 3), a(half, -32768, half))
    assert got.tolist() == [1 << 13, 32767, 2]
    # the non-rounding multiply truncates toward zero: 3 * 0.5 = 1.5 -> 1, -1.5 -> -1
    got = fp.saturating_doubling_high_mul_int16(a(3, -3, -32768), a(half, half, -32768))
    assert got.tolist() == [1, -1, 32767]
    assert fp.rounding_divide_by_pot_int16(a(5, -5, 6), 1).tolist() == [3, -3, 3]
    # with 16 or more bits the int16 mask truncates to -1, as in the C template: 0 and up give 1
    assert fp.rounding_divide_by_pot_int16(a(5, 0, -5), 16).tolist() == [1, 1, -1]
    assert fp.wrap_int16(a(32768, -32769)).tolist() == [-32768, 32767]
