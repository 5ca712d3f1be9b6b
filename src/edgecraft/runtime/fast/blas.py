"""Exact BLAS forms of the integer sums of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED.

An integer dot product computed as a float matmul is exact when every partial sum is an integer
the float type holds exactly: below 2**24 for float32, 2**53 for float64. Exact sums do not
depend on the order BLAS adds them in, so the result equals the reference's int64 sums bit for
bit. The inputs are int8 less an int8 zero point (|x - zp| <= 255), the filters constant int8;
:func:`exact_dtype` picks float32 when the bound allows it, else float64, once per operator.
The filter, rearranged for the matmul, is also made once per operator (``OpContext.memo``).
BLAS runs on the process's threads (``OPENBLAS_NUM_THREADS``; tests and benchmarks set 1).
"""

from __future__ import annotations

import numpy as np

from edgecraft.ops.base import OpContext
from edgecraft.ops.conv_common import windows
from edgecraft.ops.depthwise_conv_2d import depthwise

#: The largest |x - zero_point| of an int8 input less an int8 zero point.
INPUT_BOUND = 255


def exact_float(terms: int, max_a: int, max_b: int) -> type:
    """The narrower float type in which a dot product of ``terms`` integer products, with
    operands bounded by ``max_a`` and ``max_b``, is exact: float32 while every partial sum stays
    below 2**24 (its mantissa), else float64 (exact below 2**53: any int8 dot product shorter
    than 2**37 terms)."""
    return np.float32 if terms * max_a * max(max_b, 1) < 2**24 else np.float64


def exact_dtype(ctx: OpContext, w: np.ndarray, terms: int, w_zp: int = 0) -> type:
    """:func:`exact_float` for ``terms`` products of an int8 input less its zero point and the
    constant filter ``w`` less ``w_zp``; decided once per operator."""
    dtype: type = ctx.memo(f"exact_dtype_{w_zp}", lambda: exact_float(
        terms, INPUT_BOUND, int(np.abs(w.astype(np.int64) - w_zp).max(initial=0))))
    return dtype


def _check_int8(x: np.ndarray) -> None:
    if x.dtype != np.int8:  # the exactness bound assumes it; the kernels only pass int8
        raise TypeError(f"the exact BLAS sums need int8 input, got {x.dtype}")


def conv_filter(ctx: OpContext, w: np.ndarray, groups: int) -> tuple[type, np.ndarray]:
    """The exact float type and the filter as (G, KH*KW*Cg, O/G) matrices in it."""
    out_ch, kh, kw, group_ch = w.shape
    dtype = exact_dtype(ctx, w, kh * kw * group_ch)
    return dtype, np.ascontiguousarray(
        w.astype(dtype).reshape(groups, out_ch // groups, kh * kw * group_ch).transpose(0, 2, 1))


def im2col_conv(ctx: OpContext, x: np.ndarray, zero_point: int, w: np.ndarray) -> np.ndarray:
    """CONV_2D's sums (see :func:`edgecraft.ops.conv_2d.sum_over_taps`) as im2col + one matmul
    per group: every window becomes a row, the filter a (taps * channels, outputs) matrix."""
    _check_int8(x)
    out_ch, kh, kw, group_ch = w.shape
    groups = x.shape[3] // group_ch
    dtype, filt = ctx.memo("conv_im2col", lambda: conv_filter(ctx, w, groups))
    xf = x.astype(dtype) - dtype(zero_point)
    if kh == kw == 1 and groups == 1:  # pointwise: a 1x1 window never pads; the pixels are the rows
        sub = xf[:, :: int(ctx.attrs.get("stride_h", 1)), :: int(ctx.attrs.get("stride_w", 1)), :]
        n, oh, ow = sub.shape[:3]
        cols = sub.reshape(1, n * oh * ow, group_ch)
    else:
        win = windows(xf, ctx, kh, kw, 0)  # (N, OH, OW, KH, KW, C)
        n, oh, ow = win.shape[:3]
        # (N,OH,OW,KH,KW,G,Cg) -> (G, N*OH*OW, KH*KW*Cg)
        cols = win.reshape(n, oh, ow, kh, kw, groups, group_ch).transpose(5, 0, 1, 2, 3, 4, 6)
        cols = cols.reshape(groups, n * oh * ow, kh * kw * group_ch)
    acc = cols @ filt  # (G, N*OH*OW, O/G); channel g * O/G + j
    return acc.transpose(1, 0, 2).reshape(n, oh, ow, out_ch).astype(np.int64)


def depthwise_exact_float(ctx: OpContext, x: np.ndarray, zero_point: int, w: np.ndarray) -> np.ndarray:
    """DEPTHWISE_CONV_2D's sums: the reference's loop over taps
    (:func:`edgecraft.ops.depthwise_conv_2d.depthwise`) in the exact float type, not int64."""
    _check_int8(x)
    dtype = exact_dtype(ctx, w, w.shape[1] * w.shape[2])  # one product per tap per output
    return depthwise(x.astype(dtype) - dtype(zero_point), w, ctx, dtype).astype(np.int64)


def fc_blas(ctx: OpContext, rows: np.ndarray, x_zp: int, w: np.ndarray, w_zp: int) -> np.ndarray:
    """FULLY_CONNECTED's sums (see :func:`edgecraft.ops.fully_connected.dot_products`) as one
    matmul with the shifted, transposed filter made once."""
    _check_int8(rows)
    def make() -> tuple[type, np.ndarray]:
        dtype = exact_dtype(ctx, w, w.shape[1], w_zp)
        return dtype, np.ascontiguousarray((w.astype(np.int64) - w_zp).T.astype(dtype))

    dtype, filt = ctx.memo(f"fc_blas_{w_zp}", make)
    return ((rows.astype(dtype) - dtype(x_zp)) @ filt).astype(np.int64)
