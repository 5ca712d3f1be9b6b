"""ops/arith.py, the one home of TFLM's integer arithmetic: no second definition anywhere in
src/, literal cases worked out by hand, scalar and vectorized twins equal, and the int64
requantization against TFLM's int16 FULLY_CONNECTED."""

from __future__ import annotations

import ast
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pytest

from edgecraft.formats import write_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ops import arith
from edgecraft.ops.base import OpError
from edgecraft.reference import run_tflm

SRC = Path(arith.__file__).resolve().parents[1]  # src/edgecraft
MAX, MIN = 2**31 - 1, -(2**31)
#: Fragments of the names of TFLM's arithmetic (and of the copies that existed before).
FORBIDDEN = ("quantize_multiplier", "multiply_by_quantized", "high_mul", "divide_by_pot",
             "multiply_by_pot", "round_half", "rounding_half", "tflite_round", "to_int16_multiplier",
             "conv_multipliers", "channel_multipliers", "wrap_int", "saturate_int", "left_shift_int")


def a(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_no_second_definition_in_src() -> None:
    public = {n for n, v in vars(arith).items()
              if callable(v) and getattr(v, "__module__", "") == arith.__name__ and not n.startswith("_")}
    assert {"quantize_multiplier", "multiply_by_quantized_multiplier", "round_half_away"} <= public
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        defs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        for node in defs:
            name = node.name
            if path.name == "arith.py" and path.parent.name == "ops":
                continue
            if name in public or any(f in name.lower() for f in FORBIDDEN):
                found.append(f"{path.relative_to(SRC)}:{node.lineno} {name}")
        # The inline idiom of a half-away rounding, e.g. np.floor(np.abs(x) + 0.5).
        if not (path.name == "arith.py" and path.parent.name == "ops"):
            for i, line in enumerate(path.read_text().splitlines(), 1):
                if re.search(r"floor\(.*\+\s*0\.5\)", line):
                    found.append(f"{path.relative_to(SRC)}:{i} inline round-half-away")
    assert not found, f"TFLM arithmetic defined outside ops/arith.py: {found}"
    arith_tree = ast.parse(Path(arith.__file__).read_text())
    names = [n.name for n in arith_tree.body if isinstance(n, ast.FunctionDef)]
    assert len(names) == len(set(names))


def test_round_half_away() -> None:
    cases = [(2.5, 3), (-2.5, -3), (1.5, 2), (-0.5, -1), (0.0, 0), (2.4999, 2),
             (0.49999999999999994, 0), (-0.49999999999999994, 0), (4503599627370497.0, 4503599627370497)]
    for x, want in cases:
        assert arith.round_half_away(x) == want, x
        assert arith.round_half_away_array(np.array([x]))[0] == want, x


def test_round_half_away_scalar_and_array_agree_with_decimal() -> None:
    rng = np.random.default_rng(3)
    halves = rng.integers(-10**6, 10**6, 3000) + 0.5
    near = np.concatenate([np.nextafter(halves, 0), np.nextafter(halves, np.inf)])
    values = np.concatenate([halves, near, rng.normal(0, 1e3, 3000), rng.normal(0, 1, 1000),
                             rng.normal(0, 2**40, 500)])
    got = arith.round_half_away_array(values)
    for v, g in zip(values.tolist(), got.tolist(), strict=True):
        want = int(Decimal(v).quantize(Decimal(1), rounding=ROUND_HALF_UP))  # exact; halves away
        assert arith.round_half_away(v) == want == g, v


def test_quantize_multiplier() -> None:
    assert arith.quantize_multiplier(0.5) == (1 << 30, 0)
    assert arith.quantize_multiplier(0.75) == (3 << 29, 0)
    assert arith.quantize_multiplier(1.0) == (1 << 30, 1)
    assert arith.quantize_multiplier(-0.5) == (-(1 << 30), 0)
    assert arith.quantize_multiplier(2.0**-31) == (1 << 30, -30)
    assert arith.quantize_multiplier(1e-12) == (0, 0)  # shift -39 flushes to zero
    assert arith.quantize_multiplier(1 - 2.0**-40) == (1 << 30, 1)  # rounds up to 2**31: halved
    # No clamp at 30 (double rounding); TFLM agrees where SOFTMAX's multiplier is capped at
    # 2**31 - 1 (tests/ops/test_softmax.py::test_beta_sweep_matches_tflm, beta 1e4).
    assert arith.quantize_multiplier(2.0**31 - 1) == (MAX, 31)
    assert arith.quantize_multiplier(0.0) == (0, 0)
    assert arith.quantize_multiplier_smaller_than_one_exp(0.25) == (1 << 30, -1)
    assert arith.quantize_multiplier_greater_than_one(3.0) == (3 << 29, 2)
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="not in"):
            arith.quantize_multiplier_smaller_than_one_exp(bad)
    with pytest.raises(ValueError, match="greater than 1"):
        arith.quantize_multiplier_greater_than_one(1.0)
    assert arith.downscale_int32_to_int16_multiplier(1 << 30) == 1 << 14
    assert arith.downscale_int32_to_int16_multiplier((1 << 30) + (1 << 15)) == (1 << 14) + 1  # rounds up
    assert arith.downscale_int32_to_int16_multiplier(MAX - (1 << 15)) == 32767  # would reach 2**15


