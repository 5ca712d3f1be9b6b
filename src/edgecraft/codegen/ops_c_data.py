"""C emitters for the ops that move or map data rather than multiply: RESHAPE/SQUEEZE copies,
PAD/PADV2, MEAN/SUM, QUANTIZE (int8 to int8), TRANSPOSE, STRIDED_SLICE, SLICE, CONCATENATION,
SPLIT/SPLIT_V, PACK/UNPACK (the layout ops are in ``ops_c_layout.py``), and the unary int8
ops computed as 256-entry tables (the reference kernel evaluated on every int8 value)."""

from __future__ import annotations

import numpy as np

from edgecraft.codegen.cwriter import c_array, c_list
from edgecraft.codegen.opcode import MAX_DIMS, CodegenError, OpCode, Pointer, require_int8
from edgecraft.ops.arith import quantize_multiplier
from edgecraft.ops.base import OpContext
from edgecraft.ops.gather import geometry as gather_geometry
from edgecraft.ops.mean import axes as mean_axes
from edgecraft.ops.mean import mean_multiplier
from edgecraft.ops.pack import axis_of as pack_axis
from edgecraft.ops.pad import paddings
from edgecraft.ops.registry import get_op
from edgecraft.ops.rsqrt import rsqrt_table
from edgecraft.ops.slice import bounds as slice_bounds
from edgecraft.ops.split import sizes as split_sizes
from edgecraft.ops.split_v import sizes as split_v_sizes
from edgecraft.ops.strided_slice import slice_spec
from edgecraft.ops.sum import sum_multiplier
from edgecraft.ops.unpack import axis_of as unpack_axis


