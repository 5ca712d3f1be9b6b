"""C emitters for the layout ops, each a few strided copies (``ec_copy_nd``):
SPACE_TO_DEPTH/DEPTH_TO_SPACE, REVERSE_V2, MIRROR_PAD, GATHER_ND (constant indices) and
RESIZE_NEAREST_NEIGHBOR; and RESIZE_BILINEAR (``ec_resize.c``)."""

from __future__ import annotations

import numpy as np

from edgecraft.codegen.cwriter import c_array
from edgecraft.codegen.opcode import CodegenError, OpCode, Pointer
from edgecraft.codegen.ops_c_data import _contiguous_strides, _copy_block
from edgecraft.ops.base import OpContext
from edgecraft.ops.depth_to_space import view as depth_to_space_view
from edgecraft.ops.gather_nd import depth as gather_nd_depth
from edgecraft.ops.mirror_pad import mode_of as mirror_mode
from edgecraft.ops.mirror_pad import paddings as mirror_paddings
from edgecraft.ops.resize_bilinear import float_points, integer_points
from edgecraft.ops.resize_nearest_neighbor import rows_cols
from edgecraft.ops.reverse_v2 import axes as reverse_axes
from edgecraft.ops.space_to_depth import PERM as BLOCK_PERM
from edgecraft.ops.space_to_depth import view as space_to_depth_view


