"""gemmlowp-style fixed-point math, as TensorFlow Lite Micro's ``fixedpoint.h`` computes it.

A value ``FixedPoint<int32, k>`` is an int32 ``raw`` standing for ``raw / 2**(31 - k)``: ``k``
integer bits, ``31 - k`` fractional bits, range ``[-2**k, 2**k)``. Every function here takes
and returns raw values as numpy int64 arrays that hold int32 values, and reproduces the C code
bit for bit: additions wrap like two's complement int32, multiplications are
``SaturatingRoundingDoublingHighMul``, shifts round or saturate exactly where the C does.

The transcendental functions (``exp_on_negative_values``, ``logistic``, ``tanh``) and the
reciprocal are the ones TFLM's int8 SOFTMAX, LOGISTIC and TANH kernels call. They are built on
the primitives of :mod:`edgecraft.ops.arith` (the one home of TFLM's integer arithmetic).
"""

from __future__ import annotations

import numpy as np

from edgecraft.ops.arith import (
    INT32_MAX,
    rounding_half_sum,
    saturating_rounding_doubling_high_mul,
    saturating_rounding_multiply_by_pot,
    wrap_int32,
)

#: exp(-2**e) in Q0.31 for the barrel shifter of ``exp_on_negative_values``, e = -2 .. 4.
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))
_EXP_MINUS_ONE_EIGHTH = 1895147668  # exp(-1/8) in Q0.31
_ONE_THIRD = 715827883  # 1/3 in Q0.31
_48_OVER_17 = 1515870810  # in Q2.29
_NEG_32_OVER_17 = -1010580540  # in Q2.29

# `mul` is the fixed-point product: integer bits add up, the raw values go through SRDHM.
mul = saturating_rounding_doubling_high_mul


def _i64(x: np.ndarray | int) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def one(integer_bits: int) -> int:
    """Raw value of 1.0 (the largest value, just below 1, when there are no integer bits)."""
    return INT32_MAX if integer_bits == 0 else 1 << (31 - integer_bits)


def constant_pot(exponent: int, integer_bits: int) -> int:
    """Raw value of ``2**exponent`` (``ConstantPOT``)."""
    return 1 << (31 - integer_bits + exponent)


def add(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """int32 addition; wraps on overflow as the hardware does."""
    return wrap_int32(_i64(a) + _i64(b))


def sub(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """int32 subtraction; wraps on overflow."""
    return wrap_int32(_i64(a) - _i64(b))


def neg(a: np.ndarray) -> np.ndarray:
    """int32 negation (``-INT32_MIN`` wraps to itself)."""
    return wrap_int32(-_i64(a))


def rescale(x: np.ndarray, src_integer_bits: int, dst_integer_bits: int) -> np.ndarray:
    """``Rescale<dst>``: the same real value with another number of integer bits."""
    return saturating_rounding_multiply_by_pot(x, src_integer_bits - dst_integer_bits)


def count_leading_zeros_u32(x: np.ndarray) -> np.ndarray:
    """Leading zero bits of ``x`` read as uint32 (32 for zero)."""
    u = _i64(x) & 0xFFFFFFFF
    _, bit_length = np.frexp(u.astype(np.float64))  # exact: u < 2**53
    return 32 - bit_length.astype(np.int64)


def exp_on_interval_between_negative_one_quarter_and_0_excl(a: np.ndarray) -> np.ndarray:
    """exp(a) for a in [-1/4, 0), Q0.31 in and out: a Taylor expansion around -1/8."""
    x = add(a, constant_pot(-3, 0))
    x2 = mul(x, x)
    x3 = mul(x2, x)
    x4 = mul(x2, x2)
    x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2)
    poly = saturating_rounding_multiply_by_pot(add(mul(add(x4_over_4, x3), _ONE_THIRD), x2), -1)
    return add(_EXP_MINUS_ONE_EIGHTH, mul(add(x, poly), _EXP_MINUS_ONE_EIGHTH))


def exp_on_negative_values(a: np.ndarray, integer_bits: int) -> np.ndarray:
    """exp(a) for a <= 0 given in Q``integer_bits``; returns Q0.31.

    The fractional part modulo 1/4 goes through the Taylor expansion; each set bit of the
    remaining multiple of 1/4 multiplies in a constant exp(-2**e).
    """
    a = _i64(a)
    frac_bits = 31 - integer_bits
    quarter = constant_pot(-2, integer_bits)
    a_mod_quarter_minus_quarter = sub(a & (quarter - 1), quarter)
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        rescale(a_mod_quarter_minus_quarter, integer_bits, 0))
    remainder = sub(a_mod_quarter_minus_quarter, a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = 1 << (frac_bits + exponent)
            result = np.where(remainder & bit, mul(result, multiplier), result)
    if integer_bits > 5:  # below -32 the result is zero
        result = np.where(a < -(1 << (36 - integer_bits)), 0, result)
    return np.where(a == 0, one(0), result)


def _newton_reciprocal_of_half_denominator(half_denominator: np.ndarray) -> np.ndarray:
    """Three Newton-Raphson steps for 1 / half_denominator, in Q2.29."""
    x = add(_48_OVER_17, mul(half_denominator, _NEG_32_OVER_17))
    for _ in range(3):
        one_minus_hd_x = sub(one(2), mul(half_denominator, x))
        x = add(x, rescale(mul(x, one_minus_hd_x), 4, 2))
    return x


def one_over_one_plus_x_for_x_in_0_1(a: np.ndarray) -> np.ndarray:
    """1 / (1 + a) for a in [0, 1), Q0.31 in and out."""
    x = _newton_reciprocal_of_half_denominator(rounding_half_sum(a, one(0)))
    return rescale(x, 1, 0)  # x / 2, read as Q1.30, then brought to Q0.31


def one_minus_x_over_one_plus_x_for_x_in_0_1(a: np.ndarray) -> np.ndarray:
    """(1 - a) / (1 + a) for a in [0, 1), Q0.31 in and out."""
    x = _newton_reciprocal_of_half_denominator(rounding_half_sum(a, one(0)))
    return rescale(sub(x, one(2)), 2, 0)


def logistic(a: np.ndarray, integer_bits: int) -> np.ndarray:
    """1 / (1 + exp(-a)) for ``a`` in Q``integer_bits``; returns Q0.31."""
    a = _i64(a)
    positive = a > 0
    abs_a = np.where(positive, a, neg(a))
    if_positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(neg(abs_a), integer_bits))
    if_negative = sub(one(0), if_positive)
    return np.where(a == 0, 1 << 30, np.where(positive, if_positive, if_negative))


