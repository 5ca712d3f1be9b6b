"""C emitter for SVDF (int8 with int8 or int16 state, float32; ``ec_svdf.c``); a table row in
``codegen/ops_c.py``. Multipliers and checks come from ``ops/svdf.py``; the state is the
generated model's static state array."""

from __future__ import annotations

from edgecraft.codegen.cwriter import c_float
from edgecraft.codegen.opcode import CodegenError, OpCode, Pointer
from edgecraft.ops.base import OpContext
from edgecraft.ops.quant import dtype_range, float_activation_range
from edgecraft.ops.svdf import BIAS, FEATURE, INPUT, STATE, TIME, multipliers, sizes


def svdf(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """One ``ec_svdf_params`` block and the kernel for the input and state types."""
    x, state = ctx.req_input(INPUT), ctx.req_input(STATE)
    batch, n_in, filters, units, rank, memory = sizes(ctx)
    fields = (f"  .batch = {batch}, .inputs = {n_in}, .filters = {filters}, .units = {units}, "
              f".rank = {rank}, .memory = {memory},\n")
    ops = ctx.op.inputs
    if x.dtype == "int8":
        if ctx.req_input(TIME).dtype != state.dtype or state.dtype not in ("int8", "int16"):
            raise CodegenError("SVDF int8 needs int8 or int16 time weights and state of one type")
        (m1, s1), (m2, s2) = multipliers(ctx)
        lo, hi = dtype_range(state.dtype)
        fields += (f"  .input_zero_point = {x.zero_point}, .state_zero_point = {state.zero_point}, "
                   f".output_zero_point = {ctx.output(0).zero_point},\n"
                   f"  .feature_multiplier = {m1}, .feature_shift = {s1}, .output_multiplier = {m2}, "
                   f".output_shift = {s2}, .state_min = {lo}, .state_max = {hi},\n")
        kernel = "ec_svdf_s8_s16" if state.dtype == "int16" else "ec_svdf_s8_s8"
    elif x.dtype == "float32":
        lo_f, hi_f = float_activation_range(str(ctx.attrs.get("fused_activation_function", "NONE")))
        fields += f"  .act_min_f = {c_float(lo_f)}, .act_max_f = {c_float(hi_f)},\n"
        kernel = "ec_svdf_f32"
    else:
        raise CodegenError(f"SVDF with {x.dtype} input has no C kernel")
    bias = ptr(ops[BIAS]) if ctx.input(BIAS) is not None else "NULL"
    decls = f"static const ec_svdf_params {p} = {{\n{fields}}};\n"
    call = (f"{kernel}(&{p}, {ptr(ops[INPUT])}, {ptr(ops[FEATURE])}, {ptr(ops[TIME])}, {bias}, "
            f"{ptr(ops[STATE])}, {ptr(ctx.op.outputs[0])});")
    return OpCode(decls, call, ("svdf",))
