"""TFLM's int8 epilogue (scale, output zero point, clamp) in a few in-place numpy calls.

The reference (:func:`edgecraft.ops.conv_common.requantize` after the bias) computes, per output
channel with multiplier ``M`` and shift ``s``, from the int32 accumulator ``a``::

    x = wrap32(wrap32(a) << max(s, 0));  h = SRDHM(x, M);  y = RDBPOT(h, max(-s, 0))
    out = clamp(y + zero_point, lo, hi)

in about twenty-five numpy passes. Three identities give the same integers in five to eight:

- ``SRDHM(x, M) = floor((x * M + 2**30) / 2**31)``: gemmlowp's nudge with C's truncating
  division rounds halves up for both signs; the one exception, ``x = M = INT32_MIN``, saturates
  to ``INT32_MAX`` (``x * M`` is then ``2**62``, the only product above ``2**62 - 2**31``, so
  clamping the product there gives it).
- ``RDBPOT(h, r) = floor((h + 2**(r-1) - [h < 0]) / 2**r)`` for ``r >= 1`` (halves away from
  zero), ``h`` for ``r = 0``.
- ``floor((floor(v / 2**31) + c) / 2**r) = floor((v + c * 2**31) / 2**(31 + r))`` for an
  integer ``c``, and ``floor(v / 2**S) + z = floor((v + z * 2**S) / 2**S)``.

So ``y + zero_point = (x * M + K - D * [x * M + 2**30 < 0]) >> S`` with per-channel constants
``S = 31 + r``, ``K = 2**30 + 2**(r-1) * 2**31 + zero_point * 2**S`` and ``D = 2**31`` (0 when
``r = 0``; not needed at all when the clamp's floor is at or above the zero point, as after
RELU: a negative ``h`` then gives that floor either way). When the accumulators provably never
leave int32 (``bound``), nothing wraps: the bias (and any other constant added to the sums)
folds into ``K`` as ``offset * (M << l)``, and the left shift into the multiplier. Every
constant is checked, once, to keep each int64 value below ``2**63``; a zero point that would
not fit is added after the shift instead, and sums that could leave int32 take the wrapping
form. ``tests/runtime/test_fast_plan.py`` compares every form with the reference on random and
extreme cases (saturating multipliers, left shifts, wrapping sums, every right shift 0 .. 31).
"""

from __future__ import annotations

import numpy as np

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
_LIMIT = 2**63 - 1
#: The largest ``x * M`` but one: ``x = M = INT32_MIN`` gives ``2**62``, clamped to this.
_SATURATED = (2**31 - 1) * 2**31


def _ints(a: np.ndarray | int, n: int) -> list[int]:
    return [int(v) for v in np.broadcast_to(np.asarray(a, dtype=np.int64), (n,))]