def tanh(a: np.ndarray, integer_bits: int) -> np.ndarray:
    """tanh(a) for ``a`` in Q``integer_bits``; returns Q0.31."""
    a = _i64(a)
    negative = a < 0
    n = np.where(negative, a, neg(a))  # -|a|
    # -tanh(n) = (1 - exp(2n)) / (1 + exp(2n)); 2n is the same raw value with one more integer bit
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, integer_bits + 1))
    return np.where(a == 0, 0, np.where(negative, neg(t), t))


def get_reciprocal(x: np.ndarray, integer_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """``GetReciprocal``: for positive ``x`` in Q``integer_bits``, returns ``(scale,
    num_bits_over_unit)`` with ``1/x = scale / 2**(31 + num_bits_over_unit)`` (scale in Q0.31)."""
    x = _i64(x)
    headroom_plus_one = count_leading_zeros_u32(x)
    num_bits_over_unit = integer_bits - headroom_plus_one
    shifted_minus_one = wrap_int32(((x & 0xFFFFFFFF) << headroom_plus_one) - (1 << 31))
    return one_over_one_plus_x_for_x_in_0_1(shifted_minus_one), num_bits_over_unit


def inv_sqrt_quantized_multiplier_exp(value: int, reverse_shift: int = -1) -> tuple[int, int]:
    """TFLite's ``GetInvSqrtQuantizedMultiplierExp``: ``1/sqrt(value)`` as (multiplier, shift)
    for MultiplyByQuantizedMultiplier, by five Newton-Raphson steps in ``FixedPoint<int32, 3>``
    from the guess 1 (values <= 1 give ``(INT32_MAX, 0)``, as TFLM does)."""
    if value <= 1:
        return INT32_MAX, 0
    shift = 11
    while value >= 1 << 29:
        value //= 4
        shift += 1
    pairs = (int(count_leading_zeros_u32(_i64(value))) - 1) // 2 - 1
    shift -= pairs
    value <<= 2 * pairs
    x_in = _i64(value >> 1)  # F3
    half_input = saturating_rounding_multiply_by_pot(x_in, -1)
    half_three = (1 << 28) + (1 << 27)  # 1.5 in F3
    x = _i64(one(3))
    for _ in range(5):
        x3 = rescale(mul(mul(x, x), x), 9, 3)
        x = rescale(sub(mul(half_three, x), mul(half_input, x3)), 6, 3)
    raw = int(mul(x, 1518500250))  # * sqrt(2)/2 in F0
    if shift < 0:
        raw = int(wrap_int32(raw << -shift))
        shift = 0
    return raw, shift * reverse_shift
