"""C emitter for TRANSPOSE_CONV (int8, int16 16x8, float32; ``ec_transpose_conv.c``); a table
row in ``codegen/ops_c.py``. Geometry and multipliers come from ``ops/transpose_conv.py``."""

from __future__ import annotations

import numpy as np

from edgecraft.codegen.cwriter import c_array, c_float
from edgecraft.codegen.opcode import CodegenError, OpCode, Pointer
from edgecraft.ops.base import OpContext
from edgecraft.ops.conv_common import activation_range
from edgecraft.ops.quant import float_activation_range
from edgecraft.ops.transpose_conv import BIAS, FILTER, INPUT, check_integer, geometry, multipliers


def transpose_conv(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """One ``ec_transpose_conv_params`` block; int8/int16 take the planned scratch buffer for
    their sums, an int16 bias is widened to int64 here as TFLM widens it at run time."""
    x, w, out = ctx.req_input(INPUT), ctx.req_input(FILTER), ctx.output(0)
    bias = ctx.input(BIAS)
    sh, sw, top, left = geometry(ctx)
    n, out_h, out_w, out_c = out.shape
    act = str(ctx.attrs.get("fused_activation_function", "NONE"))
    decls, tail = "", ""
    if x.dtype == "float32":
        if w.dtype != "float32":
            raise CodegenError(f"TRANSPOSE_CONV float32 with a {w.dtype} filter has no C kernel")
        lo_f, hi_f = float_activation_range(act)
        tail = f"  .act_min_f = {c_float(lo_f)}, .act_max_f = {c_float(hi_f)},\n"
    elif x.dtype in ("int8", "int16"):
        check_integer(ctx)
        mult, shift = multipliers(ctx)
        lo, hi = activation_range(ctx)
        decls = (c_array(f"{p}_multiplier", "int32_t", mult, f"{p}: per output channel")
                 + c_array(f"{p}_shift", "int32_t", shift))
        offsets = (f"  .input_offset = {-x.zero_point}, .output_offset = {out.zero_point},\n"
                   if x.dtype == "int8" else "")
        tail = (f"{offsets}  .act_min = {lo}, .act_max = {hi},\n"
                f"  .multiplier = {p}_multiplier, .shift = {p}_shift,\n")
    else:
        raise CodegenError(f"TRANSPOSE_CONV with {x.dtype} input has no C kernel")
    decls += (f"static const ec_transpose_conv_params {p} = {{\n"
              f"  .batches = {n}, .in_h = {x.shape[1]}, .in_w = {x.shape[2]}, .in_c = {x.shape[3]},\n"
              f"  .out_h = {out_h}, .out_w = {out_w}, .out_c = {out_c}, "
              f".filter_h = {w.shape[1]}, .filter_w = {w.shape[2]},\n"
              f"  .stride_h = {sh}, .stride_w = {sw}, .pad_top = {top}, .pad_left = {left},\n{tail}}};\n")
    ops = ctx.op.inputs
    if bias is None:
        b = "NULL"
    elif bias.dtype == "int16":  # the 16x8 kernel sums in int64: widen once, at build time
        b = ptr.const_array(f"{p}_bias64", "int64_t", ctx.const(BIAS).astype(np.int64), f"{p}: bias as int64")
    else:
        b = ptr(ops[BIAS])
    scratch = ptr.scratch(ctx.op)
    if x.dtype == "int8":
        call = (f"ec_transpose_conv_s8(&{p}, {ptr(ops[INPUT])}, {ptr(ops[FILTER])}, {b}, "
                f"{ptr(ctx.op.outputs[0])}, (int32_t *){scratch});")
    elif x.dtype == "int16":
        call = (f"ec_transpose_conv_s16(&{p}, {ptr(ops[INPUT])}, {ptr(ops[FILTER])}, {b}, "
                f"{ptr(ctx.op.outputs[0])}, (int64_t *){scratch});")
    else:
        call = (f"ec_transpose_conv_f32(&{p}, {ptr(ops[INPUT])}, {ptr(ops[FILTER])}, {b}, "
                f"{ptr(ctx.op.outputs[0])});")
    return OpCode(decls, call, ("transpose_conv",))
