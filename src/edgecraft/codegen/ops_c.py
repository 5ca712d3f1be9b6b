"""Code generation as a table: op name -> a function that writes that op's C.

Each emitter reads one operator with the same helpers as its reference kernel in ``ops/`` (so
window geometry, multipliers and clamps are computed once, in Python, exactly as the spec
does) and returns the op's constant tables, its parameter block and the kernel call. The
kernels themselves live in ``codegen/kernels/`` as C sources.
"""

from __future__ import annotations

import inspect

import numpy as np

from edgecraft.codegen.cwriter import c_list, requant_tables, unit_requant_tables
from edgecraft.codegen.opcode import (
    MAX_DIMS,
    CodegenError,
    OpCode,
    OpEmitter,
    Pointer,
    broadcast_strides,
    require_int8,
)
from edgecraft.codegen.ops_c_batch import space_batch
from edgecraft.codegen.ops_c_data import (
    broadcast_to,
    concatenation,
    copy,
    fill,
    gather,
    lookup_table,
    mean,
    pack,
    rsqrt,
    shape_op,
    slice_op,
    split,
    strided_slice,
    sum_op,
    transpose,
    unpack,
    zeros_like,
)
from edgecraft.codegen.ops_c_float import FLOAT_EMITTERS, arg_minmax
from edgecraft.codegen.ops_c_int import INT_EMITTERS
from edgecraft.codegen.ops_c_int16 import (
    activation,
    binary_s16,
    cast_op,
    conv_s16,
    fully_connected_s16,
    pad_op,
    pool_s16,
    prelu_op,
    quantize_op,
    select_op,
    softmax_s16,
    unary_op,
)
from edgecraft.codegen.ops_c_layout import (
    gather_nd,
    mirror_pad,
    resize_bilinear,
    resize_nearest,
    reverse_v2,
    space_depth,
)
from edgecraft.codegen.ops_c_lookup import dynamic_update_slice, embedding_lookup
from edgecraft.codegen.ops_c_lstm import lstm
from edgecraft.codegen.ops_c_matmul import batch_matmul
from edgecraft.codegen.ops_c_mve import packed_pointwise
from edgecraft.codegen.ops_c_quick import quick_conv, quick_fc
from edgecraft.codegen.ops_c_signal import SIGNAL_EMITTERS
from edgecraft.codegen.ops_c_sums import add_n, cumsum
from edgecraft.codegen.ops_c_svdf import svdf
from edgecraft.codegen.ops_c_tconv import transpose_conv
from edgecraft.ir.graph import Quantization, Tensor
from edgecraft.ops.add import RescaleParams, rescale_params
from edgecraft.ops.arith import (
    conv_multipliers,
    multiply_by_quantized_multiplier_smaller_than_one,
    quantize_multiplier,
)
from edgecraft.ops.base import OpContext, OpError
from edgecraft.ops.compare import COMPARISONS
from edgecraft.ops.compare import rescaled as compare_rescaled
from edgecraft.ops.conv_2d import mve_patch_depth, pointwise_in_place
from edgecraft.ops.conv_common import activation_range, pool_filter, window_geometry
from edgecraft.ops.depthwise_conv_2d import mve_rows
from edgecraft.ops.fully_connected import multipliers as fc_multipliers
from edgecraft.ops.quick import quick_fully_connected
from edgecraft.ops.softmax import check_output, input_params
from edgecraft.ops.squared_difference import params as sqdiff_params

__all__ = ["EMITTERS", "EMITTER_DTYPES", "CodegenError", "OpCode", "c_dtypes", "emit_op", "interleave4"]


