"""C emitters for unquantized integer and bool operators (``ec_int_math.c``): int32 arithmetic,
MAXIMUM/MINIMUM of int32 and int64, comparisons of int32, int64 and bool, REDUCE_MAX/REDUCE_MIN of
int8 and REDUCE_ALL of bool.

:data:`INT_EMITTERS` maps an op name to its emitter and the input dtypes it takes;
``codegen/ops_c.py`` routes an operator whose input 0 has one of those dtypes here, and reports
them as C support.
"""

from __future__ import annotations

import numpy as np

from edgecraft.codegen.opcode import CodegenError, OpCode, OpEmitter, Pointer
from edgecraft.codegen.ops_c_float import BINARY, REDUCE, pair_params, reduce_params
from edgecraft.ops.base import OpContext
from edgecraft.ops.compare import COMPARISONS

ARITH = ("ADD", "SUB", "MUL", "SQUARED_DIFFERENCE", "DIV")
BYTES = {"bool": 1, "int32": 4, "int64": 8}


def _same_dtype(ctx: OpContext) -> str:
    t1, t2 = ctx.req_input(0), ctx.req_input(1)
    if t1.dtype != t2.dtype:
        raise CodegenError(f"{ctx.op.type} of {t1.dtype} and {t2.dtype} has no C kernel")
    act = ctx.attrs.get("fused_activation_function", "NONE")
    if act != "NONE":
        raise CodegenError(f"{ctx.op.type} {t1.dtype} with fused activation {act} has no C kernel")
    return t1.dtype


def arith(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """int32 ADD, SUB, MUL, SQUARED_DIFFERENCE, DIV (a zero divisor: invoke returns -1),
    MAXIMUM, MINIMUM; int64 MAXIMUM, MINIMUM."""
    dtype = _same_dtype(ctx)
    i, out = ctx.op.inputs, ctx.op.outputs[0]
    kind = BINARY[ctx.op.type]
    if dtype == "int64":
        call = f"ec_minmax_i64(&{p}, {kind}, {ptr(i[0])}, {ptr(i[1])}, {ptr(out)});"
    else:
        call = f"if (ec_binary_i32(&{p}, {kind}, {ptr(i[0])}, {ptr(i[1])}, {ptr(out)}) != 0) return -1;"
    return OpCode(pair_params(ctx, p), call, ("int_math",))


def compare(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """EQUAL .. GREATER_EQUAL of int32, int64 (and bool for EQUAL, NOT_EQUAL); a bool byte out."""
    dtype = _same_dtype(ctx)
    i = ctx.op.inputs
    call = (f"ec_compare_int(&{p}, {COMPARISONS.index(ctx.op.type)}, {BYTES[dtype]}, {ptr(i[0])}, "
            f"{ptr(i[1])}, {ptr(ctx.op.outputs[0])});")
    return OpCode(pair_params(ctx, p), call, ("int_math",))


def reduce(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """REDUCE_MAX and REDUCE_MIN of int8 (the output quantized as the input, as TFLM checks: the
    extreme of the raw values), REDUCE_ALL of bool."""
    x, y = ctx.req_input(0), ctx.output(0)
    if x.dtype == "int8":
        same = x.quant is not None and y.quant is not None and (
            (np.float32(x.scale), x.zero_point) == (np.float32(y.scale), y.zero_point))
        if not same:
            raise CodegenError(f"int8 {ctx.op.type} needs the output quantized as the input")
    kind = REDUCE.get(ctx.op.type, "EC_REDUCE_ALL")
    call = f"ec_reduce_int(&{p}, {kind}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});"
    return OpCode(reduce_params(ctx, p), call, ("int_math",))


INT_EMITTERS: dict[str, tuple[OpEmitter, tuple[str, ...]]] = {
    **{name: (arith, ("int32",)) for name in ARITH},
    "MAXIMUM": (arith, ("int32", "int64")),
    "MINIMUM": (arith, ("int32", "int64")),
    **{name: (compare, ("int32", "int64")) for name in COMPARISONS},
    "EQUAL": (compare, ("int32", "int64", "bool")),
    "NOT_EQUAL": (compare, ("int32", "int64", "bool")),
    "REDUCE_MAX": (reduce, ("int8",)),
    "REDUCE_MIN": (reduce, ("int8",)),
    "REDUCE_ALL": (reduce, ("bool",)),
}
