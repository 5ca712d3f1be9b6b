"""CONV_2D and DEPTHWISE_CONV_2D bound to their arena views: the padded input, every filter tap
and the im2col matrix are fixed buffers and views made once, so a run is a few numpy calls.

Each run writes ``x - zero_point`` into the interior of a zeroed padded buffer in the exact
float type (the border is never written, so padded taps stay 0 and add nothing, as TFLM skips
taps outside the image), then sums: DEPTHWISE_CONV_2D one multiply-add per tap over views of
that buffer, CONV_2D one copy of its windows into an im2col matrix (none when the windows are
already rows: 1x1, stride 1) and one BLAS matmul. The sums are the exact integers of
:mod:`.blas` (same float type and bound), so the order of the additions does not matter.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgecraft.ops.base import OpContext
from edgecraft.ops.conv_common import window_geometry
from edgecraft.runtime.fast.blas import conv_filter, exact_dtype
from edgecraft.runtime.fast.requant import Epilogue


class _Padded:
    """A zeroed padded copy of an NHWC input in ``dtype``: ``inner`` is where the input goes,
    ``tap(i, j)`` the (N, OH, OW, C) view that filter tap (i, j) reads."""

    def __init__(self, ctx: OpContext, shape: tuple[int, ...], kh: int, kw: int, dtype: type) -> None:
        a = ctx.attrs
        self.sh, self.sw = int(a.get("stride_h", 1)), int(a.get("stride_w", 1))
        self.dh, self.dw = int(a.get("dilation_h_factor", 1)), int(a.get("dilation_w_factor", 1))
        n, h, w, c = shape
        self.out_h, self.out_w, top, left = window_geometry(ctx, h, w, kh, kw)
        need_h = (self.out_h - 1) * self.sh + (kh - 1) * self.dh + 1
        need_w = (self.out_w - 1) * self.sw + (kw - 1) * self.dw + 1
        self.buffer: np.ndarray = np.zeros((n, max(need_h, top + h), max(need_w, left + w), c), dtype)
        self.inner = self.buffer[:, top:top + h, left:left + w, :]

    def windows(self, kh: int, kw: int) -> np.ndarray:
        """Every window: a (N, OH, OW, KH, KW, C) view of the buffer."""
        view = np.lib.stride_tricks.sliding_window_view(
            self.buffer, ((kh - 1) * self.dh + 1, (kw - 1) * self.dw + 1), axis=(1, 2))
        view = view[:, :(self.out_h - 1) * self.sh + 1:self.sh, :(self.out_w - 1) * self.sw + 1:self.sw,
                    :, ::self.dh, ::self.dw]
        return view.transpose(0, 1, 2, 4, 5, 3)

    def tap(self, i: int, j: int) -> np.ndarray:
        y, x = i * self.dh, j * self.dw
        return self.buffer[:, y:y + (self.out_h - 1) * self.sh + 1:self.sh,
                           x:x + (self.out_w - 1) * self.sw + 1:self.sw, :]


def bind_depthwise(ctx: OpContext, x: np.ndarray, zero_point: int, w: np.ndarray, epilogue: Epilogue,
                   out: np.ndarray) -> Callable[[], None]:
    """DEPTHWISE_CONV_2D over the views ``x`` (int8 NHWC) and ``out``: ``out[..., c*M + m] =
    sum over taps of w[0, i, j, c*M + m] * (x - zero_point)`` at each tap, then ``epilogue``."""
    _, kh, kw, out_ch = w.shape
    ch = x.shape[3]
    dtype = exact_dtype(ctx, w, kh * kw)  # as blas.depthwise_exact_float decides it
    pad = _Padded(ctx, x.shape, kh, kw, dtype)
    taps = [pad.tap(i, j)[..., None] for i in range(kh) for j in range(kw)]  # (N, OH, OW, C, 1)
    f: np.ndarray = w.astype(dtype).reshape(kh * kw, ch, out_ch // ch)
    acc = np.empty((*out.shape[:3], ch, out_ch // ch), dtype)
    tmp = np.empty_like(acc)
    sums = np.empty(out.shape, np.int64)
    mask = np.empty(out.shape, bool)
    zp, inner = dtype(zero_point), pad.inner

    def run() -> None:
        np.subtract(x, zp, out=inner)
        np.multiply(taps[0], f[0], out=acc)
        for tap, ft in zip(taps[1:], f[1:], strict=True):
            np.multiply(tap, ft, out=tmp)
            acc.__iadd__(tmp)
        np.copyto(sums, acc.reshape(out.shape), casting="unsafe")
        epilogue.apply(sums, out, mask)

    return run


def bind_conv(ctx: OpContext, x: np.ndarray, zero_point: int, w: np.ndarray, epilogue: Epilogue,
              out: np.ndarray) -> Callable[[], None] | None:
    """CONV_2D (one group) over the views ``x`` and ``out``: im2col into a fixed matrix, one
    matmul, then ``epilogue``; None for grouped convolutions (the unbound form runs them)."""
    out_ch, kh, kw, group_ch = w.shape
    if x.shape[3] != group_ch:
        return None
    dtype, filt = ctx.memo("conv_im2col", lambda: conv_filter(ctx, w, 1))
    pad = _Padded(ctx, x.shape, kh, kw, dtype)
    rows = out.shape[0] * out.shape[1] * out.shape[2]
    windows = pad.windows(kh, kw)
    direct = kh == kw == 1 and pad.sh == pad.sw == 1  # the padded buffer's rows are the columns
    cols = pad.buffer if direct else np.empty(windows.shape, dtype)
    matrix = np.reshape(cols, (rows, kh * kw * group_ch), copy=False)
    acc = np.empty((rows, out_ch), dtype)
    sums = np.empty((rows, out_ch), np.int64)
    mask = np.empty((rows, out_ch), bool)
    flat_out = np.reshape(out, (rows, out_ch), copy=False)
    zp, inner, f = dtype(zero_point), pad.inner, filt[0]

    def run() -> None:
        np.subtract(x, zp, out=inner)
        if not direct:
            np.copyto(cols, windows)
        np.matmul(matrix, f, out=acc)
        np.copyto(sums, acc, casting="unsafe")
        epilogue.apply(sums, flat_out, mask)

    return run
