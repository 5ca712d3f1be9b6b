"""Helium (MVE) rewrites of layers whose shape the general MVE kernels run slowly, emitted as
calls to those kernels with re-laid-out constants (``ops_c.conv`` tries them first)."""

from __future__ import annotations

import numpy as np

from edgecraft.codegen.cwriter import requant_tables
from edgecraft.codegen.opcode import OpCode, Pointer
from edgecraft.ops.base import OpContext


def packed_pointwise(ctx: OpContext, p: str, ptr: Pointer, mult: np.ndarray, shift: np.ndarray,
                     folded_bias: np.ndarray, lo: int, hi: int) -> OpCode | None:
    """An in-place 1x1 CONV_2D with fewer than 16 input channels that divide 16 (1, 2, 4, 8) as
    one fully connected product over groups of ``k = 16 / in_c`` pixels: each 16-byte input row
    holds k whole pixels, the k * out_c filter rows are block diagonal (row ``j * out_c + u`` is
    filter u at bytes ``j * in_c ..``, zero elsewhere), so unit ``j * out_c + u`` of a row is
    pixel j's output channel u, which is where NHWC stores it; the requantization tables and the
    folded bias repeat k times. The product then holds each input row in a vector register
    (``ec_fully_connected_mve.c``) instead of running a 16-lane loop on 8 bytes. None where the
    layer does not qualify (other depths, a pixel count k does not divide)."""
    x, y = ctx.req_input(0), ctx.output(0)
    in_c, out_c = x.shape[3], y.shape[3]
    pixels = x.size // in_c
    if in_c >= 16 or 16 % in_c or pixels % (16 // in_c):
        return None
    k = 16 // in_c
    rows = np.zeros((k, out_c, k, in_c), np.int8)
    filt = ctx.const(1).reshape(out_c, in_c)
    for j in range(k):
        rows[j, :, j, :] = filt
    name = ptr.const_array(f"{p}_filter_mve", "int8_t", rows.reshape(-1),
                           f"{p}: {k} pixels a row, filter rows block diagonal (ops_c_mve.packed_pointwise)")
    bias = ptr.const_array(f"{p}_folded_bias", "int32_t", np.tile(folded_bias, k),
                           f"{p}: bias + input offset x filter sums, {k} times (ec_fully_connected_mve.c)")
    decls = requant_tables(p, np.tile(mult, k), np.tile(shift, k)) + (
        f"static const ec_fc_params {p} = {{\n"
        f"  .rows = {pixels // k}, .depth = 16, .units = {k * out_c},\n"
        f"  .input_offset = {-x.zero_point}, .filter_offset = 0, "
        f".output_offset = {y.zero_point}, .act_min = {lo}, .act_max = {hi},\n"
        f"  .multiplier = {p}_multiplier, .shift = {p}_shift, .per_channel = 1,\n}};\n"
    )
    i = ctx.op.inputs
    call = f"ec_fully_connected_mve_s8(&{p}, {ptr(i[0])}, {name}, {bias}, {ptr(ctx.op.outputs[0])});"
    return OpCode(decls, call, ("conv_2d_mve", "fully_connected_mve"))
