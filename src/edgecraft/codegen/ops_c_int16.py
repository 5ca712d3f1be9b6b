"""C emitters for int16 tensors: the 16x8 scheme (int16 activations, int8 weights, int32 or
int64 bias) and TFLM's other int16 kernels. Each reads its operator with the same helpers as
the reference kernel in ``ops/`` (multipliers, clamps, accumulator width) and calls a kernel in
``codegen/kernels/ec_*_s16.c``. The int8 emitters in ``ops_c.py`` hand int16 operators here."""

from __future__ import annotations

import numpy as np

from edgecraft.codegen.cwriter import c_list, c_type, requant_tables, unit_requant_tables
from edgecraft.codegen.opcode import MAX_DIMS, CodegenError, OpCode, Pointer, broadcast_strides
from edgecraft.codegen.ops_c_data import _copy_block as copy_block
from edgecraft.codegen.ops_c_data import lookup_table, quantize
from edgecraft.codegen.ops_c_data import pad as pad_int8
from edgecraft.ir.graph import Tensor
from edgecraft.ops.add import RescaleParams, rescale_params
from edgecraft.ops.arith import SIGMOID_TABLE_UINT16, conv_multipliers, quantize_multiplier, round_half_away
from edgecraft.ops.base import OpContext, OpError
from edgecraft.ops.conv_common import (
    activation_range,
    check_16x8,
    int32_accumulators,
    pool_filter,
    window_geometry,
)
from edgecraft.ops.fully_connected import multipliers as fc_multipliers
from edgecraft.ops.logistic import int16_lut_params
from edgecraft.ops.lut16 import softmax_luts
from edgecraft.ops.pad import pad_value, paddings
from edgecraft.ops.prelu import _params as prelu_params
from edgecraft.ops.quant import dtype_range
from edgecraft.ops.registry import get_op
from edgecraft.ops.softmax import int16_params as softmax_int16_params
from edgecraft.ops.squared_difference import Params as SqDiffParams
from edgecraft.ops.squared_difference import params as sqdiff_params


def require_int16(ctx: OpContext, *inputs: int) -> None:
    """:class:`CodegenError` unless the given inputs and output 0 are int16."""
    for t in [ctx.req_input(i) for i in inputs] + [ctx.output(0)]:
        if t.dtype != "int16":
            raise CodegenError(f"{ctx.op.type} with a {t.dtype} tensor {t.name!r} has no int16 C kernel")


def _bias(ctx: OpContext, ptr: Pointer) -> str:
    return ptr(ctx.op.inputs[2]) if ctx.input(2) is not None else "NULL"