def copy(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """RESHAPE and SQUEEZE: the bytes do not change (a no-op when planned as a view)."""
    src, dst = ptr(ctx.op.inputs[0]), ptr(ctx.op.outputs[0])
    nbytes = ctx.output(0).nbytes
    return OpCode("", f"memmove({dst}, {src}, {nbytes});", ())


def pad(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    require_int8(ctx, 0)
    x, y = ctx.req_input(0), ctx.output(0)
    if len(x.shape) > MAX_DIMS:
        raise CodegenError(f"PAD supports at most {MAX_DIMS} dimensions, got {list(x.shape)}")
    extra = MAX_DIMS - len(x.shape)
    before = [0] * extra + [int(b) for b, _ in paddings(ctx)]
    value = y.zero_point
    if ctx.input(2) is not None:
        value = int(np.asarray(ctx.const(2)).reshape(-1)[0])
    decls = (
        f"static const ec_pad_params {p} = {{\n"
        f"  .in_dims = {c_list([1] * extra + list(x.shape))}, "
        f".out_dims = {c_list([1] * extra + list(y.shape))},\n"
        f"  .before = {c_list(before)}, .pad_value = {value},\n}};\n"
    )
    return OpCode(decls, f"ec_pad_s8(&{p}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});",
                  ("reshape_ops",))


def mean(ctx: OpContext, p: str, ptr: Pointer, multiplier: tuple[int, int] | None = None) -> OpCode:
    """MEAN (and SUM, which passes its own ``multiplier``); int8, or int16 (``ec_data_s16.c``)."""
    x, y = ctx.req_input(0), ctx.output(0)
    wide = x.dtype == "int16" and y.dtype == "int16"
    if not wide:
        require_int8(ctx, 0)
    reduced = mean_axes(ctx)
    rank = len(x.shape)
    if rank > MAX_DIMS:
        raise CodegenError(f"MEAN supports at most {MAX_DIMS} dimensions, got {list(x.shape)}")
    strides = [int(np.prod(x.shape[d + 1:], dtype=np.int64)) for d in range(rank)]
    kept = [d for d in range(rank) if d not in reduced]
    red = sorted(reduced)
    count = int(np.prod([x.shape[d] for d in red], dtype=np.int64))
    m, s = mean_multiplier(x.scale, y.scale, count) if multiplier is None else multiplier

    def padded(values: list[int]) -> str:
        return c_list((values + [1] * MAX_DIMS)[:MAX_DIMS])

    decls = (
        f"static const ec_mean_params {p} = {{\n"
        f"  .out_count = {y.size}, .count = {count},\n"
        f"  .kept_dims = {padded([x.shape[d] for d in kept])}, "
        f".kept_strides = {padded([strides[d] for d in kept])}, .n_kept = {len(kept)},\n"
        f"  .red_dims = {padded([x.shape[d] for d in red])}, "
        f".red_strides = {padded([strides[d] for d in red])}, .n_red = {len(red)},\n"
        f"  .input_zp_times_count = {count * x.zero_point}, .output_offset = {y.zero_point}, "
        f".multiplier = {m}, .shift = {s},\n}};\n"
    )
    fn, stem = ("ec_mean_s16", "data_s16") if wide else ("ec_mean_s8", "reshape_ops")
    return OpCode(decls, f"{fn}(&{p}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});", (stem,))


def quantize(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    require_int8(ctx, 0)
    x, y = ctx.req_input(0), ctx.output(0)
    m, s = quantize_multiplier(x.scale / y.scale)
    decls = (
        f"static const ec_requant_params {p} = {{\n"
        f"  .size = {x.size}, .input_offset = {-x.zero_point}, .output_offset = {y.zero_point}, "
        f".multiplier = {m}, .shift = {s},\n}};\n"
    )
    return OpCode(decls, f"ec_requantize_s8(&{p}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});",
                  ("reshape_ops",))


def _contiguous_strides(shape: tuple[int, ...] | list[int]) -> list[int]:
    strides: list[int] = []
    step = 1
    for d in reversed(list(shape)):
        strides.insert(0, step)
        step *= d
    return strides


def _copy_block(p: str, dims: list[int], src: list[int], dst: list[int], elem: int) -> str:
    if len(dims) > MAX_DIMS:
        raise CodegenError(f"data movement over {len(dims)} dimensions; at most {MAX_DIMS} are supported")
    pad = MAX_DIMS - len(dims)
    return (f"static const ec_copy_params {p} = {{\n"
            f"  .dims = {c_list([1] * pad + dims)},\n"
            f"  .src_strides = {c_list([0] * pad + src)}, .dst_strides = {c_list([0] * pad + dst)},\n"
            f"  .elem_size = {elem},\n}};\n")


def transpose(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    x, y = ctx.req_input(0), ctx.output(0)
    perm = [int(v) for v in ctx.const(1).reshape(-1)]
    strides = _contiguous_strides(x.shape)
    decls = _copy_block(p, list(y.shape), [strides[q] for q in perm], _contiguous_strides(y.shape),
                        x.np_dtype.itemsize)
    return OpCode(decls, f"ec_copy_nd(&{p}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});",
                  ("data_ops",))


def strided_slice(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    x = ctx.req_input(0)
    spec = slice_spec(ctx)
    strides = _contiguous_strides(spec.effective_shape)
    dims, src, base = [], [], 0
    for size, stride, sl in zip(spec.effective_shape, strides, spec.slices, strict=True):
        start, stop, step = sl.indices(size)
        dims.append(len(range(start, stop, step)))
        src.append(step * stride)
        base += start * stride if dims[-1] else 0
    decls = _copy_block(p, dims, src, _contiguous_strides(dims), x.np_dtype.itemsize)
    return OpCode(decls, f"ec_copy_nd(&{p}, {ptr(ctx.op.inputs[0])} + {base}, {ptr(ctx.op.outputs[0])});",
                  ("data_ops",))


def concatenation(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    y = ctx.output(0)
    rank = len(y.shape)
    axis = int(ctx.attrs.get("axis", 0)) % rank
    outer = int(np.prod(y.shape[:axis], dtype=np.int64))
    inner = int(np.prod(y.shape[axis + 1:], dtype=np.int64))
    decls, calls, offset = [], [], 0
    for i in range(ctx.num_inputs):
        t = ctx.req_input(i)
        run = t.shape[axis] * inner
        decls.append(_copy_block(f"{p}_{i}", [outer, run], [run, 1], [y.shape[axis] * inner, 1],
                                 t.np_dtype.itemsize))
        calls.append(f"ec_copy_nd(&{p}_{i}, {ptr(ctx.op.inputs[i])}, {ptr(ctx.op.outputs[0])} + {offset});")
        offset += run
    return OpCode("".join(decls), "\n  ".join(calls), ("data_ops",))


def lookup_table(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """Unary int8 ops: the reference kernel evaluated on all 256 int8 values at build time."""
    x, y = ctx.req_input(0), ctx.output(0)
    if x.dtype != "int8" or y.dtype not in ("int8", "float32"):
        raise CodegenError(f"{ctx.op.type} from {x.dtype} to {y.dtype} has no C kernel (int8 input only)")
    kernel = get_op(ctx.op.type).kernel_for(ctx)
    table = np.asarray(kernel(ctx, [np.arange(-128, 128).astype(np.int8)])[0]).reshape(-1).astype(y.np_dtype)
    if table.shape != (256,):
        raise CodegenError(f"{ctx.op.type} is not elementwise; no table kernel for it")
    ctype = "float" if y.dtype == "float32" else "int8_t"
    decls = c_array(f"{p}_table", ctype, table, f"{p}: {ctx.op.type} of every int8 input, -128 .. 127")
    fn = "ec_lut_s8_f32" if y.dtype == "float32" else "ec_lut_s8"
    return OpCode(decls, f"{fn}({x.size}, {p}_table, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});",
                  ("data_ops",))


def sum_op(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SUM: MEAN's kernel with SUM's multiplier (no ``1/count`` folded in); int8 or int16."""
    x, y = ctx.req_input(0), ctx.output(0)
    if x.dtype != "int16":
        require_int8(ctx, 0)
    return mean(ctx, p, ptr, multiplier=sum_multiplier(x.scale, y.scale))


def slice_op(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SLICE: one strided copy of the box ``begin .. begin + size``."""
    x = ctx.req_input(0)
    box = slice_bounds(ctx)
    strides = _contiguous_strides(x.shape)
    dims = [stop - start for start, stop in box]
    base = sum(start * s for (start, _), s in zip(box, strides, strict=True)) if min(dims, default=1) else 0
    decls = _copy_block(p, dims, strides, _contiguous_strides(dims), x.np_dtype.itemsize)
    return OpCode(decls, f"ec_copy_nd(&{p}, {ptr(ctx.op.inputs[0])} + {base}, {ptr(ctx.op.outputs[0])});",
                  ("data_ops",))


def _pieces(p: str, shape: tuple[int, ...], axis: int, sizes: list[int], elem: int,
            whole: str, pieces: list[str], into_whole: bool) -> OpCode:
    """Copies between a tensor of ``shape`` and its consecutive pieces along ``axis`` (sizes
    ``sizes``; a size-1 piece may lack the axis, as PACK's inputs and UNPACK's outputs do):
    from the pieces into the whole when ``into_whole``, from the whole into the pieces otherwise."""
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    inner = int(np.prod(shape[axis + 1:], dtype=np.int64))
    row = shape[axis] * inner
    decls, calls, offset = [], [], 0
    for i, (size, piece) in enumerate(zip(sizes, pieces, strict=True)):
        run = size * inner
        src, dst = ([run, 1], [row, 1]) if into_whole else ([row, 1], [run, 1])
        decls.append(_copy_block(f"{p}_{i}", [outer, run], src, dst, elem))
        if into_whole:
            calls.append(f"ec_copy_nd(&{p}_{i}, {piece}, {whole} + {offset});")
        else:
            calls.append(f"ec_copy_nd(&{p}_{i}, {whole} + {offset}, {piece});")
        offset += run
    return OpCode("".join(decls), "\n  ".join(calls), ("data_ops",))


def split(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SPLIT (data is input 1) and SPLIT_V (data is input 0)."""
    data = 1 if ctx.op.type == "SPLIT" else 0
    x = ctx.req_input(data)
    axis, sizes = (split_sizes if ctx.op.type == "SPLIT" else split_v_sizes)(ctx)
    return _pieces(p, x.shape, axis, sizes, x.np_dtype.itemsize, ptr(ctx.op.inputs[data]),
                   [ptr(k) for k in ctx.op.outputs], into_whole=False)


def pack(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    y = ctx.output(0)
    return _pieces(p, y.shape, pack_axis(ctx), [1] * ctx.num_inputs, y.np_dtype.itemsize,
                   ptr(ctx.op.outputs[0]), [ptr(k) for k in ctx.op.inputs], into_whole=True)


def unpack(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    x = ctx.req_input(0)
    return _pieces(p, x.shape, unpack_axis(ctx), [1] * len(ctx.op.outputs), x.np_dtype.itemsize,
                   ptr(ctx.op.inputs[0]), [ptr(k) for k in ctx.op.outputs], into_whole=False)


def rsqrt(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """RSQRT int8: TFLM's integer inverse square root of every int8 value, as a table (inputs
    below the zero point, which TFLM refuses, get what the formula gives)."""
    require_int8(ctx, 0)
    x = ctx.req_input(0)
    decls = c_array(f"{p}_table", "int8_t", rsqrt_table(ctx),
                    f"{p}: RSQRT of every int8 input, -128 .. 127")
    call = f"ec_lut_s8({x.size}, {p}_table, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});"
    return OpCode(decls, call, ("data_ops",))


def broadcast_to(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """BROADCAST_TO (any dtype): a strided copy reading each broadcast dimension with stride 0."""
    x, y = ctx.req_input(0), ctx.output(0)
    shape = [1] * (len(y.shape) - len(x.shape)) + list(x.shape)
    strides = _contiguous_strides(shape)
    src = [0 if d == 1 and e != 1 else s for d, e, s in zip(shape, y.shape, strides, strict=True)]
    decls = _copy_block(p, list(y.shape), src, _contiguous_strides(y.shape), x.np_dtype.itemsize)
    return OpCode(decls, f"ec_copy_nd(&{p}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});",
                  ("data_ops",))


def fill(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """FILL (any value dtype): the scalar input 1 copied to every element (all strides 0)."""
    y = ctx.output(0)
    dims = list(y.shape) or [1]
    decls = _copy_block(p, dims, [0] * len(dims), _contiguous_strides(dims), y.np_dtype.itemsize)
    return OpCode(decls, f"ec_copy_nd(&{p}, {ptr(ctx.op.inputs[1])}, {ptr(ctx.op.outputs[0])});",
                  ("data_ops",))


def zeros_like(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """ZEROS_LIKE (any dtype): stored zeros."""
    return OpCode("", f"memset({ptr(ctx.op.outputs[0])}, 0, {ctx.output(0).nbytes});", ())


def shape_op(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SHAPE (any input dtype): the input's dimensions, a constant int32 array, copied out."""
    dims = np.array(ctx.req_input(0).shape or (0,), np.int32)
    table = ptr.const_array(f"{p}_dims", "int32_t", dims, f"{p}: the input's shape")
    return OpCode("", f"memcpy({ptr(ctx.op.outputs[0])}, {table}, {4 * len(ctx.req_input(0).shape)});", ())


def gather(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """GATHER with constant positions: per batch and position, one strided copy of the block
    at that position (any element type)."""
    axis, batch = gather_geometry(ctx)
    x, pos_t = ctx.req_input(0), ctx.req_input(1)
    if pos_t.data is None:
        raise CodegenError("GATHER has a C kernel for constant positions only")
    lead = int(np.prod(x.shape[:batch], dtype=np.int64))
    positions = np.asarray(pos_t.data).astype(np.int64).reshape(lead, -1)
    if positions.size and (positions.min() < 0 or positions.max() >= x.shape[axis]):
        raise CodegenError(f"GATHER position outside 0..{x.shape[axis] - 1}")
    mid = int(np.prod(x.shape[batch:axis], dtype=np.int64))
    inner = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
    n = positions.shape[1]
    decls = _copy_block(p, [mid, inner], [x.shape[axis] * inner, 1], [n * inner, 1], x.np_dtype.itemsize)
    src, dst = ptr(ctx.op.inputs[0]), ptr(ctx.op.outputs[0])
    calls = []
    for b in range(lead):
        for j, q in enumerate(positions[b]):
            at, to = b * mid * x.shape[axis] * inner + int(q) * inner, (b * mid * n + j) * inner
            calls.append(f"ec_copy_nd(&{p}, {src} + {at}, {dst} + {to});")
    return OpCode(decls, "\n  ".join(calls), ("data_ops",))
