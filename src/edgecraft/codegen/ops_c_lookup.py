"""C emitters for ops that read positions at run time (``ec_lookup.c``): EMBEDDING_LOOKUP (rows by
id, an error code for an id outside the table; hybrid int8 -> float32 rows dequantized) and
DYNAMIC_UPDATE_SLICE (any element type; start indices clamped at run time). Table rows in
``codegen/ops_c.py``."""

from __future__ import annotations

import numpy as np

from edgecraft.codegen.cwriter import c_float, c_list
from edgecraft.codegen.opcode import MAX_DIMS, CodegenError, OpCode, Pointer
from edgecraft.ops.base import OpContext


def _strides(shape: tuple[int, ...]) -> list[int]:
    return [int(np.prod(shape[d + 1:], dtype=np.int64)) for d in range(len(shape))]


def embedding_lookup(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    ids, table, out = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    dequantize = table.dtype == "int8" and out.dtype == "float32"
    decls = (f"static const ec_lookup_params {p} = {{\n"
             f"  .count = {ids.size}, .rows = {table.shape[0]}, "
             f".row_elems = {table.size // max(table.shape[0], 1)}, "
             f".elem_size = {table.np_dtype.itemsize}, .dequantize = {int(dequantize)}, "
             f".scale = {c_float(table.scale if dequantize else 0.0)},\n}};\n")
    call = (f"if (ec_embedding_lookup(&{p}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.inputs[1])}, "
            f"{ptr(ctx.op.outputs[0])}) != 0) return -1;")
    return OpCode(decls, call, ("lookup", "data_ops"))  # the file also holds the slice update


def dynamic_update_slice(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    x, u, idx = ctx.req_input(0), ctx.req_input(1), ctx.req_input(2)
    rank = len(x.shape)
    if rank > MAX_DIMS:
        raise CodegenError(f"DYNAMIC_UPDATE_SLICE over {rank} dimensions; at most {MAX_DIMS}")
    pad = MAX_DIMS - rank

    def six(values: list[int], fill: int) -> str:
        return c_list([fill] * pad + values)

    strides = _strides(tuple(x.shape))
    decls = (f"static const ec_dus_params {p} = {{\n"
             f"  .rank = {rank}, .operand_bytes = {x.nbytes}, .update_empty = {int(u.size == 0)}, "
             f".index_bytes = {idx.np_dtype.itemsize},\n"
             f"  .operand_dims = {c_list(list(x.shape))}, .operand_strides = {c_list(strides)}, "
             f".update_dims = {c_list(list(u.shape))},\n"
             f"  .copy = {{.dims = {six(list(u.shape), 1)}, "
             f".src_strides = {six(_strides(tuple(u.shape)), 0)}, "
             f".dst_strides = {six(strides, 0)}, .elem_size = {x.np_dtype.itemsize}}},\n}};\n")
    ins = ctx.op.inputs
    call = (f"ec_dynamic_update_slice(&{p}, {ptr(ins[0])}, {ptr(ins[1])}, {ptr(ins[2])}, "
            f"{ptr(ctx.op.outputs[0])});")
    return OpCode(decls, call, ("lookup", "data_ops"))