def conv_s16(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """CONV_2D and DEPTHWISE_CONV_2D 16x8: TFLM's int16 kernels use no zero points, so the
    offsets are 0; the bias type picks int32 or int64 accumulators."""
    depthwise = ctx.op.type == "DEPTHWISE_CONV_2D"
    check_16x8(ctx, int64_bias_only=depthwise)
    require_int16(ctx, 0)
    x, w, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if w.quant is None or x.quant is None or y.quant is None:
        raise OpError(f"{ctx.op.type} int16 tensors need quantization parameters")
    _, kh, kw, _ = w.shape
    out_h, out_w, pad_h, pad_w = window_geometry(ctx, x.shape[1], x.shape[2], kh, kw)
    if (out_h, out_w) != tuple(y.shape[1:3]):
        raise OpError(f"output shape {list(y.shape)} does not match the window geometry ({out_h}, {out_w})")
    out_c = y.shape[3]
    mult, shift = conv_multipliers(x.scale, w.quant.scale, y.scale, out_c)
    lo, hi = activation_range(ctx)
    a = ctx.attrs
    decls = requant_tables(p, mult, shift) + (
        f"static const ec_conv_params {p} = {{\n"
        f"  .input = {c_list(list(x.shape))}, .filter = {c_list(list(w.shape))}, "
        f".output = {c_list(list(y.shape))},\n"
        f"  .stride_h = {a.get('stride_h', 1)}, .stride_w = {a.get('stride_w', 1)}, "
        f".dilation_h = {a.get('dilation_h_factor', 1)}, .dilation_w = {a.get('dilation_w_factor', 1)}, "
        f".pad_h = {pad_h}, .pad_w = {pad_w},\n"
        f"  .depth_multiplier = {out_c // x.shape[3] if depthwise else 1},\n"
        f"  .input_offset = 0, .output_offset = 0, .act_min = {lo}, .act_max = {hi},\n"
        f"  .multiplier = {p}_multiplier, .shift = {p}_shift,\n}};\n"
    )
    i, out = ctx.op.inputs, ptr(ctx.op.outputs[0])
    if depthwise:
        call = f"ec_depthwise_conv_2d_s16(&{p}, {ptr(i[0])}, {ptr(i[1])}, {_bias(ctx, ptr)}, {out});"
    else:
        acc32 = int(int32_accumulators(ctx))
        call = f"ec_conv_2d_s16(&{p}, {ptr(i[0])}, {ptr(i[1])}, {_bias(ctx, ptr)}, {acc32}, {out});"
    return OpCode(decls, call, ("conv_s16",))


def fully_connected_s16(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """FULLY_CONNECTED 16x8: the zero points count (per tensor, the filter's too)."""
    check_16x8(ctx)
    require_int16(ctx, 0)
    x, w, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if w.quant is None or x.quant is None or y.quant is None:
        raise OpError("FULLY_CONNECTED int16 tensors need quantization parameters")
    units, depth = w.shape
    mult, shift = fc_multipliers(ctx)
    filter_offset = 0 if w.quant.per_channel else -w.zero_point
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
    acc32 = int(int32_accumulators(ctx))
    call = (f"ec_fully_connected_s16(&{p}, {ptr(i[0])}, {ptr(i[1])}, {_bias(ctx, ptr)}, {acc32}, "
            f"{ptr(ctx.op.outputs[0])});")
    return OpCode(decls, call, ("conv_s16",))


def _convert_block(p: str, x: Tensor, y: Tensor, multiplier: int = 0, shift: int = 0) -> str:
    """The ``ec_convert_params`` of a QUANTIZE or DEQUANTIZE from ``x`` to ``y``."""
    lo, hi = dtype_range(y.dtype) if y.dtype != "float32" else (0, 0)
    scale = float(np.float32(y.scale)) if y.quant is not None else 1.0
    real = float(np.float32(x.scale)) if x.quant is not None else 1.0
    return (f"static const ec_convert_params {p} = {{\n"
            f"  .size = {x.size}, .in_bytes = {x.np_dtype.itemsize}, .out_bytes = {y.np_dtype.itemsize},\n"
            f"  .input_offset = {-x.zero_point if x.quant is not None else 0}, "
            f".output_offset = {y.zero_point if y.quant is not None else 0}, "
            f".multiplier = {multiplier}, .shift = {shift}, .out_min = {lo}, .out_max = {hi},\n"
            f"  .scale = {scale!r}f, .real_scale = {real!r},\n}};\n")


def convert(ctx: OpContext, p: str, ptr: Pointer) -> OpCode | None:
    """QUANTIZE (float32 or int8/int16/int32 to int8/int16/int32) and DEQUANTIZE (int16 to
    float32) with the arithmetic of ``ops/quantize.py`` and ``ops/dequantize.py``; None for
    the int8-only cases the table kernels cover (int8 -> int8, int8 -> float32)."""
    x, y = ctx.req_input(0), ctx.output(0)
    if x.dtype == "int8" and y.dtype in ("int8", "float32"):
        return None
    i, o = ptr(ctx.op.inputs[0]), ptr(ctx.op.outputs[0])
    if ctx.op.type == "DEQUANTIZE":
        if x.dtype not in _INTS or x.quant is None or x.quant.per_channel:
            raise CodegenError(f"DEQUANTIZE of a {x.dtype} tensor {x.name!r} has no C kernel "
                               "(int8/int16, one scale)")
        return OpCode(_convert_block(p, x, y), f"ec_dequantize(&{p}, {i}, {o});", ("convert",))
    get_op("QUANTIZE").shape(ctx)  # the output's type and quantization, checked as the runtime does
    if y.dtype not in _INTS:
        raise CodegenError(f"QUANTIZE to {y.dtype} has no C kernel (int8, int16, int32)")
    if x.dtype == "float32":
        return OpCode(_convert_block(p, x, y), f"ec_quantize_f32(&{p}, {i}, {o});", ("convert",))
    if x.dtype not in _INTS or x.quant is None:
        raise CodegenError(f"QUANTIZE from {x.dtype} has no C kernel (float32, int8, int16, int32)")
    m, s = quantize_multiplier(x.scale / y.scale)
    return OpCode(_convert_block(p, x, y, m, s), f"ec_requantize(&{p}, {i}, {o});", ("convert",))


_INTS = ("int8", "int16", "int32")


def binary_s16(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """ADD, SUB, MUL, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE int16 (broadcasting): the
    multipliers of the ops' int16 reference kernels, TFLM's zero-point checks included."""
    require_int16(ctx, 0, 1)
    get_op(ctx.op.type).kernel_for(ctx)  # the op has an int16 kernel
    t1, t2, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if len(y.shape) > MAX_DIMS:
        raise CodegenError(f"{ctx.op.type} supports at most {MAX_DIMS} dimensions, got {list(y.shape)}")
    op = ctx.op.type
    if op in ("MAXIMUM", "MINIMUM"):
        lo, hi = dtype_range("int16")
        fields = ".left_shift = 0,\n"
    else:
        if t1.quant is None or t2.quant is None or y.quant is None:
            raise OpError(f"{op} int16 tensors need quantization parameters")
        lo, hi = (activation_range(ctx) if op != "SQUARED_DIFFERENCE" else dtype_range("int16"))
        if op == "MUL":
            if (t1.zero_point, t2.zero_point, y.zero_point) != (0, 0, 0):
                raise OpError("int16 MUL needs zero points of 0 on both inputs and the output")
            m, s = quantize_multiplier(t1.scale * t2.scale / y.scale)
            fields = f".left_shift = 0, .output_multiplier = {m}, .output_shift = {s},\n"
        else:
            r: SqDiffParams | RescaleParams
            if op == "SQUARED_DIFFERENCE":
                if (t1.zero_point, t2.zero_point, y.zero_point) != (0, 0, 0):
                    raise OpError("int16 SQUARED_DIFFERENCE needs zero points of 0 (TFLM)")
                r = sqdiff_params(t1.scale, t2.scale, y.scale, "int16")
            else:
                r = rescale_params(t1.scale, t2.scale, y.scale, "int16")
            fields = (f".left_shift = {r.left_shift},\n"
                      f"  .input1_multiplier = {r.input1[0]}, .input1_shift = {r.input1[1]}, "
                      f".input2_multiplier = {r.input2[0]}, .input2_shift = {r.input2[1]},\n"
                      f"  .output_multiplier = {r.output[0]}, .output_shift = {r.output[1]},\n")
    zp = [t.zero_point if t.quant is not None else 0 for t in (t1, t2, y)]
    out = (1,) * (MAX_DIMS - len(y.shape)) + tuple(y.shape)
    decls = (
        f"static const ec_binary_params {p} = {{\n"
        f"  .dims = {c_list(list(out))},\n"
        f"  .stride1 = {c_list(broadcast_strides(t1.shape, out))}, "
        f".stride2 = {c_list(broadcast_strides(t2.shape, out))},\n"
        f"  .input1_offset = {-zp[0]}, .input2_offset = {-zp[1]}, .output_offset = {zp[2]}, {fields}"
        f"  .act_min = {lo}, .act_max = {hi},\n}};\n"
    )
    i = ctx.op.inputs
    call = f"ec_binary_s16(&{p}, EC_{op}, {ptr(i[0])}, {ptr(i[1])}, {ptr(ctx.op.outputs[0])});"
    return OpCode(decls, call, ("elementwise_s16",))


def pool_s16(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """AVERAGE_POOL_2D and MAX_POOL_2D int16 (input and output share the quantization)."""
    require_int16(ctx, 0)
    x, y = ctx.req_input(0), ctx.output(0)
    fh, fw = pool_filter(ctx)
    _, _, pad_h, pad_w = window_geometry(ctx, x.shape[1], x.shape[2], fh, fw, dilated=False)
    lo, hi = activation_range(ctx)
    a = ctx.attrs
    decls = (
        f"static const ec_pool_params {p} = {{\n"
        f"  .input = {c_list(list(x.shape))}, .output = {c_list(list(y.shape))},\n"
        f"  .filter_h = {fh}, .filter_w = {fw}, .stride_h = {a.get('stride_h', 1)}, "
        f".stride_w = {a.get('stride_w', 1)}, .pad_h = {pad_h}, .pad_w = {pad_w},\n"
        f"  .act_min = {lo}, .act_max = {hi},\n}};\n"
    )
    kind = 0 if ctx.op.type == "AVERAGE_POOL_2D" else 1
    src, dst = ptr(ctx.op.inputs[0]), ptr(ctx.op.outputs[0])
    call = f"if (ec_pool_s16(&{p}, {kind}, {src}, {dst}) != 0) return -1;"
    return OpCode(decls, call, ("pooling_s16",))


def softmax_s16(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SOFTMAX int16 -> int16 with TFLM's two interpolated tables (``ops/lut16.py``)."""
    require_int16(ctx, 0)
    multiplier, shift = softmax_int16_params(ctx)
    exp_lut, recip_lut = softmax_luts()
    x = ctx.req_input(0)
    depth = x.shape[-1]
    exp_name = ptr.const_array(f"{p}_exp", "int16_t", exp_lut, "SOFTMAX int16: TFLM's exp table")
    recip_name = ptr.const_array(f"{p}_recip", "int16_t", recip_lut,
                                 "SOFTMAX int16: TFLM's 1 / (1 + x) table")
    decls = (
        f"static const ec_softmax16_params {p} = {{\n"
        f"  .rows = {x.size // depth}, .depth = {depth}, .input_multiplier = {multiplier}, "
        f".input_shift = {shift},\n  .exp_lut = {exp_name}, .recip_lut = {recip_name},\n}};\n"
    )
    call = f"ec_softmax_s16(&{p}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});"
    return OpCode(decls, call, ("activation_s16",))


def lut_s16(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """LOGISTIC and TANH int16: the Prepare's input scaling (``ops/logistic.py``) and TFLM's
    256-entry sigmoid table."""
    require_int16(ctx, 0)
    tanh = ctx.op.type == "TANH"
    multiplier, left_shift = int16_lut_params(ctx, (0, 1) if tanh else (0,))
    if multiplier == 0:  # the kernels' power-of-two case
        multiplier, left_shift = 3 << left_shift, 0
    table = ptr.const_array(f"{p}_sigmoid", "uint16_t", SIGMOID_TABLE_UINT16,
                            "TFLM's sigmoid_table_uint16")
    fn = "ec_tanh_s16" if tanh else "ec_logistic_s16"
    x = ctx.req_input(0)
    call = (f"{fn}({x.size}, {multiplier}, {left_shift}, {table}, {ptr(ctx.op.inputs[0])}, "
            f"{ptr(ctx.op.outputs[0])});")
    return OpCode("", call, ("activation_s16",))


def quantize_op(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """QUANTIZE and DEQUANTIZE: int8 -> int8 and int8 -> float32 as before (requantize kernel,
    table), every other type pair through :func:`convert`."""
    code = convert(ctx, p, ptr)
    if code is not None:
        return code
    return quantize(ctx, p, ptr) if ctx.op.type == "QUANTIZE" else lookup_table(ctx, p, ptr)


def activation(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """LOGISTIC and TANH: int8 by table of every input, int16 by TFLM's sigmoid table."""
    return lut_s16(ctx, p, ptr) if ctx.req_input(0).dtype == "int16" else lookup_table(ctx, p, ptr)


def pad_any(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """PAD and PADV2 in int16, int32 and float32: the output filled with the pad value of the
    reference kernel (``ops/pad.py``), then the input copied into its interior."""
    x, y = ctx.req_input(0), ctx.output(0)
    if len(x.shape) > MAX_DIMS:
        raise CodegenError(f"{ctx.op.type} supports at most {MAX_DIMS} dimensions, got {list(x.shape)}")
    value = pad_value(ctx, [None, None, ctx.const(2) if ctx.input(2) is not None else None])
    ctype = c_type(y.dtype)
    literal = f"{value!r}f" if y.dtype == "float32" else str(int(value))
    before = [int(b) for b, _ in paddings(ctx)]
    out_strides = [int(np.prod(y.shape[d + 1:], dtype=np.int64)) for d in range(len(y.shape))]
    in_strides = [int(np.prod(x.shape[d + 1:], dtype=np.int64)) for d in range(len(x.shape))]
    offset = sum(b * s for b, s in zip(before, out_strides, strict=True))
    decls = copy_block(p, list(x.shape), in_strides, out_strides, y.np_dtype.itemsize)
    src, dst = ptr(ctx.op.inputs[0]), ptr(ctx.op.outputs[0])
    call = (f"for (int32_t k = 0; k < {y.size}; ++k) (({ctype} *){dst})[k] = {literal};\n"
            f"  if ({x.size} > 0) ec_copy_nd(&{p}, {src}, ({ctype} *){dst} + {offset});")
    return OpCode(decls, call, ("data_ops",))


def unary_s16(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """RELU, RELU6, LEAKY_RELU and ABS int16 with the arithmetic of their reference kernels."""
    require_int16(ctx, 0)
    get_op(ctx.op.type).kernel_for(ctx)
    x, y = ctx.req_input(0), ctx.output(0)
    if x.quant is None or y.quant is None:
        raise CodegenError(f"{ctx.op.type} int16 without quantization has no C kernel")
    if ctx.op.type in ("RELU", "ABS", "LEAKY_RELU") and (x.zero_point, y.zero_point) != (0, 0):
        raise OpError(f"int16 {ctx.op.type} needs zero points of 0 on input and output (TFLM checks it)")
    lo, hi = dtype_range("int16")
    absolute, neg_m, neg_s, sign, offset, in_offset = 0, 0, 0, 1, y.zero_point, -x.zero_point
    if ctx.op.type == "RELU":
        m, s = quantize_multiplier(x.scale / y.scale)
        neg_m, neg_s, lo = m, s, max(lo, y.zero_point)
    elif ctx.op.type == "RELU6":
        m, s, offset, in_offset = 0, 0, 0, 0  # clamps the stored values
        six = round_half_away(float(np.float32(6.0) / np.float32(x.scale))) + x.zero_point
        lo, hi = x.zero_point, min(max(six, lo), hi)
    elif ctx.op.type == "LEAKY_RELU":
        m, s = quantize_multiplier(x.scale / y.scale)
        alpha = float(np.float32(ctx.attrs.get("alpha", 0.2)))
        am, neg_s = quantize_multiplier(x.scale * alpha / y.scale)
        neg_m, sign = abs(am), int(np.sign(am))
    else:  # ABS
        absolute = 1
        ratio = np.float32(np.float32(x.scale) / np.float32(y.scale))
        m, s = quantize_multiplier(float(ratio)) if np.float32(x.scale) != np.float32(y.scale) else (0, 0)
    decls = (
        f"static const ec_unary16_params {p} = {{\n"
        f"  .size = {x.size}, .input_offset = {in_offset}, .output_offset = {offset}, "
        f".absolute = {absolute},\n"
        f"  .multiplier = {m}, .shift = {s}, .negative_multiplier = {neg_m}, .negative_shift = {neg_s}, "
        f".negative_sign = {sign},\n  .act_min = {lo}, .act_max = {hi},\n}};\n"
    )
    return OpCode(decls, f"ec_unary_s16(&{p}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});",
                  ("data_s16",))


def pad_op(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """PAD and PADV2: int8 by ``ec_pad_s8``, the other types by :func:`pad_any`."""
    return pad_int8(ctx, p, ptr) if ctx.req_input(0).dtype == "int8" else pad_any(ctx, p, ptr)


def unary_op(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """RELU, RELU6, LEAKY_RELU and ABS: int8 by table, int16 by :func:`unary_s16`."""
    return unary_s16(ctx, p, ptr) if ctx.req_input(0).dtype == "int16" else lookup_table(ctx, p, ptr)


def select_op(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SELECT_V2 in any value type: stored elements copied from x or y by the condition."""
    get_op("SELECT_V2").shape(ctx)  # the condition is bool, x and y share a type TFLM takes
    c, x, y, out = ctx.req_input(0), ctx.req_input(1), ctx.req_input(2), ctx.output(0)
    if len(out.shape) > MAX_DIMS:
        raise CodegenError(f"SELECT_V2 supports at most {MAX_DIMS} dimensions, got {list(out.shape)}")
    dims = (1,) * (MAX_DIMS - len(out.shape)) + tuple(out.shape)
    decls = (
        f"static const ec_select_params {p} = {{\n"
        f"  .dims = {c_list(list(dims))},\n"
        f"  .stride_c = {c_list(broadcast_strides(c.shape, dims))}, "
        f".stride_x = {c_list(broadcast_strides(x.shape, dims))},\n"
        f"  .stride_y = {c_list(broadcast_strides(y.shape, dims))}, "
        f".elem_size = {out.np_dtype.itemsize},\n}};\n"
    )
    i = ctx.op.inputs
    call = f"ec_select(&{p}, {ptr(i[0])}, {ptr(i[1])}, {ptr(i[2])}, {ptr(ctx.op.outputs[0])});"
    return OpCode(decls, call, ("select_cast",))


_CAST_TYPES = ("int8", "int16", "int32", "float32", "bool", "uint32")  # the order of EC_INT8 .. EC_UINT32
_CAST_TO = ("int8", "int16", "int32", "float32", "uint32")


def cast_op(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """CAST between int8, int16, int32, uint32, float32 and bool (not to bool), as C converts."""
    get_op("CAST").shape(ctx)
    x, y = ctx.req_input(0), ctx.output(0)
    if x.dtype not in _CAST_TYPES:
        raise CodegenError(f"CAST from {x.dtype} has no C kernel (the runtime has it)")
    if y.dtype not in _CAST_TO:
        raise CodegenError(f"CAST to {y.dtype} has no C kernel (C casts to {', '.join(_CAST_TO)})")
    code_in, code_out = _CAST_TYPES.index(x.dtype), _CAST_TYPES.index(y.dtype)
    call = f"ec_cast({x.size}, {code_in}, {code_out}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});"
    return OpCode("", call, ("select_cast",))


def prelu_op(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """PRELU int8 and int16 (alpha int8) with the reference kernel's multipliers."""
    get_op("PRELU").shape(ctx)
    x, a, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if x.dtype not in ("int8", "int16") or y.dtype != x.dtype:
        raise CodegenError(f"PRELU with {x.dtype} input has no C kernel (int8, int16)")
    if len(y.shape) > MAX_DIMS:
        raise CodegenError(f"PRELU supports at most {MAX_DIMS} dimensions, got {list(y.shape)}")
    (m1, s1), (m2, s2) = prelu_params(ctx)
    assert x.quant is not None and a.quant is not None and y.quant is not None  # checked by prelu_params
    lo, hi = dtype_range(y.dtype)
    dims = (1,) * (MAX_DIMS - len(y.shape)) + tuple(y.shape)
    decls = (
        f"static const ec_binary_params {p} = {{\n"
        f"  .dims = {c_list(list(dims))},\n"
        f"  .stride1 = {c_list(broadcast_strides(x.shape, dims))}, "
        f".stride2 = {c_list(broadcast_strides(a.shape, dims))},\n"
        f"  .input1_offset = {-x.zero_point}, .input2_offset = {-a.zero_point}, "
        f".output_offset = {y.zero_point},\n"
        f"  .input1_multiplier = {m1}, .input1_shift = {s1}, "
        f".output_multiplier = {m2}, .output_shift = {s2},\n"
        f"  .act_min = {lo}, .act_max = {hi},\n}};\n"
    )
    i = ctx.op.inputs
    call = (f"ec_prelu(&{p}, {x.np_dtype.itemsize}, {ptr(i[0])}, {ptr(i[1])}, "
            f"{ptr(ctx.op.outputs[0])});")
    return OpCode(decls, call, ("prelu",))