def test_vectorized_multipliers_equal_scalar() -> None:
    rng = np.random.default_rng(5)
    reals = np.concatenate([10.0 ** rng.uniform(-12, 11, 3000), -(10.0 ** rng.uniform(-5, 3, 500)),
                            [0.0, 0.5, 1.0, 2.0**-31, 2.0**-32, 2.0**31, 1 - 2.0**-40, 1 - 2.0**-33]])
    mult, shift = arith.quantize_multipliers(reals)
    want = [arith.quantize_multiplier(float(r)) for r in reals]
    assert list(zip(mult.tolist(), shift.tolist(), strict=True)) == want


def test_conv_multipliers() -> None:
    # 0.5 * 0.5 / 1 = 0.25 and 0.5 * 0.25 / 1 = 0.125: multiplier 2**30 with shifts -1 and -2.
    mult, shift = arith.conv_multipliers(0.5, np.array([0.5, 0.25]), 1.0, 2)
    assert (mult.tolist(), shift.tolist()) == ([1 << 30, 1 << 30], [-1, -2])
    mult, shift = arith.conv_multipliers(0.5, np.array([0.5]), 1.0, 3)  # one scale, broadcast
    assert (mult.tolist(), shift.tolist()) == ([1 << 30] * 3, [-1] * 3)
    with pytest.raises(OpError, match="2 scales for 3 output channels"):
        arith.conv_multipliers(0.5, np.array([0.5, 0.25]), 1.0, 3)


def test_saturating_rounding_doubling_high_mul() -> None:
    half = 1 << 30  # 0.5 in Q0.31
    got = arith.saturating_rounding_doubling_high_mul(a(half, -half, MIN, 3, -3, 5),
                                                      a(half, half, MIN, half, half, half))
    # 0.25, -0.25, the one overflow, then 1.5 -> 2, -1.5 -> -1 (ties go up), 2.5 -> 3
    assert got.tolist() == [1 << 29, -(1 << 29), MAX, 2, -1, 3]


def test_rounding_divide_by_pot() -> None:
    assert arith.rounding_divide_by_pot(a(5, -5, 4, -4, 6, -6, 7), 1).tolist() == [3, -3, 2, -2, 3, -3, 4]
    assert arith.rounding_divide_by_pot(a(6, -6, 5), 2).tolist() == [2, -2, 1]  # 1.5 -> 2, -1.5 -> -2
    assert arith.rounding_divide_by_pot(a(6, 6, 6), a(0, 1, 2)).tolist() == [6, 3, 2]  # per channel


def test_saturating_rounding_multiply_by_pot_and_half_sum() -> None:
    got = arith.saturating_rounding_multiply_by_pot(a(1 << 29, (1 << 29) - 1, -(1 << 29), MIN, 3), 2)
    assert got.tolist() == [MAX, MAX - 3, MIN, MIN, 12]
    assert arith.saturating_rounding_multiply_by_pot(a(5, -5, 3, -3, 4), -1).tolist() == [3, -3, 2, -2, 2]
    assert arith.rounding_half_sum(a(3, -3, 1, -1, MAX), a(4, -4, 0, 0, MAX)).tolist() == [4, -4, 1, -1, MAX]


def test_multiply_by_quantized_multiplier() -> None:
    half, three_quarters = 1 << 30, 3 << 29
    assert arith.multiply_by_quantized_multiplier(a(100), half, 0).tolist() == [50]
    assert arith.multiply_by_quantized_multiplier(a(100), half, -1).tolist() == [25]
    assert arith.multiply_by_quantized_multiplier(a(100), half, 2).tolist() == [200]
    # Two roundings: 1 * 0.75 -> 1, then / 2 -> 0.5 -> 1 (one rounding of 0.375 would give 0).
    assert arith.multiply_by_quantized_multiplier(a(1), three_quarters, -1).tolist() == [1]
    # The left shift wraps in int32 as the C multiply does: 2**30 * 4 -> 0.
    assert arith.multiply_by_quantized_multiplier(a(1 << 30), half, 2).tolist() == [0]
    # Per channel: multipliers and shifts broadcast along the last axis.
    got = arith.multiply_by_quantized_multiplier(a(10, 10, 10), a(half, three_quarters, half), a(0, 1, -1))
    assert got.tolist() == [5, 15, 3]  # 5, 10 * 2 * 0.75, 5 / 2 -> 3
    assert arith.multiply_by_quantized_multiplier_smaller_than_one(a(100, -7), half, -1).tolist() == [25, -2]
    assert arith.multiply_by_quantized_multiplier_greater_than_one(a(100, 3), half, 2).tolist() == [200, 6]


