"""C emitters for TFLite Micro's signal-library ops (``ec_signal.c``, ``ec_signal_fft.c``); rows
of the table in ``codegen/ops_c.py``. Each reads its op with the runtime op's own checks and
helpers (``ops/signal_*.py``), so options, tables and the FFT plan are computed once, in Python,
as the runtime computes them; the C repeats only the per-sample arithmetic.

State: SignalFilterBankSpectralSubtraction's noise estimate is a static array of the generated
model (zero at the start), updated in place by each invoke and zeroed by ``<name>_reset``; the
streaming ops' state likewise (``ops_c_signal_stream.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from edgecraft.codegen.cwriter import c_type
from edgecraft.codegen.opcode import CodegenError, OpCode, OpEmitter, Pointer
from edgecraft.codegen.ops_c_signal_stream import delay, framer, overlap_add, stacker
from edgecraft.ops import kissfft16
from edgecraft.ops.base import OpContext
from edgecraft.ops.registry import get_op
from edgecraft.ops.signal_common import attr
from edgecraft.ops.signal_math import LOG_LUT

_KERNELS = ("signal",)


def _check(ctx: OpContext) -> None:
    """The runtime op's shape and option checks (as TFLM's Prepare)."""
    get_op(ctx.op.type).shape(ctx)


def _range(ctx: OpContext, name: str, lo: int, hi: int) -> int:
    """Option ``name``, which C shifts by: :class:`CodegenError` outside ``lo..hi``."""
    v = attr(ctx, name)
    if not lo <= v <= hi:
        raise CodegenError(f"{ctx.op.type} with {name}={v} has no C kernel (C takes {lo}..{hi})")
    return v


def _io(ctx: OpContext, ptr: Pointer) -> tuple[list[str], list[str]]:
    return [ptr(k) for k in ctx.op.inputs], [ptr(k) for k in ctx.op.outputs]


def window(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SignalWindow: ``(x * w) >> shift`` saturated to int16, ``w`` repeating along the input."""
    _check(ctx)
    shift = _range(ctx, "shift", 0, 31)
    (x, w), (y,) = _io(ctx, ptr)
    n = ctx.req_input(1).shape[0]
    return OpCode("", f"ec_signal_window_s16({ctx.output(0).size}, {n}, {shift}, {x}, {w}, {y});", _KERNELS)