class Epilogue:
    """The int8 requantization of one operator's int64 sums, prepared from its per-channel
    ``multiplier`` and ``shift`` (as :func:`edgecraft.ops.arith.conv_multipliers` gives them),
    the per-channel ``offset`` TFLM adds to its int32 accumulator before scaling (the bias), the
    output ``zero_point`` and clamp ``[lo, hi]``.

    ``raw_bound[c]`` bounds ``|sums[..., c]|`` as given to :meth:`apply`, ``bound[c]`` TFLM's
    accumulator ``|sums + offset|`` (before any wrap); both per channel.
    """

    def __init__(self, multiplier: np.ndarray | int, shift: np.ndarray | int,
                 offset: np.ndarray | int, zero_point: int, lo: int, hi: int,
                 raw_bound: np.ndarray | int, bound: np.ndarray | int, channels: int) -> None:
        n = channels
        mult, shifts, offs = _ints(multiplier, n), _ints(shift, n), _ints(offset, n)
        raw, acc = _ints(raw_bound, n), _ints(bound, n)
        if not (all(INT32_MIN <= m <= INT32_MAX for m in mult) and abs(int(zero_point)) <= INT32_MAX
                and max(abs(int(lo)), abs(int(hi))) < 2**62
                and all(0 <= b < 2**62 for b in raw + acc) and all(abs(o) < 2**62 for o in offs)):
            raise ValueError("multipliers, zero point, bounds or offsets outside what TFLM's int32 "
                             "arithmetic holds")
        left = [max(s, 0) for s in shifts]
        right = [max(-s, 0) for s in shifts]
        if any(r > 31 for r in right) or any(s > 31 for s in left):
            raise ValueError("shifts must lie in [-31, 31] (quantize_multiplier's range)")
        self.shift_out = np.array([31 + r for r in right], np.int64)
        self.lo, self.hi = int(lo), int(hi)
        self.round_half = [(1 << r >> 1) << 31 for r in right]
        # Halves of negative h round away from zero; but a negative h gives at most the zero
        # point, so when the clamp's floor is at or above it (RELU, RELU6) the output is that
        # floor either way, and the correction is skipped.
        self.correct = any(r > 0 for r in right) and self.lo < zero_point
        self.D = np.array([2**31 if r > 0 else 0 for r in right], np.int64)
        # No wrap: every accumulator, shifted left, stays in int32 as TFLM's does.
        self.wraps = any((b << s) > INT32_MAX for b, s in zip(acc, left, strict=True))
        if not self.wraps:
            scaled = [m << s for m, s in zip(mult, left, strict=True)]
            base = [o * m + (1 << 30) + h for o, m, h in zip(offs, scaled, self.round_half, strict=True)]
            vmax = max(b * abs(m) for b, m in zip(raw, scaled, strict=True))
            self.M = np.array(scaled, np.int64)
            self.offset = None
        else:
            base = [(1 << 30) + h for h in self.round_half]
            vmax = 2**62
            self.M = np.array(mult, np.int64)
            self.offset = np.array(offs, np.int64)
            self.left = np.array(left, np.int64) if any(left) else None
            if max(b + abs(o) for b, o in zip(raw, offs, strict=True)) > _LIMIT:
                raise ValueError("sums too large for int64")
        self.saturate = self.wraps and INT32_MIN in mult
        with_zp = [k + (zero_point << s) for k, s in zip(base, self.shift_out.tolist(), strict=True)]
        self.zp_after = not self._fits(vmax, with_zp)
        if not self._fits(vmax, base if self.zp_after else with_zp):
            raise ValueError("the folded constants do not fit in int64")  # not reached for int8/int32
        self.zero_point = int(zero_point)
        self.K = np.array(base if self.zp_after else with_zp, np.int64)
        # [x * M + 2**30 < 0] as a test on sums * M + K: K less its offset and 2**30 terms.
        self.T = np.array([h + (0 if self.zp_after else zero_point << s) for h, s in
                           zip(self.round_half, self.shift_out.tolist(), strict=True)], np.int64)

    @staticmethod
    def _fits(vmax: int, consts: list[int]) -> bool:
        return vmax + max(abs(k) for k in consts) + 2**31 <= _LIMIT

    def apply(self, acc: np.ndarray, out: np.ndarray, mask: np.ndarray | None = None) -> None:
        """Requantize the int64 sums ``acc`` (channels last; overwritten) into ``out`` (int8,
        ``acc``'s shape); ``mask``: an optional bool buffer of ``acc``'s shape to reuse."""
        if self.wraps:
            acc += self.offset
            _wrap32(acc)
            if self.left is not None:
                np.left_shift(acc, self.left, out=acc)
                _wrap32(acc)
        np.multiply(acc, self.M, out=acc)
        if self.saturate:
            np.minimum(acc, _SATURATED, out=acc)
        acc += self.K
        if self.correct:
            mask = np.less(acc, self.T, out=mask)
            np.subtract(acc, self.D, out=acc, where=mask)
        np.right_shift(acc, self.shift_out, out=acc)
        if self.zp_after:
            acc += self.zero_point
        np.maximum(acc, self.lo, out=acc)
        np.minimum(acc, self.hi, out=out, casting="unsafe")


def _wrap32(a: np.ndarray) -> None:
    """A C cast to int32, in place."""
    a += 2**31
    a &= 0xFFFFFFFF
    a -= 2**31
