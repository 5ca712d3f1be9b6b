"""C emitters for int16 tensors: the 16x8 scheme (int16 activations, int8 weights, int32 or
int64 bias) and TFLM's other int16 kernels. Each reads its operator with the same helpers as
the reference kernel in ``ops/`` (multipliers, clamps, accumulator width) and calls a kernel in
``codegen/kernels/ec_*_s16.c``. The int8 emitters in ``ops_c.py`` hand int16 operators here."""

from __future__ import annotations

import numpy as np

from edgecraft.codegen.cwriter import c_array, c_list
from edgecraft.codegen.opcode import CodegenError, OpCode, Pointer
from edgecraft.ir.graph import Tensor
from edgecraft.ops.arith import conv_multipliers, quantize_multiplier
from edgecraft.ops.base import OpContext, OpError
from edgecraft.ops.conv_common import activation_range, check_16x8, int32_accumulators, window_geometry
from edgecraft.ops.fully_connected import multipliers as fc_multipliers
from edgecraft.ops.quant import dtype_range
from edgecraft.ops.registry import get_op


def require_int16(ctx: OpContext, *inputs: int) -> None:
    """:class:`CodegenError` unless the given inputs and output 0 are int16."""
    for t in [ctx.req_input(i) for i in inputs] + [ctx.output(0)]:
        if t.dtype != "int16":
            raise CodegenError(f"{ctx.op.type} with a {t.dtype} tensor {t.name!r} has no int16 C kernel")


def _tables(p: str, mult: np.ndarray, shift: np.ndarray) -> str:
    return (c_array(f"{p}_multiplier", "int32_t", mult, f"{p}: per-channel multipliers ({len(mult)})")
            + c_array(f"{p}_shift", "int32_t", shift))


def _bias(ctx: OpContext, ptr: Pointer) -> str:
    return ptr(ctx.op.inputs[2]) if ctx.input(2) is not None else "NULL"


