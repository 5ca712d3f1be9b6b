"""A real FFT in Q15 fixed point with the arithmetic of the KISS FFT (16-bit build) that TFLite
Micro's signal library uses, vectorized over frames.

The N-point real FFT packs even and odd samples into one N/2-point complex FFT, then splits the
result with a second set of twiddles. The complex FFT is mixed radix (radix 4 while it divides,
then 2), decimation in time; every butterfly first divides its inputs by the radix
(``x * (32767 // radix)`` rounded), every product is rounded to Q15
(``(a * b + 2^14) >> 15``), and every stored value wraps to int16 as C's conversions do.
Twiddles are ``floor(0.5 + 32767 cos/sin(phase))``. Only powers of two are supported.
``width=32`` gives KISS's 32-bit build (Q31, ``2^31 - 1``, int64 products) and ``irfft`` the
inverse (``kiss_fftri``: twiddle phases negated, butterflies turning the other way).
"""

from __future__ import annotations

import functools
import math

import numpy as np


def wrap(x: np.ndarray, width: int = 16) -> np.ndarray:
    """Wrap int64 values to the range of a ``width``-bit signed integer (C's conversion)."""
    half = 1 << (width - 1)
    return ((x + half) & ((1 << width) - 1)) - half


def s16(x: np.ndarray) -> np.ndarray:
    """Wrap int64 values to the int16 range (C's conversion to ``short``)."""
    return wrap(x, 16)


def _round(x: np.ndarray, width: int) -> np.ndarray:
    return wrap((x + (1 << (width - 2))) >> (width - 1), width)


