"""BATCH_MATMUL: ``lhs @ rhs`` over broadcast batch dimensions, ``adj_x``/``adj_y`` transposing
the last two dimensions of an input first (TFLM's ``batch_matmul.cc``: float32, int8, and int16
with int64 sums; rank at most 5).

int8/int16: ``sum_k (lhs - zp_lhs)(rhs - zp_rhs)`` (int32 sums for int8, int64 for int16),
scaled by ``float(s_lhs * s_rhs) / s_out`` (TFLM's bias-less GetQuantizedConvolutionMultipler:
the product of the two scales is a float32 product), plus the output zero point, clamped to the
type (no fused activation). int16 needs zero points of 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.arith import (
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_int64,
    quantize_multiplier,
    wrap_int32,
)
from edgecraft.ops.base import Cost, OpContext, OpDef, OpError, Options
from edgecraft.ops.broadcast import broadcast_shape
from edgecraft.ops.quant import dtype_range


def matrices(ctx: OpContext) -> tuple[tuple[int, ...], int, int, int]:
    """(batch shape, lhs rows, depth, rhs columns); :class:`OpError` when they do not fit."""
    lhs, rhs = ctx.req_input(0), ctx.req_input(1)
    if lhs.dtype != rhs.dtype:
        raise OpError(f"BATCH_MATMUL inputs must have one type, got {lhs.dtype} and {rhs.dtype}")
    if not (2 <= len(lhs.shape) <= 5 and 2 <= len(rhs.shape) <= 5):
        raise OpError(f"BATCH_MATMUL takes inputs of rank 2 to 5, got {list(lhs.shape)} and "
                      f"{list(rhs.shape)}")
    rows, depth = lhs.shape[-2:]
    if ctx.attrs.get("adj_x", False):
        rows, depth = depth, rows
    depth_r, cols = rhs.shape[-2:]
    if ctx.attrs.get("adj_y", False):
        depth_r, cols = cols, depth_r
    if depth != depth_r:
        raise OpError(f"BATCH_MATMUL inner dimensions differ: {depth} and {depth_r}")
    return broadcast_shape(lhs.shape[:-2], rhs.shape[:-2], 3), rows, depth, cols


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    batch, rows, _, cols = matrices(ctx)
    return [(*batch, rows, cols)]


def _operands(ctx: OpContext, args: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """lhs as (batch, rows, depth) and rhs as (batch, depth, cols), batches broadcast."""
    batch, rows, depth, cols = matrices(ctx)
    lhs, rhs = np.asarray(args[0]), np.asarray(args[1])
    if ctx.attrs.get("adj_x", False):
        lhs = np.swapaxes(lhs, -1, -2)
    if ctx.attrs.get("adj_y", False):
        rhs = np.swapaxes(rhs, -1, -2)
    return (np.broadcast_to(lhs, (*batch, rows, depth)), np.broadcast_to(rhs, (*batch, depth, cols)))


def multiplier(ctx: OpContext) -> tuple[int, int]:
    """TFLM's (multiplier, shift): ``(double)(float)(s_lhs * s_rhs) / (double)s_out``."""
    lhs, rhs, out = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if lhs.quant is None or rhs.quant is None or out.quant is None:
        raise OpError(f"{lhs.dtype} BATCH_MATMUL needs quantized inputs and output")
    product = np.float32(lhs.scale) * np.float32(rhs.scale)
    return quantize_multiplier(float(product) / float(np.float32(out.scale)))


def batch_matmul_quantized(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    lhs_t, rhs_t, out = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if lhs_t.dtype == "int16" and (lhs_t.zero_point, rhs_t.zero_point, out.zero_point) != (0, 0, 0):
        raise OpError("int16 BATCH_MATMUL needs zero points of 0 (TFLM)")
    lhs, rhs = _operands(ctx, args)
    a = lhs.astype(np.int64) - lhs_t.zero_point
    b = rhs.astype(np.int64) - rhs_t.zero_point
    total = np.einsum("...ik,...kj->...ij", a, b)
    mult, shift = ctx.memo("multiplier", lambda: multiplier(ctx))
    if lhs_t.dtype == "int8":
        scaled = multiply_by_quantized_multiplier(wrap_int32(total), mult, shift)
    else:
        scaled = multiply_by_quantized_multiplier_int64(total, mult, shift)
    lo, hi = dtype_range(out.dtype)
    return [np.clip(scaled + out.zero_point, lo, hi).astype(out.np_dtype)]


def batch_matmul_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    lhs, rhs = _operands(ctx, args)
    return [np.matmul(lhs.astype(np.float64), rhs.astype(np.float64)).astype(np.float32)]


def cost(ctx: OpContext) -> Cost:
    batch, rows, depth, cols = matrices(ctx)
    read = ctx.req_input(0).nbytes + ctx.req_input(1).nbytes
    return Cost(int(np.prod(batch, dtype=np.int64)) * rows * depth * cols, read, ctx.output(0).nbytes)


def transposed_rhs_bytes(ctx: OpContext) -> int:
    """Scratch of the C kernel: one rhs matrix, transposed, unless ``adj_y`` has it so already."""
    if ctx.attrs.get("adj_y", False):
        return 0
    _, _, depth, cols = matrices(ctx)
    return depth * cols * ctx.req_input(1).np_dtype.itemsize


OP = OpDef(
    name="BATCH_MATMUL",
    shape=shape,
    kernels={"int8": batch_matmul_quantized, "int16": batch_matmul_quantized, "float32": batch_matmul_float},
    cost=cost,
    work_class="fc",
    # The C kernel is FULLY_CONNECTED's, per batch; without adj_y the rhs matrix is transposed
    # into scratch first.
    scratch={"portable": transposed_rhs_bytes, "dsp": transposed_rhs_bytes},
    code={"portable": ("ec_fully_connected.c", "ec_data_ops.c")},
    state_bytes=48,
    options=Options("BatchMatMulOptions", (
        ("adj_x", "AdjX", "bool"), ("adj_y", "AdjY", "bool"),
        ("asymmetric_quantize_inputs", "AsymmetricQuantizeInputs", "bool"))),
)