def test_multiply_by_quantized_multiplier_int64() -> None:
    half = 1 << 30  # reduced to 16384 (0.5 in Q0.15); one rounding, halves up
    got = arith.multiply_by_quantized_multiplier_int64(a(1000, 1001, -1001, 3 << 31), half, 0)
    assert got.tolist() == [500, 501, -500, -(1 << 30)]  # 500.5 -> 501, -500.5 -> -500; 3 * 2**30 wraps
    assert arith.multiply_by_quantized_multiplier_int64(a(1 << 40), half, -10).tolist() == [1 << 29]
    assert arith.multiply_by_quantized_multiplier_int64(a(3), 0x7FFF0000, 1).tolist() == [6]  # 0x7FFF


@pytest.mark.parametrize("seed", range(3))
def test_int64_requantization_matches_tflm_int16_fully_connected(seed: int) -> None:
    """TFLM's int16 FULLY_CONNECTED requantizes int64 accumulators with the int64 variant."""
    rng = np.random.default_rng(seed)
    depth, units, rows = 48, 12, 3
    s_in, s_w = 0.0007, 0.01
    bias_bits, s_out = ((33, 3.0), (20, 0.013), (10, 0.02))[seed]  # accumulators past int32 first
    w = rng.integers(-127, 128, (units, depth)).astype(np.int8)
    bias = rng.integers(-(2**bias_bits), 2**bias_bits, units).astype(np.int64)
    b = GraphBuilder()
    x = b.tensor("x", (rows, depth), "int16", qparams(s_in, 0))
    s_bias = float(np.float32(s_in) * np.float32(s_w))
    inputs = [x, b.const("w", w, qparams(s_w)), b.const("b", bias, qparams(s_bias))]
    y = b.tensor("y", (rows, units), "int16", qparams(s_out, 0))
    b.op("FULLY_CONNECTED", inputs, [y])
    g = b.build([x], [y])
    xv = rng.integers(-32768, 32768, (rows, depth)).astype(np.int16)
    (ref,) = run_tflm(write_tflite(g), [xv])
    acc = xv.astype(np.int64) @ w.astype(np.int64).T + bias
    real = float(np.float32(s_in)) * float(np.float32(s_w)) / float(np.float32(s_out))
    m, s = arith.quantize_multiplier(real)
    ours = np.clip(arith.multiply_by_quantized_multiplier_int64(acc, m, s), -32768, 32767)
    assert np.array_equal(ours, ref)
    if seed == 0:  # accumulators past int32: the int32 variant would differ
        int32_variant = arith.multiply_by_quantized_multiplier(acc, m, s)
        assert not np.array_equal(ours, np.clip(int32_variant, -32768, 32767))
    assert np.abs(ref).max() < 32767  # not all saturated: the comparison means something


def test_int16_variants() -> None:
    half = 1 << 14  # 0.5 in Q0.15
    got = arith.saturating_rounding_doubling_high_mul_int16(a(half, -32768, 3), a(half, -32768, half))
    assert got.tolist() == [1 << 13, 32767, 2]
    # the non-rounding multiply truncates toward zero: 3 * 0.5 = 1.5 -> 1, -1.5 -> -1
    got = arith.saturating_doubling_high_mul_int16(a(3, -3, -32768), a(half, half, -32768))
    assert got.tolist() == [1, -1, 32767]
    assert arith.rounding_divide_by_pot_int16(a(5, -5, 6), 1).tolist() == [3, -3, 3]
    # with 16 or more bits the int16 mask truncates to -1, as in the C template: 0 and up give 1
    assert arith.rounding_divide_by_pot_int16(a(5, 0, -5), 16).tolist() == [1, 1, -1]
    assert arith.saturating_left_shift_int16(a(20000, -20000, 100), 1).tolist() == [32767, -32768, 200]
    assert arith.wrap_int16(a(32768, -32769)).tolist() == [-32768, 32767]
    assert arith.wrap_int32(a(2**31, -(2**31) - 1, 5)).tolist() == [MIN, MAX, 5]