def _div(x: np.ndarray, radix: int, width: int) -> np.ndarray:
    return _round(x * (((1 << (width - 1)) - 1) // radix), width)


def _mul(ar: np.ndarray, ai: np.ndarray, br: np.ndarray, bi: np.ndarray, width: int
         ) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(over="ignore"):  # int64 sums of two Q62 products wrap as in C
        return _round(ar * br - ai * bi, width), _round(ar * bi + ai * br, width)


def _half(x: np.ndarray, width: int) -> np.ndarray:
    """KISS's HALF_OF of a sum: int16 sums are computed in int, int32 sums wrap first."""
    return wrap((wrap(x, width) if width == 32 else x) >> 1, width)


def radices(n: int) -> list[int]:
    """The stage radices, outermost first: 4 while 4 divides, then 2 (n a power of two)."""
    if n < 2 or n & (n - 1):
        raise ValueError(f"FFT size must be a power of two >= 2, got {n}")
    out: list[int] = []
    while n > 1:
        p = 4 if n % 4 == 0 and (not out or out[-1] == 4) else 2
        out.append(p)
        n //= p
    return out


def q15_cexp(phases: list[float], width: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Twiddles ``floor(0.5 + 32767 cos), floor(0.5 + 32767 sin)`` as int64 (``2^31 - 1`` for
    the 32-bit build)."""
    top = (1 << (width - 1)) - 1
    re = np.array([math.floor(0.5 + top * math.cos(p)) for p in phases], np.int64)
    im = np.array([math.floor(0.5 + top * math.sin(p)) for p in phases], np.int64)
    return re, im


@functools.lru_cache(maxsize=16)
def plan(n: int, inverse: bool = False, width: int = 16
         ) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For an ``n``-point complex FFT: radices, the input order (digit reversal), twiddles; and the
    super twiddles of the ``2n``-point real FFT built on it (phases negated for the inverse)."""
    rad = radices(n)
    order = np.zeros(n, np.int64)

    def place(out: int, src: int, stride: int, level: int) -> None:
        p = rad[level]
        m = n // math.prod(rad[: level + 1])
        for k in range(p):
            if m == 1:
                order[out + k] = src + k * stride
            else:
                place(out + k * m, src + k * stride, stride * p, level + 1)

    place(0, 0, 1, 0)
    sign = 1 if inverse else -1
    tw_re, tw_im = q15_cexp([sign * 2 * math.pi * i / n for i in range(n)], width)
    sup_re, sup_im = q15_cexp([sign * math.pi * ((i + 1) / n + 0.5) for i in range(n // 2)], width)
    return rad, order, tw_re, tw_im, sup_re, sup_im


def cfft(re: np.ndarray, im: np.ndarray, inverse: bool = False, width: int = 16
         ) -> tuple[np.ndarray, np.ndarray]:
    """Complex FFT (or unnormalized inverse) of int16 values (any leading dimensions; int64
    arrays of int16 values out)."""
    n = re.shape[-1]
    rad, order, tw_re, tw_im, _, _ = plan(n, inverse, width)
    w = width

    def s16(x: np.ndarray) -> np.ndarray:  # the stored type of this build
        return wrap(x, w)

    lead = re.shape[:-1]
    xr = np.asarray(re, np.int64)[..., order].copy()
    xi = np.asarray(im, np.int64)[..., order].copy()
    span = 1
    for level in range(len(rad) - 1, -1, -1):
        p = rad[level]
        m = span
        stride = n // (p * m)
        xr = xr.reshape(*lead, n // (p * m), p, m)
        xi = xi.reshape(*lead, n // (p * m), p, m)
        k = np.arange(m)
        if p == 2:
            ar, ai = _div(xr[..., 0, :], 2, w), _div(xi[..., 0, :], 2, w)
            br, bi = _div(xr[..., 1, :], 2, w), _div(xi[..., 1, :], 2, w)
            tr, ti = _mul(br, bi, tw_re[k * stride], tw_im[k * stride], w)
            xr = np.stack([s16(ar + tr), s16(ar - tr)], axis=-2)
            xi = np.stack([s16(ai + ti), s16(ai - ti)], axis=-2)
        else:
            a = [(_div(xr[..., q, :], 4, w), _div(xi[..., q, :], 4, w)) for q in range(4)]
            s0 = _mul(*a[1], tw_re[k * stride], tw_im[k * stride], w)
            s1 = _mul(*a[2], tw_re[2 * k * stride], tw_im[2 * k * stride], w)
            s2 = _mul(*a[3], tw_re[3 * k * stride], tw_im[3 * k * stride], w)
            s5 = (s16(a[0][0] - s1[0]), s16(a[0][1] - s1[1]))
            a0 = (s16(a[0][0] + s1[0]), s16(a[0][1] + s1[1]))
            s3 = (s16(s0[0] + s2[0]), s16(s0[1] + s2[1]))
            s4 = (s16(s0[0] - s2[0]), s16(s0[1] - s2[1]))
            j = -1 if inverse else 1  # the inverse turns the other way: +i instead of -i
            out_r = [s16(a0[0] + s3[0]), s16(s5[0] + j * s4[1]), s16(a0[0] - s3[0]), s16(s5[0] - j * s4[1])]
            out_i = [s16(a0[1] + s3[1]), s16(s5[1] - j * s4[0]), s16(a0[1] - s3[1]), s16(s5[1] + j * s4[0])]
            xr = np.stack(out_r, axis=-2)
            xi = np.stack(out_i, axis=-2)
        xr = xr.reshape(*lead, n)
        xi = xi.reshape(*lead, n)
        span = p * m
    return xr, xi


def rfft(x: np.ndarray, nfft: int, width: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Real FFT of int16 frames ``(..., len <= nfft)`` (zero-padded): bins ``0..nfft/2`` as
    (real, imaginary) int64 arrays holding int16 values."""
    x = np.asarray(x, np.int64)
    if x.shape[-1] < nfft:
        x = np.concatenate([x, np.zeros((*x.shape[:-1], nfft - x.shape[-1]), np.int64)], axis=-1)
    n = nfft // 2
    _, _, _, _, sup_re, sup_im = plan(n, False, width)
    zr, zi = cfft(x[..., 0::2], x[..., 1::2], False, width)

    def s16(v: np.ndarray) -> np.ndarray:
        return wrap(v, width)

    out_r = np.zeros((*x.shape[:-1], n + 1), np.int64)
    out_i = np.zeros((*x.shape[:-1], n + 1), np.int64)
    dr, di = _div(zr[..., 0], 2, width), _div(zi[..., 0], 2, width)
    out_r[..., 0] = s16(dr + di)
    out_r[..., n] = s16(dr - di)
    k = np.arange(1, n // 2 + 1)
    pr, pi = _div(zr[..., k], 2, width), _div(zi[..., k], 2, width)
    qr, qi = _div(zr[..., n - k], 2, width), _div(s16(-zi[..., n - k]), 2, width)
    f1r, f1i = s16(pr + qr), s16(pi + qi)
    f2r, f2i = s16(pr - qr), s16(pi - qi)
    tr, ti = _mul(f2r, f2i, sup_re[k - 1], sup_im[k - 1], width)
    out_r[..., k] = _half(f1r + tr, width)
    out_i[..., k] = _half(f1i + ti, width)
    out_r[..., n - k] = _half(f1r - tr, width)  # k = n/2 is written twice; this one stays
    out_i[..., n - k] = _half(ti - f1i, width)
    return out_r, out_i


def irfft(re: np.ndarray, im: np.ndarray, nfft: int, width: int = 16) -> np.ndarray:
    """Inverse real FFT (KISS's ``kiss_fftri``, unnormalized but scaled down by every stage as the
    forward one) of bins ``0..nfft/2`` given as (real, imaginary) int16 values: ``nfft`` int16
    samples per frame, as int64."""
    re, im = np.asarray(re, np.int64), np.asarray(im, np.int64)
    n = nfft // 2
    _, _, _, _, sup_re, sup_im = plan(n, True, width)

    def s16(v: np.ndarray) -> np.ndarray:
        return wrap(v, width)

    tr = np.zeros((*re.shape[:-1], n), np.int64)
    ti = np.zeros((*re.shape[:-1], n), np.int64)
    tr[..., 0] = _div(s16(re[..., 0] + re[..., n]), 2, width)
    ti[..., 0] = _div(s16(re[..., 0] - re[..., n]), 2, width)
    k = np.arange(1, n // 2 + 1)
    fr, fi = _div(re[..., k], 2, width), _div(im[..., k], 2, width)
    cr, ci = _div(re[..., n - k], 2, width), _div(s16(-im[..., n - k]), 2, width)
    er, ei = s16(fr + cr), s16(fi + ci)
    orr, oi = _mul(s16(fr - cr), s16(fi - ci), sup_re[k - 1], sup_im[k - 1], width)
    tr[..., k], ti[..., k] = s16(er + orr), s16(ei + oi)
    tr[..., n - k], ti[..., n - k] = s16(er - orr), s16(-s16(ei - oi))
    zr, zi = cfft(tr, ti, True, width)
    return np.stack([zr, zi], axis=-1).reshape(*zr.shape[:-1], nfft)
