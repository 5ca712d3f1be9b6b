"""C emitters for CUMSUM and ADD_N (int8, float32; ``ec_cumsum.c``); table rows in
``codegen/ops_c.py``. The int8 rescaling comes from ``ops/cumsum.py``'s ``sum_rescale``."""

from __future__ import annotations

import numpy as np

from edgecraft.codegen.opcode import CodegenError, OpCode, Pointer
from edgecraft.ops.base import OpContext
from edgecraft.ops.cumsum import sum_rescale


def _params(ctx: OpContext, p: str, inner: int, depth: int, outer: int, exclusive: bool,
            reverse: bool) -> str:
    fields = (f"  .inner = {inner}, .depth = {depth}, .outer = {outer}, .exclusive = {int(exclusive)}, "
              f".reverse = {int(reverse)},\n")
    if ctx.req_input(0).dtype == "int8":
        r = sum_rescale(ctx)
        fields += (f"  .input_offset = {r.input_offset}, .input_multiplier = {r.input_mult[0]}, "
                   f".input_shift = {r.input_mult[1]},\n  .output_multiplier = {r.output_mult[0]}, "
                   f".output_shift = {r.output_mult[1]}, .output_zero_point = {r.output_zp},\n")
    return f"static const ec_sum_params {p} = {{\n{fields}}};\n"


def _suffix(ctx: OpContext) -> str:
    dtype = ctx.req_input(0).dtype
    if dtype not in ("int8", "float32"):
        raise CodegenError(f"{ctx.op.type} with {dtype} input has no C kernel")
    return "s8" if dtype == "int8" else "f32"


def cumsum(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """CUMSUM with a constant axis."""
    x, axis_t = ctx.req_input(0), ctx.req_input(1)
    if axis_t.data is None:
        raise CodegenError("CUMSUM has a C kernel for a constant axis only")
    axis = int(np.asarray(axis_t.data).reshape(-1)[0]) % len(x.shape)
    inner = int(np.prod(x.shape[:axis], dtype=np.int64))
    outer = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
    decls = _params(ctx, p, inner, x.shape[axis], outer, bool(ctx.attrs.get("exclusive", False)),
                    bool(ctx.attrs.get("reverse", False)))
    call = f"ec_cumsum_{_suffix(ctx)}(&{p}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});"
    return OpCode(decls, call, ("cumsum",))


def add_n(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """ADD_N over its inputs, passed as an array of pointers."""
    suffix = _suffix(ctx)
    ctype = "int8_t" if suffix == "s8" else "float"
    decls = _params(ctx, p, 1, ctx.req_input(0).size, 1, False, False)
    pointers = ", ".join(ptr(k) for k in ctx.op.inputs)
    call = (f"{{\n    const {ctype} *const {p}_in[] = {{{pointers}}};\n"
            f"    ec_add_n_{suffix}(&{p}, {len(ctx.op.inputs)}, {p}_in, {ptr(ctx.op.outputs[0])});\n  }}")
    return OpCode(decls, call, ("cumsum",))