def interleave4(rows: np.ndarray, groups: int = 1) -> np.ndarray:
    """The DSP kernels' filter layout (see ``ec_dsp.h``): within each group, blocks of 4 rows
    interleaved in 4-byte column chunks, then the blocks' leftover columns; leftover rows as is."""
    n = rows.shape[1]
    n4 = n // 4 * 4
    out = []
    for group in np.split(rows, groups):
        full = len(group) // 4 * 4
        for b in range(0, full, 4):
            block = group[b:b + 4]
            out.append(block[:, :n4].reshape(4, n4 // 4, 4).transpose(1, 0, 2).reshape(-1))
            out.append(block[:, n4:].reshape(-1))
        out.append(group[full:].reshape(-1))
    return np.concatenate(out)


def _filter(ctx: OpContext, p: str, ptr: Pointer, groups: int = 1) -> str:
    """The filter's C name: the tensor itself, or for the DSP kernels its interleaved copy."""
    k = ctx.op.inputs[1]
    if not ptr.dsp:
        return ptr(k)
    w = ctx.const(1)
    rows = w.reshape(w.shape[0], -1)
    return ptr.const_array(f"{p}_filter", "int8_t", interleave4(rows, groups),
                           f"{p}: the filter interleaved for the DSP kernel")


def _dims(shape: tuple[int, ...]) -> str:
    return c_list(list(shape))


def _bias(ctx: OpContext, ptr: Pointer) -> str:
    return ptr(ctx.op.inputs[2]) if ctx.input(2) is not None else "NULL"


def _quantized(ctx: OpContext, *tensors: Tensor) -> list[Quantization]:
    """The quantization of each tensor; :class:`OpError` naming the first that has none."""
    out = []
    for t in tensors:
        if t.quant is None:
            raise OpError(f"int8 tensor {t.name!r} has no quantization parameters")
        out.append(t.quant)
    return out


def conv(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """CONV_2D and DEPTHWISE_CONV_2D (the parameter block is shared); int16: 16x8."""
    if ctx.req_input(0).dtype == "int16":
        return conv_s16(ctx, p, ptr)
    require_int8(ctx, 0, 1)
    x, w, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    depthwise = ctx.op.type == "DEPTHWISE_CONV_2D"
    _, kh, kw, _ = w.shape
    out_h, out_w, pad_h, pad_w = window_geometry(ctx, x.shape[1], x.shape[2], kh, kw)
    _, w_q, _ = _quantized(ctx, x, w, y)
    out_c = y.shape[3]
    mult, shift = conv_multipliers(x.scale, w_q.scale, y.scale, out_c)
    lo, hi = activation_range(ctx)
    a = ctx.attrs
    params = (
        f"static const ec_conv_params {p} = {{\n"
        f"  .input = {_dims(x.shape)}, .filter = {_dims(w.shape)}, .output = {_dims(y.shape)},\n"
        f"  .stride_h = {a.get('stride_h', 1)}, .stride_w = {a.get('stride_w', 1)}, "
        f".dilation_h = {a.get('dilation_h_factor', 1)}, .dilation_w = {a.get('dilation_w_factor', 1)}, "
        f".pad_h = {pad_h}, .pad_w = {pad_w},\n"
        f"  .depth_multiplier = {out_c // x.shape[3] if depthwise else 1},\n"
        f"  .input_offset = {-x.zero_point}, .output_offset = {y.zero_point}, "
        f".act_min = {lo}, .act_max = {hi},\n"
        f"  .multiplier = {p}_multiplier, .shift = %s,\n}};\n"
    )
    decls = requant_tables(p, mult, shift) + params % f"{p}_shift"
    if (out_h, out_w) != tuple(y.shape[1:3]):  # the reader checks shape rules; graphs built in code may not
        raise OpError(f"output shape {list(y.shape)} does not match the window geometry ({out_h}, {out_w})")
    i = ctx.op.inputs
    if ptr.mve and depthwise and out_c == x.shape[3]:
        bias = ptr.const_array(f"{p}_folded_bias", "int32_t", _folded_bias(ctx, -x.zero_point, 0, True),
                               f"{p}: bias + input offset x filter sums (ec_depthwise_conv_2d_mve.c)")
        out, scratch = ptr(ctx.op.outputs[0]), ptr.scratch(ctx.op)
        columns = mve_rows(ctx)
        if columns:  # a channel's row of outputs at a time: the filter as one vector per channel
            filt = ptr.const_array(f"{p}_filter_mve", "int8_t", depthwise_vectors(ctx.const(1)),
                                   f"{p}: each channel's taps, byte 4 kx + ky (ec_depthwise_conv_2d_mve.c)")
            call = (f"ec_depthwise_conv_2d_mve_rows_s8(&{p}, {ptr(i[0])}, {filt}, {bias}, {out}, {scratch}, "
                    f"{columns});")
            return OpCode(decls, call, ("depthwise_conv_2d_mve",))
        call = f"ec_depthwise_conv_2d_mve_s8(&{p}, {ptr(i[0])}, {ptr(i[1])}, {bias}, {out}, {scratch});"
        return OpCode(decls, call, ("depthwise_conv_2d_mve",))
    if ptr.mve and not depthwise and w.shape[3] == x.shape[3]:
        banded = getattr(ptr, "in_patch", False)  # a patch rewrites the ec_conv_params block
        packed = None if banded or not pointwise_in_place(ctx) else packed_pointwise(
            ctx, p, ptr, mult, shift, _folded_bias(ctx, -x.zero_point, 0), lo, hi)
        if packed:
            return packed
        bias = ptr.const_array(f"{p}_folded_bias", "int32_t", _folded_bias(ctx, -x.zero_point, 0),
                               f"{p}: bias + input offset x filter sums (ec_conv_2d_mve.c)")
        depth, padded = kh * kw * x.shape[3], mve_patch_depth(ctx)
        if padded != depth and not pointwise_in_place(ctx):  # rows padded with zeros to the patch depth
            rows = np.zeros((out_c, padded), np.int8)
            rows[:, :depth] = ctx.const(1).reshape(out_c, depth)
            filt = ptr.const_array(f"{p}_filter_mve", "int8_t", rows.reshape(-1),
                                   f"{p}: filter rows padded to {padded} bytes (ec_conv_2d_mve.c)")
        else:
            filt = ptr(i[1])
        call = (f"ec_conv_2d_mve_s8(&{p}, {ptr(i[0])}, {filt}, {bias}, {ptr(ctx.op.outputs[0])}, "
                f"{ptr.scratch(ctx.op)});")
        return OpCode(decls, call, ("conv_2d_mve", "fully_connected_mve"))
    stem = ("depthwise_conv_2d" if depthwise else "conv_2d") + ("_dsp" if ptr.dsp else "")
    # A DSP build names the general and the quick file whichever it calls (the op's code record
    # names both; the linker keeps only the called kernel).
    kernels = (stem, f"{stem[:-4]}_quick_dsp") if ptr.dsp and not ptr.mve else (stem,)
    if ptr.dsp:
        quick = quick_conv(ctx, p, ptr, mult, shift, _folded_bias(ctx, -x.zero_point, 0), (pad_h, pad_w))
        if quick is not None:  # its own tables (the shifts as right shifts less one) and block
            return OpCode(quick.decls, quick.call, kernels, quick.needs)
    filt = ptr(i[1]) if depthwise else _filter(ctx, p, ptr, x.shape[3] // w.shape[3])
    scratch = f", {ptr.scratch(ctx.op)}" if ptr.dsp and not depthwise else ""
    call = f"ec_{stem}_s8(&{p}, {ptr(i[0])}, {filt}, {_bias(ctx, ptr)}, {ptr(ctx.op.outputs[0])}{scratch});"
    return OpCode(decls, call, kernels)


def fully_connected(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """FULLY_CONNECTED; int16: 16x8."""
    if ctx.req_input(0).dtype == "int16":
        return fully_connected_s16(ctx, p, ptr)
    require_int8(ctx, 0, 1)
    x, w, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    _, w_q, _ = _quantized(ctx, x, w, y)
    units, depth = w.shape
    # The runtime's multipliers are the TFLM arithmetic (a double product of the scales, per
    # channel or one broadcast); per tensor the filter's zero point counts, per channel not.
    mult, shift = fc_multipliers(ctx)
    filter_offset = 0 if w_q.per_channel else -w.zero_point
    # A DSP build names the FC file and the quick convolution's whichever it calls (as conv)
    kernels = ("fully_connected_dsp", "conv_2d_quick_dsp") if ptr.dsp and not ptr.mve else ()
    if kernels and quick_fully_connected(ctx):  # as the quick 1x1 convolution, linked anyway
        quick = quick_fc(ctx, p, ptr, mult, shift, _folded_bias(ctx, -x.zero_point, 0))
        if quick is not None:
            return OpCode(quick.decls, quick.call, kernels, quick.needs)
    lo, hi = activation_range(ctx)
    tables, per_channel = unit_requant_tables(p, mult, shift)
    decls = tables + (
        f"static const ec_fc_params {p} = {{\n"
        f"  .rows = {x.size // depth}, .depth = {depth}, .units = {units},\n"
        f"  .input_offset = {-x.zero_point}, .filter_offset = {filter_offset}, "
        f".output_offset = {y.zero_point}, .act_min = {lo}, .act_max = {hi},\n"
        f"  .multiplier = {p}_multiplier, .shift = {p}_shift, .per_channel = {per_channel},\n}};\n"
    )
    i = ctx.op.inputs
    if ptr.mve:
        bias = ptr.const_array(f"{p}_folded_bias", "int32_t", _folded_bias(ctx, -x.zero_point, filter_offset),
                               f"{p}: bias + input offset x filter row sums (ec_fully_connected_mve.c)")
        call = f"ec_fully_connected_mve_s8(&{p}, {ptr(i[0])}, {ptr(i[1])}, {bias}, {ptr(ctx.op.outputs[0])});"
        return OpCode(decls, call, ("fully_connected_mve",))
    stem = "fully_connected_dsp" if ptr.dsp else "fully_connected"
    scratch = ptr.scratch(ctx.op) if ptr.dsp else "NULL"
    # the DSP file's two entry points: SMLAD operands in the scratch, or without it (long rows, a
    # filter zero point); the linker keeps only the one called
    entry = stem if scratch != "NULL" or not ptr.dsp else f"{stem}_direct"
    tail = f", {scratch}" if scratch != "NULL" else ""
    call = (f"ec_{entry}_s8(&{p}, {ptr(i[0])}, {_filter(ctx, p, ptr)}, {_bias(ctx, ptr)}, "
            f"{ptr(ctx.op.outputs[0])}{tail});")
    return OpCode(decls, call, kernels or (stem,))


def depthwise_vectors(w: np.ndarray) -> np.ndarray:
    """A (1, kh, kw, channels) depthwise filter (kh, kw <= 4) as 16 bytes per channel, byte
    ``4 kx + ky`` the tap (ky, kx) and the others 0 (``ec_depthwise_conv_2d_mve_rows_s8``)."""
    _, kh, kw, channels = w.shape
    out = np.zeros((channels, 4, 4), np.int8)
    out[:, :kw, :kh] = np.transpose(w[0], (2, 1, 0))
    return out.reshape(-1)


def _folded_bias(ctx: OpContext, input_offset: int, filter_offset: int,
                 depthwise: bool = False) -> np.ndarray:
    """What the MVE kernels add to each output channel's dot product: bias + input_offset *
    (sum of the channel's filter) + depth * filter_offset * input_offset, wrapped to int32 like
    TFLM's accumulator (the remaining term, filter_offset * sum of the input, is per input row)."""
    w = ctx.const(1).astype(np.int64)
    w = w.reshape(-1, w.shape[-1]).T if depthwise else w.reshape(w.shape[0], -1)  # channel x taps
    units, depth = w.shape
    bias = ctx.const(2).astype(np.int64) if ctx.input(2) is not None else np.zeros(units, np.int64)
    folded = bias + input_offset * w.sum(axis=1) + depth * filter_offset * input_offset
    return ((folded + 2**31) % 2**32 - 2**31).astype(np.int32)


def pool(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """AVERAGE_POOL_2D and MAX_POOL_2D."""
    if ctx.req_input(0).dtype == "int16":
        return pool_s16(ctx, p, ptr)
    require_int8(ctx, 0)
    x, y = ctx.req_input(0), ctx.output(0)
    fh, fw = pool_filter(ctx)
    _, _, pad_h, pad_w = window_geometry(ctx, x.shape[1], x.shape[2], fh, fw, dilated=False)
    lo, hi = activation_range(ctx)
    src, dst = ptr(ctx.op.inputs[0]), ptr(ctx.op.outputs[0])
    n, h, w, c = x.shape
    if (ctx.op.type == "AVERAGE_POOL_2D" and not ptr.mve and (n, fh, fw, pad_h, pad_w) == (1, h, w, 0, 0)
            and c % 4 == 0 and h * w <= 255):  # the whole image: the small entry, no parameter block
        return OpCode("", f"ec_global_average_pool_s8({src}, {dst}, {h * w}, {c}, {lo}, {hi});", ("pooling",))
    a = ctx.attrs
    decls = (
        f"static const ec_pool_params {p} = {{\n"
        f"  .input = {_dims(x.shape)}, .output = {_dims(y.shape)},\n"
        f"  .filter_h = {fh}, .filter_w = {fw}, .stride_h = {a.get('stride_h', 1)}, "
        f".stride_w = {a.get('stride_w', 1)}, .pad_h = {pad_h}, .pad_w = {pad_w},\n"
        f"  .act_min = {lo}, .act_max = {hi},\n}};\n"
    )
    mve = "_mve" if ptr.mve else ""
    if ctx.op.type == "AVERAGE_POOL_2D":
        call = f"if (ec_average_pool{mve}_s8(&{p}, {src}, {dst}) != 0) return -1;"
    else:
        call = f"ec_max_pool{mve}_s8(&{p}, {src}, {dst});"
    return OpCode(decls, call, ("pooling" + mve,))


def softmax(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    if ctx.req_input(0).dtype == "int16":
        return softmax_s16(ctx, p, ptr)
    x, y = ctx.req_input(0), ctx.output(0)
    if x.dtype != "int8" or y.dtype != "int16":  # int8 -> int16: TFLM's other quantized softmax
        require_int8(ctx, 0)
    check_output(y.dtype, y.scale, y.zero_point)
    beta = float(np.float32(ctx.attrs.get("beta", 1.0)))
    multiplier, left_shift, diff_min = input_params(beta, x.scale)
    depth = x.shape[-1]
    decls = (
        f"static const ec_softmax_params {p} = {{\n"
        f"  .rows = {x.size // depth}, .depth = {depth}, .input_multiplier = {multiplier}, "
        f".input_left_shift = {left_shift}, .diff_min = {diff_min},\n}};\n"
    )
    kernel = "ec_softmax_s8_s16" if y.dtype == "int16" else "ec_softmax_s8"
    call = f"{kernel}(&{p}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});"
    return OpCode(decls, call, ("softmax",))


def _rescale_params(s1: float, s2: float, s_out: float, sub: bool) -> RescaleParams:
    """ADD/SUB multipliers from ``ops/add.py`` (SUB's variant computes them in float32)."""
    if "float32_math" in inspect.signature(rescale_params).parameters:
        return rescale_params(s1, s2, s_out, "int8", float32_math=sub)  # type: ignore[call-arg]
    return rescale_params(s1, s2, s_out, "int8")


def binary(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """ADD, SUB, MUL, MAXIMUM, MINIMUM and SQUARED_DIFFERENCE with broadcasting."""
    if ctx.req_input(0).dtype == "int16":
        return binary_s16(ctx, p, ptr)
    require_int8(ctx, 0, 1)
    t1, t2, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if len(y.shape) > MAX_DIMS:
        raise CodegenError(f"{ctx.op.type} supports at most {MAX_DIMS} dimensions, got {list(y.shape)}")
    out = (1,) * (MAX_DIMS - len(y.shape)) + tuple(y.shape)
    lo, hi = activation_range(ctx) if ctx.op.type not in ("MAXIMUM", "MINIMUM") else (-128, 127)
    if ctx.op.type in ("MAXIMUM", "MINIMUM"):
        fields = ".left_shift = 0,\n"
    elif ctx.op.type == "SQUARED_DIFFERENCE":
        q = sqdiff_params(t1.scale, t2.scale, y.scale, "int8")
        fields = (f".left_shift = {q.left_shift},\n"
                  f"  .input1_multiplier = {q.input1[0]}, .input1_shift = {q.input1[1]}, "
                  f".input2_multiplier = {q.input2[0]}, .input2_shift = {q.input2[1]},\n"
                  f"  .output_multiplier = {q.output[0]}, .output_shift = {q.output[1]},\n")
    elif ctx.op.type == "MUL":
        m, s = quantize_multiplier(t1.scale * t2.scale / y.scale)
        fields = f".left_shift = 0, .output_multiplier = {m}, .output_shift = {s},\n"
    else:
        r = _rescale_params(t1.scale, t2.scale, y.scale, sub=ctx.op.type == "SUB")
        fields = (f".left_shift = {r.left_shift},\n"
                  f"  .input1_multiplier = {r.input1[0]}, .input1_shift = {r.input1[1]}, "
                  f".input2_multiplier = {r.input2[0]}, .input2_shift = {r.input2[1]},\n"
                  f"  .output_multiplier = {r.output[0]}, .output_shift = {r.output[1]},\n")
    decls = (
        f"static const ec_binary_params {p} = {{\n"
        f"  .dims = {c_list(list(out))},\n"
        f"  .stride1 = {c_list(broadcast_strides(t1.shape, out))}, "
        f".stride2 = {c_list(broadcast_strides(t2.shape, out))},\n"
        f"  .input1_offset = {-t1.zero_point}, .input2_offset = {-t2.zero_point}, "
        f".output_offset = {y.zero_point}, {fields}"
        f"  .act_min = {lo}, .act_max = {hi},\n}};\n"
    )
    i = ctx.op.inputs
    if ptr.mve and ctx.op.type in ("ADD", "SUB", "MUL") and t1.shape == t2.shape == y.shape:
        call = (f"ec_{ctx.op.type.lower()}_mve_s8(&{p}, {ptr(i[0])}, {ptr(i[1])}, "
                f"{ptr(ctx.op.outputs[0])});")
        return OpCode(decls, call, ("elementwise_mve",))
    if ptr.dsp and ctx.op.type in ("ADD", "SUB"):  # the fast set tabulates each input's rescale
        values = np.arange(-128, 128, dtype=np.int64)
        tables = []
        for k, t, mult in ((1, t1, r.input1), (2, t2, r.input2)):
            table = multiply_by_quantized_multiplier_smaller_than_one(
                (values - t.zero_point) * (1 << r.left_shift), *mult)
            sign = -1 if (k == 2 and ctx.op.type == "SUB") else 1
            tables.append(ptr.const_array(f"{p}_table{k}", "int32_t", sign * table,
                                          f"{p}: input {k} rescaled, for every int8 value"))
        call = (f"ec_add_table_s8(&{p}, {tables[0]}, {tables[1]}, {ptr(i[0])}, {ptr(i[1])}, "
                f"{ptr(ctx.op.outputs[0])});")
        return OpCode(decls, call, ("add_table",))
    fn = f"ec_{ctx.op.type.lower()}_s8"
    call = f"{fn}(&{p}, {ptr(i[0])}, {ptr(i[1])}, {ptr(ctx.op.outputs[0])});"
    return OpCode(decls, call, ("elementwise",))


def _pair_params(ctx: OpContext, p: str) -> str:
    """The broadcast block of a two-input op with no arithmetic parameters (dims and strides)."""
    t1, t2, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if len(y.shape) > MAX_DIMS:
        raise CodegenError(f"{ctx.op.type} supports at most {MAX_DIMS} dimensions, got {list(y.shape)}")
    out = (1,) * (MAX_DIMS - len(y.shape)) + tuple(y.shape)
    return (
        f"static const ec_binary_params {p} = {{\n"
        f"  .dims = {c_list(list(out))},\n"
        f"  .stride1 = {c_list(broadcast_strides(t1.shape, out))}, "
        f".stride2 = {c_list(broadcast_strides(t2.shape, out))},\n}};\n"
    )


def compare(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """The int8 comparisons: each input's rescaling tabulated for all 256 values (the reference
    arithmetic of ``ops/compare.py``), broadcasting by strides; a bool (one byte) output."""
    for t in (ctx.req_input(0), ctx.req_input(1)):
        if t.dtype != "int8":
            raise CodegenError(f"{ctx.op.type} with {t.dtype} input has no C kernel (only int8)")
    decls = _pair_params(ctx, p)
    values = np.arange(-128, 128, dtype=np.int64)
    tables = [ptr.const_array(f"{p}_table{k + 1}", "int32_t", compare_rescaled(ctx, values, k),
                              f"{p}: input {k + 1} in the comparison fixed point, for every int8 value")
              for k in (0, 1)]
    i = ctx.op.inputs
    call = (f"ec_compare_s8(&{p}, {COMPARISONS.index(ctx.op.type)}, {tables[0]}, {tables[1]}, "
            f"{ptr(i[0])}, {ptr(i[1])}, {ptr(ctx.op.outputs[0])});")
    return OpCode(decls, call, ("compare",))


def logical(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """LOGICAL_AND and LOGICAL_OR on bool bytes (broadcasting); LOGICAL_NOT as an inline loop."""
    i, out = ctx.op.inputs, ctx.op.outputs[0]
    if ctx.op.type == "LOGICAL_NOT":
        n = ctx.output(0).size
        return OpCode("", f"for (int32_t k = 0; k < {n}; ++k) {ptr(out)}[k] = (uint8_t)!{ptr(i[0])}[k];", ())
    code = 0 if ctx.op.type == "LOGICAL_AND" else 1
    return OpCode(_pair_params(ctx, p), f"ec_logical_u8(&{p}, {code}, {ptr(i[0])}, {ptr(i[1])}, {ptr(out)});",
                  ("compare",))


EMITTERS: dict[str, OpEmitter] = {
    "ABS": unary_op,
    "ADD": binary,
    "ARG_MAX": arg_minmax,
    "ARG_MIN": arg_minmax,
    "BROADCAST_TO": broadcast_to,
    "CAST": cast_op,
    "SELECT_V2": select_op,
    "PRELU": prelu_op,
    "FILL": fill,
    "SHAPE": shape_op,
    "ZEROS_LIKE": zeros_like,
    "CONCATENATION": concatenation,
    "DEPTH_TO_SPACE": space_depth,
    "DEQUANTIZE": quantize_op,
    "EQUAL": compare,
    "GREATER": compare,
    "GREATER_EQUAL": compare,
    "LESS": compare,
    "LESS_EQUAL": compare,
    "LOGICAL_AND": logical,
    "LOGICAL_NOT": logical,
    "LOGICAL_OR": logical,
    "NOT_EQUAL": compare,
    "EXPAND_DIMS": copy,
    "GATHER": gather,
    "ELU": lookup_table,
    "HARD_SWISH": lookup_table,
    "LEAKY_RELU": unary_op,
    "LOGISTIC": activation,
    "MAXIMUM": binary,
    "MINIMUM": binary,
    "RELU": unary_op,
    "RELU6": unary_op,
    "STRIDED_SLICE": strided_slice,
    "TANH": activation,
    "TRANSPOSE": transpose,
    "AVERAGE_POOL_2D": pool,
    "BATCH_MATMUL": batch_matmul,
    "CONV_2D": conv,
    "DEPTHWISE_CONV_2D": conv,
    "FULLY_CONNECTED": fully_connected,
    "GATHER_ND": gather_nd,
    "MAX_POOL_2D": pool,
    "MEAN": mean,
    "MIRROR_PAD": mirror_pad,
    "MUL": binary,
    "PACK": pack,
    "PAD": pad_op,
    "PADV2": pad_op,
    "QUANTIZE": quantize_op,
    "RESHAPE": copy,
    "RESIZE_BILINEAR": resize_bilinear,
    "RESIZE_NEAREST_NEIGHBOR": resize_nearest,
    "REVERSE_V2": reverse_v2,
    "RSQRT": rsqrt,
    "SLICE": slice_op,
    "SQUEEZE": copy,
    "SOFTMAX": softmax,
    "SPACE_TO_DEPTH": space_depth,
    "SPLIT": split,
    "SPLIT_V": split,
    "SQUARED_DIFFERENCE": binary,
    "SUB": binary,
    "SUM": sum_op,
    "SVDF": svdf,
    "CUMSUM": cumsum,
    "EMBEDDING_LOOKUP": embedding_lookup,
    "DYNAMIC_UPDATE_SLICE": dynamic_update_slice,
    "ADD_N": add_n,
    "SPACE_TO_BATCH_ND": space_batch,
    "BATCH_TO_SPACE_ND": space_batch,
    "TRANSPOSE_CONV": transpose_conv,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": lstm,
    "UNPACK": unpack,
    **{name: emitter for name, (emitter, _) in SIGNAL_EMITTERS.items()},
}


#: The dtypes of input 0 an emitter writes C for, where that is not int8 alone; ``ANY_DTYPE``:
#: every dtype the op's runtime kernels take (the emitter moves bytes, whatever they hold).
#: ``edgecraft ops`` reports C support from this and :data:`EMITTERS`.
ANY_DTYPE = ("*",)
EMITTER_DTYPES: dict[OpEmitter, tuple[str, ...]] = {
    conv: ("int8", "int16"),
    arg_minmax: ("int8", "float32"),
    quantize_op: ("int8", "int16", "float32"),
    fully_connected: ("int8", "int16"),
    pool: ("int8", "int16"),
    softmax: ("int8", "int16"),
    binary: ("int8", "int16"),
    activation: ("int8", "int16"),
    unary_op: ("int8", "int16"),
    select_op: ANY_DTYPE,
    prelu_op: ("int8", "int16"),
    batch_matmul: ("int8", "int16"),
    cast_op: ("int8", "int16", "int32", "uint32", "float32", "bool"),
    pad_op: ("int8", "int16", "int32", "float32"),
    mean: ("int8", "int16"),
    sum_op: ("int8", "int16"),
    broadcast_to: ANY_DTYPE,
    concatenation: ANY_DTYPE,
    copy: ANY_DTYPE,
    resize_nearest: ANY_DTYPE,
    resize_bilinear: ("int8", "float32"),
    gather_nd: ANY_DTYPE,
    mirror_pad: ANY_DTYPE,
    gather: ANY_DTYPE,
    fill: ANY_DTYPE,
    logical: ("bool",),
    lstm: ("int8", "int16", "float32"),
    transpose_conv: ("int8", "int16", "float32"),
    svdf: ("int8", "float32"),
    cumsum: ("int8", "float32"),
    embedding_lookup: ("int8", "float32"),
    dynamic_update_slice: ANY_DTYPE,
    add_n: ("int8", "float32"),
    space_batch: ANY_DTYPE,
    pack: ANY_DTYPE,
    reverse_v2: ANY_DTYPE,
    shape_op: ANY_DTYPE,
    slice_op: ANY_DTYPE,
    space_depth: ANY_DTYPE,
    split: ANY_DTYPE,
    strided_slice: ANY_DTYPE,
    transpose: ANY_DTYPE,
    unpack: ANY_DTYPE,
    zeros_like: ANY_DTYPE,
    **{emitter: dtypes for emitter, dtypes in SIGNAL_EMITTERS.values()},
}


#: (op, input dtype) pairs the runtime runs but C does not, and why.
NO_C_REASONS = {
    ("DIV", "int8"): "TFLM's int8 DIV shifts by more than 31 bits for some inputs, which C leaves "
                     "undefined (the runtime reproduces the x86-64 result; a Cortex-M shifts differently)",
}


def c_dtypes(name: str, runtime: tuple[str, ...]) -> tuple[str, ...]:
    """The dtypes of input 0 for which ``edgecraft build`` writes C for op ``name``, given the
    dtypes its runtime kernels take (empty: the op has no C emitter)."""
    emitter = EMITTERS.get(name)
    declared = EMITTER_DTYPES.get(emitter, ("int8",)) if emitter is not None else ()
    if name in FLOAT_EMITTERS:
        declared = (*declared, "float32") if declared != ANY_DTYPE else declared
    if name in INT_EMITTERS and declared != ANY_DTYPE:
        declared = (*declared, *INT_EMITTERS[name][1])
    return tuple(d for d in runtime if declared == ANY_DTYPE or d in declared)


def emit_op(ctx: OpContext, prefix: str, ptr: Pointer) -> OpCode:
    """The C for one operator; :class:`CodegenError` naming the supported ops otherwise."""
    emitter = EMITTERS.get(ctx.op.type)
    first = ctx.input(0) if ctx.op.inputs else None
    if first is not None and first.dtype == "float32" and ctx.op.type in FLOAT_EMITTERS:
        emitter = FLOAT_EMITTERS[ctx.op.type]
    if first is not None and first.dtype in INT_EMITTERS.get(ctx.op.type, (None, ()))[1]:
        emitter = INT_EMITTERS[ctx.op.type][0]
    dtype = first.dtype if first is not None else "no"
    if (ctx.op.type, dtype) in NO_C_REASONS:
        why = NO_C_REASONS[ctx.op.type, dtype]
        raise CodegenError(f"{ctx.op.type} with {dtype} input has no C kernel: {why}")
    if emitter is None and ctx.op.type in FLOAT_EMITTERS:
        types = ", ".join(("float32", *INT_EMITTERS.get(ctx.op.type, (None, ()))[1]))
        raise CodegenError(f"{ctx.op.type} with {dtype} input has no C kernel (C: {types})")
    if emitter is None:
        supported = ", ".join(sorted({*EMITTERS, *FLOAT_EMITTERS}))
        raise CodegenError(f"no C kernel for {ctx.op.type}; `edgecraft build` supports: {supported}")
    try:
        return emitter(ctx, prefix, ptr)
    except OpError as e:
        raise CodegenError(f"{ctx.op.type}: {e}") from None