def fft_auto_scale(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SignalFftAutoScale: the scaled samples and the shift (an int32 scalar)."""
    _check(ctx)
    (x,), (y, bits) = _io(ctx, ptr)
    return OpCode("", f"ec_signal_fft_auto_scale_s16({ctx.output(0).size}, {x}, {y}, {bits});", _KERNELS)


def energy(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SignalEnergy: ``re^2 + im^2`` of bins start..end-1, 0 elsewhere (as the runtime)."""
    _check(ctx)
    (x,), (y,) = _io(ctx, ptr)
    start, end = attr(ctx, "start_index"), attr(ctx, "end_index")
    return OpCode("", f"ec_signal_energy_s16({ctx.output(0).size}, {start}, {end}, {x}, {y});", _KERNELS)


def filter_bank(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SignalFilterBank: the weight tables as const arrays, their reads checked here."""
    _check(ctx)
    n = attr(ctx, "num_channels")
    bins = ctx.req_input(0).shape[0]
    tables = []
    for i in range(1, 6):
        if ctx.input(i) is None or ctx.input(i).data is None:  # type: ignore[union-attr]
            raise CodegenError(f"SignalFilterBank needs constant tables (input {i} is computed)")
        tables.append(ctx.const(i).astype(np.int64))
    weights, unweights, starts, wstarts, widths = tables
    for c in range(n + 1):
        f, w, width = int(starts[c]), int(wstarts[c]), int(widths[c])
        inside = f >= 0 and f + width <= bins and w >= 0 and w + width <= min(len(weights), len(unweights))
        if width > 0 and not inside:
            raise CodegenError(f"SignalFilterBank: channel {c} reads past its input or weights")
    (x, *t), (y,) = _io(ctx, ptr)
    decls = (f"static const ec_filter_bank_params {p} = {{\n"
             f"  .channels = {n}, .outputs = {ctx.output(0).size},\n"
             f"  .weights = {t[0]}, .unweights = {t[1]}, .freq_starts = {t[2]}, .weight_starts = {t[3]}, "
             f".widths = {t[4]},\n}};\n")
    return OpCode(decls, f"ec_signal_filter_bank_u32(&{p}, {x}, {y});", _KERNELS)


def filter_bank_square_root(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SignalFilterBankSquareRoot: the shift is read from its (scalar int32) tensor at run time."""
    _check(ctx)
    (x, shift), (y,) = _io(ctx, ptr)
    return OpCode("", f"ec_signal_filter_bank_sqrt_u64({ctx.output(0).size}, {x}, {shift}, {y});", _KERNELS)


def spectral_subtraction(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SignalFilterBankSpectralSubtraction: the noise estimate is a static array of the model."""
    _check(ctx)
    n = attr(ctx, "num_channels")
    sb = _range(ctx, "smoothing_bits", 0, 31)
    qb = _range(ctx, "spectral_subtraction_bits", 0, 63)
    coeffs = {k: attr(ctx, k) for k in ("smoothing", "one_minus_smoothing", "alternate_smoothing",
                                         "alternate_one_minus_smoothing", "min_signal_remaining")}
    for k, v in coeffs.items():
        if not 0 <= v < 1 << 32:
            raise CodegenError(f"SignalFilterBankSpectralSubtraction: {k}={v} is not a uint32")
    (x,), (y, noise_out) = _io(ctx, ptr)
    fields = ", ".join(f".{k} = {v}u" for k, v in coeffs.items())
    decls = (f"static uint32_t {p}_noise[{max(n, 1)}];  /* the noise estimate, kept between invocations */\n"
             f"static const ec_spectral_subtraction_params {p} = {{\n"
             f"  .channels = {n}, .outputs = {ctx.output(0).size}, .noise_outputs = {ctx.output(1).size}, "
             f".clamping = {int(bool(ctx.attrs.get('clamping', False)))}, .smoothing_bits = {sb}, "
             f".subtraction_bits = {qb},\n  {fields},\n}};\n")
    call = f"ec_signal_spectral_subtraction_u32(&{p}, {x}, {p}_noise, {y}, {noise_out});"
    return OpCode(decls, call, _KERNELS, resets=(f"memset({p}_noise, 0, sizeof {p}_noise);",))


def pcan(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SignalPCAN: signal, noise estimate and the int16 gain table in, uint32 out."""
    _check(ctx)
    shift = _range(ctx, "snr_shift", 0, 63)
    (x, noise, lut), (y,) = _io(ctx, ptr)
    return OpCode("", f"ec_signal_pcan_u32({ctx.output(0).size}, {shift}, {x}, {noise}, {lut}, {y});",
                  _KERNELS)


def filter_bank_log(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SignalFilterBankLog: TFLM's fixed-point log with the segment table as a const array."""
    _check(ctx)
    bits = _range(ctx, "input_correction_bits", 0, 31)
    scale = _range(ctx, "output_scale", 0, (1 << 32) - 1)
    lut = ptr.const_array(f"{p}_log_lut", "uint16_t", LOG_LUT,
                          f"{p}: log2's correction per 1/128 of the mantissa (ops/signal_math.py)")
    (x,), (y,) = _io(ctx, ptr)
    call = f"ec_signal_filter_bank_log_u32({ctx.output(0).size}, {bits}, {scale}u, {lut}, {x}, {y});"
    return OpCode("", call, _KERNELS)


def _fft_plan(ctx: OpContext, p: str, ptr: Pointer, inverse: bool) -> tuple[str, str]:
    """The ``ec_rfft_params`` block of SignalRfft / SignalIrfft (int16, int32, float32) and the suffix of
    its kernel: the KISS plan (radices, order, twiddles) as const arrays."""
    _check(ctx)
    x = ctx.req_input(0)
    width = 8 * x.np_dtype.itemsize
    nfft = attr(ctx, "fft_length")
    n = nfft // 2
    if n > 1 << 16:
        raise CodegenError(f"{ctx.op.type} with fft_length {nfft} has no C kernel (at most {1 << 17})")
    fixed = 16 if x.dtype == "float32" else width  # float: the order and radices; its own twiddles
    rad, order, tw_re, tw_im, sup_re, sup_im = kissfft16.plan(n, inverse, fixed)
    if x.dtype == "float32":
        tw_re, tw_im, sup_re, sup_im = _float_twiddles(n, inverse)
    where = np.argsort(order) if inverse else order
    order_c = ptr.const_array(f"{p}_order", "uint16_t", where,
                              f"{p}: where each value goes in the digit-reversed order" if inverse
                              else f"{p}: the input's digit-reversed order")
    ctype = c_type(x.dtype)
    tw = ptr.const_array(f"{p}_twiddles", ctype, np.stack([tw_re, tw_im], -1),
                         f"{p}: twiddles of the {n}-point complex FFT (re, im)")
    sup = ptr.const_array(f"{p}_super", ctype, np.stack([sup_re, sup_im], -1),
                          f"{p}: twiddles of the real split (re, im)")
    radix = "{" + ", ".join(map(str, rad)) + "}"
    in_len = x.shape[-1]
    decls = (f"static const ec_rfft_params {p} = {{\n"
             f"  .rows = {x.size // in_len}, .in_len = {in_len}, .nfft = {nfft}, .stages = {len(rad)}, "
             f".radix = {radix},\n  .order = {order_c}, .twiddles = {tw}, .super_twiddles = {sup},\n}};\n")
    return decls, {"int16": "s16", "int32": "s32", "float32": "f32"}[x.dtype]


def _float_twiddles(n: int, inverse: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """KISS's float twiddles: float32 cos and sin of the double phases ``-2 pi i / n`` and, for
    the real split, ``-pi ((i + 1) / n + 1/2)`` (negated for the inverse)."""
    sign = -1.0 if inverse else 1.0
    phases = [sign * (-2 * math.pi * i / n) for i in range(n)]
    split = [sign * (-math.pi * ((i + 1) / n + 0.5)) for i in range(n // 2)]

    def table(ps: list[float], f: Callable[[float], float]) -> np.ndarray:
        return np.array([f(p) for p in ps], np.float32)

    return table(phases, math.cos), table(phases, math.sin), table(split, math.cos), table(split, math.sin)


def rfft(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SignalRfft int16 (Q15), int32 (Q31) and float32."""
    decls, suffix = _fft_plan(ctx, p, ptr, inverse=False)
    (x,), (y,) = _io(ctx, ptr)
    return OpCode(decls, f"ec_signal_rfft_{suffix}(&{p}, {x}, {y});", ("signal_fft",))


def irfft(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SignalIrfft int16 (Q15), int32 (Q31) and float32."""
    decls, suffix = _fft_plan(ctx, p, ptr, inverse=True)
    (x,), (y,) = _io(ctx, ptr)
    return OpCode(decls, f"ec_signal_irfft_{suffix}(&{p}, {x}, {y});", ("signal_fft",))


#: op name -> (emitter, the dtypes of input 0 it writes C for).
SIGNAL_EMITTERS: dict[str, tuple[OpEmitter, tuple[str, ...]]] = {
    "SignalWindow": (window, ("int16",)),
    "SignalFftAutoScale": (fft_auto_scale, ("int16",)),
    "SignalRfft": (rfft, ("int16", "int32", "float32")),
    "SignalIrfft": (irfft, ("int16", "int32", "float32")),
    "SignalEnergy": (energy, ("int16",)),
    "SignalFilterBank": (filter_bank, ("uint32",)),
    "SignalFilterBankSquareRoot": (filter_bank_square_root, ("uint64",)),
    "SignalFilterBankSpectralSubtraction": (spectral_subtraction, ("uint32",)),
    "SignalPCAN": (pcan, ("uint32",)),
    "SignalFilterBankLog": (filter_bank_log, ("uint32",)),
    "SignalDelay": (delay, ("int16",)),
    "SignalFramer": (framer, ("int16",)),
    "SignalStacker": (stacker, ("int16",)),
    "SignalOverlapAdd": (overlap_add, ("int16", "float32")),
}