def space_depth(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SPACE_TO_DEPTH and DEPTH_TO_SPACE: one strided copy, a transpose of the input's
    six-dimensional view (the two ops share the permutation, not the view)."""
    x = ctx.req_input(0)
    shape6 = (space_to_depth_view if ctx.op.type == "SPACE_TO_DEPTH" else depth_to_space_view)(ctx)[0]
    strides = _contiguous_strides(shape6)
    dims = [shape6[q] for q in BLOCK_PERM]
    decls = _copy_block(p, dims, [strides[q] for q in BLOCK_PERM], _contiguous_strides(dims),
                        x.np_dtype.itemsize)
    return OpCode(decls, f"ec_copy_nd(&{p}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});",
                  ("data_ops",))


def reverse_v2(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """REVERSE_V2: one strided copy reading the reversed axes backwards from their last element."""
    x = ctx.req_input(0)
    dims = list(x.shape) or [1]
    strides = _contiguous_strides(dims)
    flipped = set(reverse_axes(ctx)) if x.size else set()
    base = sum((dims[a] - 1) * strides[a] for a in flipped)
    src = [-s if a in flipped else s for a, s in enumerate(strides)]
    decls = _copy_block(p, dims, src, strides, x.np_dtype.itemsize)
    return OpCode(decls, f"ec_copy_nd(&{p}, {ptr(ctx.op.inputs[0])} + {base}, {ptr(ctx.op.outputs[0])});",
                  ("data_ops",))


def mirror_pad(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """MIRROR_PAD: the input copied into the middle of the output, then, dimension by
    dimension, each pad filled from the output's own middle read backwards (a negative stride),
    over the box already filled: all of the earlier dimensions, the middle of the later ones."""
    x, y = ctx.req_input(0), ctx.output(0)
    pads = mirror_paddings(ctx)
    if x.size == 0:
        return OpCode("", "", ("data_ops",))
    skip = 0 if mirror_mode(ctx) == "symmetric" else 1  # REFLECT leaves the edge element out
    rank = len(x.shape)
    ys = _contiguous_strides(y.shape)
    middle = sum(lo * st for (lo, _), st in zip(pads, ys, strict=True))
    src, dst = ptr(ctx.op.inputs[0]), ptr(ctx.op.outputs[0])
    elem = x.np_dtype.itemsize
    decls = [_copy_block(f"{p}_m", list(x.shape), _contiguous_strides(x.shape), ys, elem)]
    calls = [f"ec_copy_nd(&{p}_m, {src}, {dst} + {middle});"]
    for d, (lo, hi) in enumerate(pads):
        n = x.shape[d]
        box = [y.shape[k] if k < d else x.shape[k] for k in range(rank)]
        base = sum(pads[k][0] * ys[k] for k in range(d + 1, rank))  # the later dims' middles
        for side, count, to, start in (("b", lo, 0, 2 * lo - 1 + skip), ("a", hi, lo + n, lo + n - 1 - skip)):
            if count == 0:
                continue
            dims = [*box[:d], count, *box[d + 1:]]
            read = [-ys[k] if k == d else ys[k] for k in range(rank)]
            decls.append(_copy_block(f"{p}_{side}{d}", dims, read, ys, elem))
            calls.append(f"ec_copy_nd(&{p}_{side}{d}, {dst} + {base + start * ys[d]}, "
                         f"{dst} + {base + to * ys[d]});")
    return OpCode("".join(decls), "\n  ".join(calls), ("data_ops",))


def gather_nd(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """GATHER_ND with constant indices: one contiguous copy of a slab per index tuple, the
    offsets worked out (and range-checked) at build time."""
    params, indices = ctx.req_input(0), ctx.req_input(1)
    if indices.data is None:
        raise CodegenError("GATHER_ND has a C kernel for constant indices only; these are computed "
                           "at run time")
    k = gather_nd_depth(ctx)
    strides = _contiguous_strides(params.shape)
    slab = int(np.prod(params.shape[k:], dtype=np.int64))
    decls = _copy_block(p, [slab], [1], [1], params.np_dtype.itemsize)
    src, dst = ptr(ctx.op.inputs[0]), ptr(ctx.op.outputs[0])
    calls = []
    for i, tup in enumerate(indices.data.reshape(-1, k).tolist()):
        if not all(0 <= v < d for v, d in zip(tup, params.shape, strict=False)):
            raise CodegenError(f"GATHER_ND index {tup} is outside params of shape {list(params.shape)}")
        offset = sum(v * s for v, s in zip(tup, strides, strict=False))
        calls.append(f"ec_copy_nd(&{p}, {src} + {offset}, {dst} + {i * slab});")
    return OpCode(decls if calls and slab else "", "\n  ".join(calls) if slab else "", ("data_ops",))


def _runs(index: list[int]) -> list[tuple[int, int, int]]:
    """(source, first output, count) for each run of equal consecutive entries of ``index``."""
    out: list[tuple[int, int, int]] = []
    for i, v in enumerate(index):
        if out and out[-1][0] == v:
            out[-1] = (v, out[-1][1], out[-1][2] + 1)
        else:
            out.append((v, i, 1))
    return out


def resize_nearest(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """RESIZE_NEAREST_NEIGHBOR in two passes of strided copies with a zero stride: each run of
    output columns sharing a source column into the scratch (n, h, new width, c), then each run
    of output rows sharing a source row from the scratch into the output."""
    x, y = ctx.req_input(0), ctx.output(0)
    n, h, w, c = x.shape
    oh, ow = y.shape[1], y.shape[2]
    if x.size == 0 or y.size == 0:
        return OpCode("", "", ("data_ops",))
    rows, cols = rows_cols(ctx)
    elem = x.np_dtype.itemsize
    src, dst, tmp = ptr(ctx.op.inputs[0]), ptr(ctx.op.outputs[0]), ptr.scratch(ctx.op)
    decls, calls = [], []
    for r, (j, first, count) in enumerate(_runs(cols)):
        decls.append(_copy_block(f"{p}_c{r}", [n, h, count, c], [h * w * c, w * c, 0, 1],
                                 [h * ow * c, ow * c, c, 1], elem))
        calls.append(f"ec_copy_nd(&{p}_c{r}, {src} + {j * c}, {tmp} + {first * c * elem});")
    for r, (i, first, count) in enumerate(_runs(rows)):
        decls.append(_copy_block(f"{p}_r{r}", [n, count, ow * c], [h * ow * c, 0, 1],
                                 [oh * ow * c, ow * c, 1], elem))
        calls.append(f"ec_copy_nd(&{p}_r{r}, {tmp} + {i * ow * c * elem}, {dst} + {first * ow * c});")
    return OpCode("".join(decls), "\n  ".join(calls), ("data_ops",))


def resize_bilinear(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """RESIZE_BILINEAR (int8, float32): tables of source indices and weights per output row and
    column, from the op's own TFLM arithmetic, for ``ec_resize_bilinear_*``."""
    x, y = ctx.req_input(0), ctx.output(0)
    if x.dtype not in ("int8", "float32"):
        raise CodegenError(f"RESIZE_BILINEAR has C kernels for int8 and float32, not {x.dtype}")
    n, h, w, c = x.shape
    oh, ow = y.shape[1], y.shape[2]
    align = bool(ctx.attrs.get("align_corners", False))
    half = bool(ctx.attrs.get("half_pixel_centers", False))
    integer = x.dtype == "int8"
    points = integer_points if integer else float_points
    py, y0, y1 = points(h, oh, align, half)
    px, x0, x1 = points(w, ow, align, half)
    arrays = {"y0": y0, "y1": y1, "x0": x0, "x1": x1}
    if integer:
        weights = {"fy": py - 1024 * y0, "fx": px - 1024 * x0}
        decls = [c_array(f"{p}_{k}", "int32_t", v.astype(np.int32), f"{p}: {k}")
                 for k, v in (arrays | weights).items()]
        fields = ", ".join(f".{k} = {p}_{k}" for k in (*arrays, *weights)) + ", .dy = 0, .dx = 0"
    else:
        weights = {"dy": (py - y0.astype(np.float32)).astype(np.float32),
                   "dx": (px - x0.astype(np.float32)).astype(np.float32)}
        decls = [c_array(f"{p}_{k}", "int32_t", v.astype(np.int32), f"{p}: {k}") for k, v in arrays.items()]
        decls += [c_array(f"{p}_{k}", "float", v, f"{p}: {k}") for k, v in weights.items()]
        fields = ", ".join(f".{k} = {p}_{k}" for k in (*arrays, *weights)) + ", .fy = 0, .fx = 0"
    decls.append(f"static const ec_resize_params {p} = {{\n  .batches = {n}, .in_h = {h}, .in_w = {w}, "
                 f".depth = {c}, .out_h = {oh}, .out_w = {ow},\n  {fields},\n}};\n")
    fn = "ec_resize_bilinear_s8" if integer else "ec_resize_bilinear_f32"
    return OpCode("".join(decls), f"{fn}(&{p}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});",
                  ("resize",))
