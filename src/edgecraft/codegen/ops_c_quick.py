"""The DSP kernels' quick case for CONV_2D and DEPTHWISE_CONV_2D (``ec_conv_2d_quick_dsp.c``,
``ec_depthwise_conv_2d_quick_dsp.c``): chosen here, at build time, when the layer allows it
(the int8 clamp, right shifts only, multipliers in [2^30, 2^31), accumulators provably within
int32), with the multipliers as 2 m - 2^32 (ec_requant_quick's SMMLAR), the filters laid out
for the kernel and the input offset folded into the bias (the convolution). Other layers keep
the general DSP kernels."""

from __future__ import annotations

import numpy as np

from edgecraft.codegen.cwriter import c_list, c_values
from edgecraft.codegen.opcode import OpCode, Pointer
from edgecraft.ops.base import OpContext
from edgecraft.ops.conv_2d import DSP_PATCH_MAX
from edgecraft.ops.quick import (
    accumulators_fit,
    byte_shifts,
    depthwise_group_fits,
    depthwise_passes,
    quick_geometry_fits,
    quick_multipliers,
    quick_requant,
)

__all__ = ["channel_words", "depthwise_quads", "pair_filters", "quick_conv", "quick_fc", "rshift_table"]

def pair_filters(rows: np.ndarray) -> np.ndarray:
    """The quick convolution's filter layout: pairs of rows, per 4 columns 4 bytes of each, then
    each row's leftover columns, padded to a multiple of 4 bytes; an odd last row as is."""
    out_c, n = rows.shape
    n4 = n // 4 * 4
    pad = np.zeros(-2 * (n - n4) % 4, np.int8)
    parts = []
    for oc in range(0, out_c - 1, 2):
        pair = rows[oc:oc + 2]
        quads = pair[:, :n4].reshape(2, n4 // 4, 4).transpose(1, 0, 2).reshape(-1)
        parts += [quads, pair[:, n4:].reshape(-1), pad]
    if out_c % 2:
        parts.append(rows[-1])
    return np.concatenate(parts).astype(np.int8)


def _wrap32(values: np.ndarray) -> np.ndarray:
    return ((values.astype(np.int64) + 2**31) % 2**32 - 2**31).astype(np.int32)


def depthwise_quads(w: np.ndarray) -> np.ndarray:
    """The quick depthwise kernel's int8 filter: per group of 4 channels, per tap (ky, kx), the
    4 channels' values (one word, which the kernel expands to halfword pairs a group of channels
    at a time); then per tap the leftover channels' values."""
    taps = w.reshape(-1, w.shape[-1])  # (kh * kw, channels)
    quads = taps.shape[1] // 4
    q = taps[:, :4 * quads].reshape(len(taps), quads, 4).transpose(1, 0, 2)  # quad, tap, 4
    return np.concatenate([q.reshape(-1), taps[:, 4 * quads:].reshape(-1)]).astype(np.int8)


def _params(ctx: OpContext, p: str, pads: tuple[int, int],
            shapes: tuple[tuple[int, ...], ...] | None = None) -> str | None:
    """The compact parameter block (``ec_quick_params``, pointing to ``<p>_tables``), or None
    when a value needs more than a halfword (a dilation more than a byte); ``shapes``: input,
    filter and output shapes other than the tensors' own."""
    x, w, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    x_shape, w_shape, y_shape = shapes or (x.shape, w.shape, y.shape)
    a = ctx.attrs
    geometry = [a.get("stride_h", 1), a.get("stride_w", 1), a.get("dilation_h_factor", 1),
                a.get("dilation_w_factor", 1), *pads]
    sh, sw, dh, dw, ph, pw = geometry
    values = [*x_shape, *w_shape, *y_shape, *geometry, -x.zero_point, y.zero_point]
    if not quick_geometry_fits(values, (dh, dw)):
        return None
    return (
        f"static const ec_quick_params {p} = {{\n"
        f"  .input = {c_list(list(x_shape[1:]))}, .filter = {c_list(list(w_shape[1:3]))}, "
        f".output = {c_list(list(y_shape[1:]))}, .batch = {y_shape[0]},\n"
        f"  .stride_h = {sh}, .stride_w = {sw}, .dilation_h = {dh}, .dilation_w = {dw}, "
        f".pad_h = {ph}, .pad_w = {pw},\n"
        f"  .input_offset = {-x.zero_point}, .output_offset = {y.zero_point}, "
        f".tables = {p}_tables.chan,\n}};\n"
    )


def _passes_safe(ctx: OpContext, ptr: Pointer) -> bool:
    """Whether the depthwise kernel may go over the pixels more than once here: it writes one
    group of channels of every pixel before reading the next group's inputs, so an output the
    plan lets overlap its input must sit a whole number of pixels below it (each pass then
    overwrites only input channels of its own group, of pixels already done)."""
    c = ctx.req_input(0).shape[3]
    shift = ptr.overlap_shift(ctx.op.inputs[0], ctx.op.outputs[0])
    return shift is None or depthwise_passes(ctx.req_input(1).shape, c) == 1 or shift % c == 0


def _conv_needs(ctx: OpContext, pads: tuple[int, int]) -> tuple[str, ...]:
    """The optional paths of ``ec_conv_2d_quick_dsp.c`` this layer takes."""
    w = ctx.req_input(1)
    out_c, kh, kw, in_c = w.shape
    quads, windows = kh * kw * in_c // 4, (kh, kw, *pads) != (1, 1, 0, 0)
    flags = {"QUADS1": quads & 1, "QUADS2": quads & 2, "ODD": out_c % 2,
             "WINDOWS": windows, "DILATED": windows and ctx.attrs.get("dilation_w_factor", 1) != 1}
    return tuple(f"EC_QUICK_CONV_{k}" for k, v in flags.items() if v)


def _depthwise_needs(ctx: OpContext, pads: tuple[int, int]) -> tuple[str, ...]:
    """The optional paths of ``ec_depthwise_conv_2d_quick_dsp.c`` this layer takes: leftover
    channels, and windows its 3x3 assembly (window3) does not take: a filter other than 3x3, or
    windows clipped (as its ``tap_range``) to other than 2 or 3 taps across or to no rows."""
    x, w, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    a = ctx.attrs
    taps_h = [_taps(oy, a.get("stride_h", 1), pads[0], a.get("dilation_h_factor", 1), w.shape[1], x.shape[1])
              for oy in range(y.shape[1])]
    taps_w = [_taps(ox, a.get("stride_w", 1), pads[1], a.get("dilation_w_factor", 1), w.shape[2], x.shape[2])
              for ox in range(y.shape[2])]
    window3 = w.shape[1:3] == (3, 3) and set(taps_w) <= {2, 3} and 0 not in taps_h
    flags = {"REM": x.shape[3] % 4, "TAPS": not window3}
    return tuple(f"EC_QUICK_DW_{k}" for k, v in flags.items() if v)


def _taps(o: int, stride: int, pad: int, dil: int, k: int, size: int) -> int:
    """How many of a window's k taps along one axis land inside the image at output index o."""
    return sum(0 <= o * stride - pad + dil * t < size for t in range(k))


def rshift_table(shift: np.ndarray, nibbles: bool) -> np.ndarray:
    """The quick kernels' right shift table: -shift - 1 per channel, a byte each, or (``nibbles``:
    every one in [0, 15]) two channels a byte, channel 2j in the low nibble, 2j + 1 in the high."""
    r = -np.asarray(shift, dtype=np.int64) - 1
    if not nibbles:
        return r.astype(np.uint8)
    if r.size % 2:
        r = np.append(r, 0)
    return (r[0::2] | r[1::2] << 4).astype(np.uint8)


#: The kernels' flag for a model whose right shifts take a byte each (ops/quick.py byte_shifts).
_BYTE_SHIFTS = "EC_QUICK_BYTE_SHIFTS"


def channel_words(bias: np.ndarray, mult: np.ndarray) -> np.ndarray:
    """The tables' per-channel words: per pair of channels bias, bias, multiplier, multiplier
    (multipliers as 2 m - 2^32); an odd last channel bias, 0, multiplier, 0."""
    pairs = -(-len(mult) // 2)
    b, m = np.zeros(2 * pairs, np.int64), np.zeros(2 * pairs, np.int64)
    b[:len(mult)], m[:len(mult)] = np.asarray(bias, np.int64), quick_multipliers(mult)
    return np.stack([b[0::2], b[1::2], m[0::2], m[1::2]], axis=1).reshape(-1).astype(np.int32)


def _tables(ctx: OpContext, p: str, mult: np.ndarray, shift: np.ndarray, bias: np.ndarray,
            weights: np.ndarray) -> tuple[str, tuple[str, ...]]:
    """``<p>_tables``, the one constant the parameter block points to (ec_quick_params): per
    pair of channels bias, bias, multiplier, multiplier; the right shifts (-shift - 1: two
    channels a byte, or a byte each where the model needs it), padded to a word; the weights;
    and the kernels' flag for byte shifts."""
    wide = byte_shifts(ctx.graph)
    chan, rshift = channel_words(bias, mult), rshift_table(shift, not wide)
    rshift = np.concatenate([rshift, np.zeros(-len(rshift) % 4, np.uint8)])
    layout = "a byte each" if wide else "two channels a byte, low nibble first"
    text = (f"/* {p}: per pair of channels bias, bias, 2 x multiplier - 2^32 (twice); right shifts "
            f"less one ({layout}); weights ({ctx.op.type}) */\n"
            f"static const struct {{\n  int32_t chan[{len(chan)}];\n  uint8_t rshift[{len(rshift)}];\n"
            f"  int8_t weights[{weights.size}];\n}} {p}_tables = {{\n"
            f"  {c_values(chan)},\n  {c_values(rshift)},\n  {c_values(weights)}\n}};\n")
    return text, (_BYTE_SHIFTS,) if wide else ()


def quick_conv(ctx: OpContext, p: str, ptr: Pointer, mult: np.ndarray, shift: np.ndarray,
               folded_bias: np.ndarray, pads: tuple[int, int]) -> OpCode | None:
    """The quick kernel's tables (``<p>_tables``: biases, multipliers as 2 m - 2^32, right shifts,
    the filter laid out for the kernel), its parameter block (``ec_quick_params``, which points
    to them) and call for this CONV_2D or DEPTHWISE_CONV_2D, or None when the layer needs the
    general one.
    ``folded_bias``: bias + input offset x filter sums (convolution); ``pads``: top and left."""
    x, w = ctx.req_input(0), ctx.req_input(1)
    if not quick_requant(ctx, mult, shift):
        return None
    depthwise = ctx.op.type == "DEPTHWISE_CONV_2D"
    i, out = ctx.op.inputs, ptr(ctx.op.outputs[0])
    if depthwise:
        if w.shape[3] != x.shape[3]:  # depth multiplier > 1
            return None
        wv = ctx.const(1)
        taps = wv.reshape(-1, wv.shape[-1]).T
        if not (depthwise_group_fits(w.shape) and accumulators_fit(ctx, taps) and _passes_safe(ctx, ptr)):
            return None
        params = _params(ctx, p, pads)
        if params is None:
            return None
        bias_values = ctx.const(2) if ctx.input(2) is not None else np.zeros(w.shape[3], np.int32)
        tables, shift_flag = _tables(ctx, p, mult, shift, bias_values, depthwise_quads(wv))
        call = f"ec_depthwise_conv_2d_quick_dsp_s8(&{p}, {ptr(i[0])}, {out});"
        return OpCode(tables + params, call, ("depthwise_conv_2d_quick_dsp",),
                      _depthwise_needs(ctx, pads) + shift_flag)
    n = w.shape[1] * w.shape[2] * w.shape[3]
    scratch = ptr.scratch(ctx.op)
    if w.shape[3] != x.shape[3] or n > DSP_PATCH_MAX or scratch == "NULL":
        return None
    rows = ctx.const(1).reshape(w.shape[0], -1)
    params = _params(ctx, p, pads)
    if not accumulators_fit(ctx, rows) or params is None:
        return None
    tables, shift_flag = _tables(ctx, p, mult, shift, _wrap32(folded_bias), pair_filters(rows))
    call = f"ec_conv_2d_quick_dsp_s8(&{p}, {ptr(i[0])}, {out}, {scratch});"
    return OpCode(tables + params, call, ("conv_2d_quick_dsp",), _conv_needs(ctx, pads) + shift_flag)


def quick_fc(ctx: OpContext, p: str, ptr: Pointer, mult: np.ndarray, shift: np.ndarray,
             folded_bias: np.ndarray) -> OpCode | None:
    """A FULLY_CONNECTED that ``ops/quick.py`` (``quick_fully_connected``) runs on the quick
    convolution kernel, as its 1x1 convolution: input (1, 1, rows, depth), filter (units, 1, 1,
    depth), output (1, 1, rows, units); the same tables, filter layout and folded bias as
    :func:`quick_conv`. None when the plan gave the layer no scratch or a size needs more than
    a halfword (the fully connected kernel then runs it)."""
    x, w = ctx.req_input(0), ctx.req_input(1)
    units, depth = w.shape
    rows, scratch = x.size // depth, ptr.scratch(ctx.op)
    shapes = ((1, 1, rows, depth), (units, 1, 1, depth), (1, 1, rows, units))
    params = _params(ctx, p, (0, 0), shapes)
    if scratch == "NULL" or params is None:
        return None
    tables, shift_flag = _tables(ctx, p, mult, shift, _wrap32(folded_bias), pair_filters(ctx.const(1)))
    quads = depth // 4
    flags = {"QUADS1": quads & 1, "QUADS2": quads & 2, "ODD": units % 2}
    call = f"ec_conv_2d_quick_dsp_s8(&{p}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])}, {scratch});"
    return OpCode(tables + params, call, ("conv_2d_quick_dsp",),
                  tuple(f"EC_QUICK_CONV_{k}" for k, v in flags.items() if v) + shift_flag)
