"""C emitter for BATCH_MATMUL (int8): per batch, the FULLY_CONNECTED kernel with the right-hand
matrix as its filter; a table row in ``codegen/ops_c.py``."""

from __future__ import annotations

import numpy as np

from edgecraft.codegen.cwriter import c_list, unit_requant_tables
from edgecraft.codegen.opcode import MAX_DIMS, CodegenError, OpCode, Pointer, require_int8
from edgecraft.ops.base import OpContext
from edgecraft.ops.batch_matmul import matrices as bmm_matrices
from edgecraft.ops.batch_matmul import multiplier as bmm_multiplier


def _batch_offsets(shape: tuple[int, ...], batch: tuple[int, ...], block: int) -> list[int]:
    """Element offset of each (broadcast) batch's matrix of a tensor with ``shape``."""
    own = (1,) * (len(batch) - len(shape) + 2) + tuple(shape[:-2])
    strides = [int(np.prod(own[d + 1:], dtype=np.int64)) * block for d in range(len(own))]
    return [sum((i if n > 1 else 0) * s for i, n, s in zip(index, own, strides, strict=True))
            for index in np.ndindex(*batch)] if batch else [0]


def batch_matmul(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """BATCH_MATMUL int8 (adj_x false): per batch, the FULLY_CONNECTED kernel with the rhs as
    its filter (rows = units = the output's columns); without adj_y the rhs is transposed into
    the operator's scratch buffer first. int16 (both operands, zero points 0): the same
    arrangement with the int16 kernel (int64 sums, the int64 multiply)."""
    wide = ctx.req_input(0).dtype == "int16"
    if wide:
        for t in (ctx.req_input(0), ctx.req_input(1), ctx.output(0)):
            if t.dtype != "int16" or t.zero_point != 0:
                raise CodegenError("int16 BATCH_MATMUL in C needs int16 operands and output, zero points 0")
    else:
        require_int8(ctx, 0, 1)
    if ctx.attrs.get("adj_x", False):
        raise CodegenError("BATCH_MATMUL with adj_x has no C kernel yet (transpose the lhs first)")
    lhs, rhs, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    batch, rows, depth, cols = bmm_matrices(ctx)
    adj_y = bool(ctx.attrs.get("adj_y", False))
    m, s = bmm_multiplier(ctx)
    tables, per_channel = unit_requant_tables(p, np.full(cols, m), np.full(cols, s))
    decls = tables + (
        f"static const ec_fc_params {p} = {{\n"
        f"  .rows = {rows}, .depth = {depth}, .units = {cols},\n"
        f"  .input_offset = {-lhs.zero_point}, .filter_offset = {-rhs.zero_point}, "
        f".output_offset = {y.zero_point}, .act_min = {-32768 if wide else -128}, "
        f".act_max = {32767 if wide else 127},\n"
        f"  .multiplier = {p}_multiplier, .shift = {p}_shift, .per_channel = {per_channel},\n}};\n"
    )
    if not adj_y:  # (depth, cols) -> (cols, depth)
        decls += (f"static const ec_copy_params {p}_t = {{\n"
                  f"  .dims = {c_list([1] * (MAX_DIMS - 2) + [cols, depth])},\n"
                  f"  .src_strides = {c_list([0] * (MAX_DIMS - 2) + [1, cols])}, "
                  f".dst_strides = {c_list([0] * (MAX_DIMS - 2) + [depth, 1])},\n"
                  f"  .elem_size = {rhs.np_dtype.itemsize},\n}};\n")
    a, b, out = ptr(ctx.op.inputs[0]), ptr(ctx.op.inputs[1]), ptr(ctx.op.outputs[0])
    calls = []
    pairs = zip(_batch_offsets(lhs.shape, batch, rows * depth),
                _batch_offsets(rhs.shape, batch, depth * cols), strict=True)
    for n, (lo, ro) in enumerate(pairs):
        filt = f"{b} + {ro}"
        if not adj_y:
            calls.append(f"ec_copy_nd(&{p}_t, {b} + {ro}, {ptr.scratch(ctx.op)});")
            filt = ptr.scratch(ctx.op)
        if wide:
            filt = f"(const int16_t *){filt}"
        fn = "ec_batch_matmul_s16" if wide else "ec_fully_connected_s8"
        calls.append(f"{fn}(&{p}, {a} + {lo}, {filt}, NULL, {out} + {n * rows * cols});")
    return OpCode(decls, "\n  ".join(calls), ("conv_s16" if wide else "fully_connected", "data_ops"))
