"""STRIDED_SLICE: ``input[begin:end:stride]`` per dimension, with TFLite's masks.

``begin``, ``end`` and ``strides`` are the constant inputs 1 to 3. Bit ``i`` of ``begin_mask``
/ ``end_mask`` ignores ``begin[i]`` / ``end[i]`` (the whole range); ``shrink_axis_mask`` takes
the single index ``begin[i]`` and drops the dimension; ``new_axis_mask`` inserts a dimension of
size 1; ``ellipsis_mask`` marks one entry that stands for all dimensions not otherwise named;
``offset`` makes ``end`` relative to ``begin``. This follows LiteRT's ``strided_slice.cc``:
the masks are first expanded into an "effective" shape with one slice spec per dimension.
TFLM handles inputs up to rank 4 and ignores ``ellipsis_mask``, ``new_axis_mask`` and
``offset``; models it runs have them zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edgecraft.ir.graph import DTYPES
from edgecraft.ops.base import OpContext, OpDef, OpError, Options


@dataclass(frozen=True)
class Spec:
    """The slice after mask expansion: the input viewed with ``effective_shape``, cut by
    ``slices``, then reshaped to ``output_shape`` (shrunk dimensions dropped)."""

    effective_shape: tuple[int, ...]
    slices: tuple[slice, ...]
    output_shape: tuple[int, ...]


def _bit(mask: int, i: int) -> bool:
    return bool(mask >> i & 1)


def _clamped(value: int, size: int, stride: int) -> int:
    if value < 0:
        value += size
    return min(max(value, 0), size) if stride > 0 else min(max(value, -1), size - 1)


def slice_spec(ctx: OpContext) -> Spec:
    """Expand masks and clamp indices exactly as LiteRT's ``BuildStridedSliceParams``."""
    shape = ctx.req_input(0).shape
    begin, end, strides = (ctx.const(i).reshape(-1).astype(np.int64).tolist() for i in (1, 2, 3))
    if not len(begin) == len(end) == len(strides):
        raise OpError(f"STRIDED_SLICE begin, end and strides differ in length: {begin}, {end}, {strides}")
    masks = {k: int(ctx.attrs.get(k, 0)) for k in
             ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")}
    ellipsis, new_axis = masks["ellipsis_mask"], masks["new_axis_mask"]
    n = len(begin)
    added = sum(1 for i in range(n) if _bit(new_axis, i) and not _bit(ellipsis, i))
    dims = len(shape) + added

    # Which effective dimensions the ellipsis covers, and which are new axes.
    in_ellipsis, is_new, i, expanded = [False] * dims, [False] * dims, 0, 0
    while i < dims:
        if _bit(ellipsis, i):
            stop = max(i + 1, min(i + 1 + added + len(shape) - n, dims))
            expanded = stop - i - 1
            for j in range(i, stop):
                in_ellipsis[j] = True
            i = stop
            continue
        is_new[i] = _bit(new_axis, i - expanded)
        i += 1

    effective, slices, out_shape = [], [], []
    ellipsis_start = in_ellipsis.index(True) if any(in_ellipsis) else dims
    seen_new = 0
    for i in range(dims):
        if is_new[i] and not in_ellipsis[i]:
            effective.append(1)
            slices.append(slice(0, 1, 1))
            out_shape.append(1)
            seen_new += 1
            continue
        size = shape[i - seen_new]
        effective.append(size)
        if in_ellipsis[i] or i >= n + expanded:
            slices.append(slice(None))
            out_shape.append(size)
            continue
        k = i - (expanded if i > ellipsis_start else 0)  # index into begin/end/strides
        stride = strides[k]
        if stride == 0:
            raise OpError("STRIDED_SLICE strides must be non-zero")
        if _bit(masks["begin_mask"], k):
            start = 0 if stride > 0 else size - 1
        else:
            start = _clamped(begin[k], size, stride)
        if _bit(masks["shrink_axis_mask"], k):
            if not 0 <= start < size:
                raise OpError(f"STRIDED_SLICE shrinks dimension {k} at index {begin[k]}, outside size {size}")
            slices.append(slice(start, start + 1, 1))
            continue
        stop = end[k] + (start if ctx.attrs.get("offset", False) else 0)
        stop = (size if stride > 0 else -1) if _bit(masks["end_mask"], k) else _clamped(stop, size, stride)
        count = max(0, -(-(stop - start) // stride))  # ceil((stop - start) / stride)
        # A stop of -1 (negative stride) means "through index 0", which Python spells None.
        slices.append(slice(start, None if stop < 0 else stop, stride) if count else slice(0, 0))
        out_shape.append(count)
    return Spec(tuple(effective), tuple(slices), tuple(out_shape))


def strided_slice_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """The sliced shape, shrunk dimensions removed, new axes inserted."""
    if len(ctx.req_input(0).shape) > 5:
        raise OpError("STRIDED_SLICE supports inputs of rank at most 5")
    return [slice_spec(ctx).output_shape]


def strided_slice(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Any dtype."""
    spec = slice_spec(ctx)
    return [np.reshape(np.reshape(args[0], spec.effective_shape)[spec.slices], spec.output_shape)]


OP = OpDef(
    name="STRIDED_SLICE",
    shape=strided_slice_shape,
    kernels=dict.fromkeys(DTYPES, strided_slice),
    code={"portable": ("ec_data_ops.c",)},
    state_bytes=40,
    options=Options("StridedSliceOptions", (
        ("begin_mask", "BeginMask", "int"),
        ("end_mask", "EndMask", "int"),
        ("ellipsis_mask", "EllipsisMask", "int"),
        ("new_axis_mask", "NewAxisMask", "int"),
        ("shrink_axis_mask", "ShrinkAxisMask", "int"),
        ("offset", "Offset", "bool"),
    )),
)
