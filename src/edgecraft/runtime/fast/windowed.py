"""CONV_2D and DEPTHWISE_CONV_2D bound to their arena views: the padded input, every filter tap
and the im2col matrix are fixed buffers and views made once, so a run is a few numpy calls.

Each run writes ``x - zero_point`` into the interior of a zeroed padded buffer in the exact
float type (the border is never written, so padded taps stay 0 and add nothing, as TFLM skips
taps outside the image), then sums: DEPTHWISE_CONV_2D one multiply-add per tap over views of
that buffer, CONV_2D one copy of its windows into an im2col matrix (none when the windows are
already rows: 1x1, stride 1) and one BLAS matmul. The sums are the exact integers of
:mod:`.blas` (same float type and bound), so the order of the additions does not matter.
int8 and int16 AVERAGE_POOL_2D sum each window in one reduction over the same kind of views.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from edgecraft.ops.average_pool_2d import window_sums
from edgecraft.ops.base import OpContext, OpDef
from edgecraft.ops.conv_common import activation_range, pool_filter, window_geometry
from edgecraft.runtime.fast.blas import conv_filter, exact_dtype
from edgecraft.runtime.fast.requant import Epilogue


class _Padded:
    """A zeroed padded copy of an NHWC input in ``dtype``: ``inner`` is where the input goes,
    ``tap(i, j)`` the (N, OH, OW, C) view that filter tap (i, j) reads."""

    def __init__(self, ctx: OpContext, shape: tuple[int, ...], kh: int, kw: int, dtype: type,
                 dilated: bool = True) -> None:
        a = ctx.attrs
        self.sh, self.sw = int(a.get("stride_h", 1)), int(a.get("stride_w", 1))
        self.dh = int(a.get("dilation_h_factor", 1)) if dilated else 1
        self.dw = int(a.get("dilation_w_factor", 1)) if dilated else 1
        n, h, w, c = shape
        self.out_h, self.out_w, top, left = window_geometry(ctx, h, w, kh, kw, dilated)
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


def average_pool_applies(opdef: OpDef, ctx: OpContext) -> bool:
    """int8 or int16 AVERAGE_POOL_2D with a 4-D input (TFLM's integer ``AveragePool``)."""
    x = ctx.input(0)
    return (opdef.name == "AVERAGE_POOL_2D" and x is not None and x.dtype in ("int8", "int16")
            and ctx.output(0).dtype == x.dtype and len(x.shape) == 4)


class PreparedAveragePool:
    """``average_pool_2d_prepared``: the window sums as one reduction over fixed views of a
    zero-padded int64 copy of the input, the per-position tap counts (taps inside the image)
    made once, then the reference's division (``sum +- count/2`` truncated) and clamp."""

    def __init__(self, opdef: OpDef, ctx: OpContext) -> None:
        self.reference, self.ctx = opdef.kernel_for(ctx), ctx

    def __call__(self, ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
        """The kernel interface: the reference kernel (only bound runs are prepared)."""
        return self.reference(ctx, args)  # type: ignore[no-any-return]

    def bind(self, args: list[Any], outs: list[np.ndarray]) -> Callable[[], None]:
        """One run over fixed views: ``args[0]`` (the input) and ``outs[0]`` (the output)."""
        ctx, x, out = self.ctx, args[0], outs[0]
        fh, fw = pool_filter(ctx)
        pad = _Padded(ctx, x.shape, fh, fw, np.int64, dilated=False)
        windows = pad.windows(fh, fw)
        _, counts = window_sums(np.zeros(x.shape, x.dtype), ctx, np.int64)
        half = counts // 2
        lo, hi = activation_range(ctx)
        acc = np.empty(out.shape, np.int64)
        negative = np.empty(out.shape, bool)
        inner = pad.inner

        def run() -> None:
            np.copyto(inner, x)
            np.sum(windows, axis=(3, 4), out=acc)
            np.less(acc, 0, out=negative)
            np.abs(acc, out=acc)
            np.add(acc, half, out=acc)
            np.floor_divide(acc, counts, out=acc)  # |sum| + count/2 over count: truncation
            np.negative(acc, out=acc, where=negative)
            np.maximum(acc, lo, out=acc)
            np.minimum(acc, hi, out=out, casting="unsafe")

        return run