def conv_s16(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """CONV_2D and DEPTHWISE_CONV_2D 16x8: TFLM's int16 kernels use no zero points, so the
    offsets are 0; the bias type picks int32 or int64 accumulators."""
    depthwise = ctx.op.type == "DEPTHWISE_CONV_2D"
    check_16x8(ctx, int64_bias_only=depthwise)
    require_int16(ctx, 0)
    x, w, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if w.quant is None or x.quant is None or y.quant is None:
        raise OpError(f"{ctx.op.type} int16 tensors need quantization parameters")
    _, kh, kw, _ = w.shape
    out_h, out_w, pad_h, pad_w = window_geometry(ctx, x.shape[1], x.shape[2], kh, kw)
    if (out_h, out_w) != tuple(y.shape[1:3]):
        raise OpError(f"output shape {list(y.shape)} does not match the window geometry ({out_h}, {out_w})")
    out_c = y.shape[3]
    mult, shift = conv_multipliers(x.scale, w.quant.scale, y.scale, out_c)
    lo, hi = activation_range(ctx)
    a = ctx.attrs
    decls = _tables(p, mult, shift) + (
        f"static const ec_conv_params {p} = {{\n"
        f"  .input = {c_list(list(x.shape))}, .filter = {c_list(list(w.shape))}, "
        f".output = {c_list(list(y.shape))},\n"
        f"  .stride_h = {a.get('stride_h', 1)}, .stride_w = {a.get('stride_w', 1)}, "
        f".dilation_h = {a.get('dilation_h_factor', 1)}, .dilation_w = {a.get('dilation_w_factor', 1)}, "
        f".pad_h = {pad_h}, .pad_w = {pad_w},\n"
        f"  .depth_multiplier = {out_c // x.shape[3] if depthwise else 1},\n"
        f"  .input_offset = 0, .output_offset = 0, .act_min = {lo}, .act_max = {hi},\n"
        f"  .multiplier = {p}_multiplier, .shift = {p}_shift,\n}};\n"
    )
    i, out = ctx.op.inputs, ptr(ctx.op.outputs[0])
    if depthwise:
        call = f"ec_depthwise_conv_2d_s16(&{p}, {ptr(i[0])}, {ptr(i[1])}, {_bias(ctx, ptr)}, {out});"
    else:
        acc32 = int(int32_accumulators(ctx))
        call = f"ec_conv_2d_s16(&{p}, {ptr(i[0])}, {ptr(i[1])}, {_bias(ctx, ptr)}, {acc32}, {out});"
    return OpCode(decls, call, ("conv_s16",))


def fully_connected_s16(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """FULLY_CONNECTED 16x8: the zero points count (per tensor, the filter's too)."""
    check_16x8(ctx)
    require_int16(ctx, 0)
    x, w, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if w.quant is None or x.quant is None or y.quant is None:
        raise OpError("FULLY_CONNECTED int16 tensors need quantization parameters")
    units, depth = w.shape
    mult, shift = fc_multipliers(ctx)
    filter_offset = 0 if w.quant.per_channel else -w.zero_point
    lo, hi = activation_range(ctx)
    decls = _tables(p, mult, shift) + (
        f"static const ec_fc_params {p} = {{\n"
        f"  .rows = {x.size // depth}, .depth = {depth}, .units = {units},\n"
        f"  .input_offset = {-x.zero_point}, .filter_offset = {filter_offset}, "
        f".output_offset = {y.zero_point}, .act_min = {lo}, .act_max = {hi},\n"
        f"  .multiplier = {p}_multiplier, .shift = {p}_shift,\n}};\n"
    )
    i = ctx.op.inputs
    acc32 = int(int32_accumulators(ctx))
    call = (f"ec_fully_connected_s16(&{p}, {ptr(i[0])}, {ptr(i[1])}, {_bias(ctx, ptr)}, {acc32}, "
            f"{ptr(ctx.op.outputs[0])});")
    return OpCode(decls, call, ("conv_s16",))


def _convert_block(p: str, x: Tensor, y: Tensor, multiplier: int = 0, shift: int = 0) -> str:
    """The ``ec_convert_params`` of a QUANTIZE or DEQUANTIZE from ``x`` to ``y``."""
    lo, hi = dtype_range(y.dtype) if y.dtype != "float32" else (0, 0)
    scale = float(np.float32(y.scale)) if y.quant is not None else 1.0
    real = float(np.float32(x.scale)) if x.quant is not None else 1.0
    return (f"static const ec_convert_params {p} = {{\n"
            f"  .size = {x.size}, .in_bytes = {x.np_dtype.itemsize}, .out_bytes = {y.np_dtype.itemsize},\n"
            f"  .input_offset = {-x.zero_point if x.quant is not None else 0}, "
            f".output_offset = {y.zero_point if y.quant is not None else 0}, "
            f".multiplier = {multiplier}, .shift = {shift}, .out_min = {lo}, .out_max = {hi},\n"
            f"  .scale = {scale!r}f, .real_scale = {real!r},\n}};\n")


def convert(ctx: OpContext, p: str, ptr: Pointer) -> OpCode | None:
    """QUANTIZE (float32 or int8/int16/int32 to int8/int16/int32) and DEQUANTIZE (int16 to
    float32) with the arithmetic of ``ops/quantize.py`` and ``ops/dequantize.py``; None for
    the int8-only cases the table kernels cover (int8 -> int8, int8 -> float32)."""
    x, y = ctx.req_input(0), ctx.output(0)
    if x.dtype == "int8" and y.dtype in ("int8", "float32"):
        return None
    i, o = ptr(ctx.op.inputs[0]), ptr(ctx.op.outputs[0])
    if ctx.op.type == "DEQUANTIZE":
        if x.dtype not in _INTS or x.quant is None or x.quant.per_channel:
            raise CodegenError(f"DEQUANTIZE of a {x.dtype} tensor {x.name!r} has no C kernel "
                               "(int8/int16, one scale)")
        return OpCode(_convert_block(p, x, y), f"ec_dequantize(&{p}, {i}, {o});", ("convert",))
    get_op("QUANTIZE").shape(ctx)  # the output's type and quantization, checked as the runtime does
    if y.dtype not in _INTS:
        raise CodegenError(f"QUANTIZE to {y.dtype} has no C kernel (int8, int16, int32)")
    if x.dtype == "float32":
        return OpCode(_convert_block(p, x, y), f"ec_quantize_f32(&{p}, {i}, {o});", ("convert",))
    if x.dtype not in _INTS or x.quant is None:
        raise CodegenError(f"QUANTIZE from {x.dtype} has no C kernel (float32, int8, int16, int32)")
    m, s = quantize_multiplier(x.scale / y.scale)
    return OpCode(_convert_block(p, x, y, m, s), f"ec_requantize(&{p}, {i}, {o});", ("convert",))


_INTS = ("int8", "int16", "int32")
