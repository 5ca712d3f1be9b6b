"""C emitters for float32 operators (``ec_float_nn.c``, ``ec_float_math.c``).

:data:`FLOAT_EMITTERS` maps an op name to its float32 emitter; ``codegen/ops_c.py`` routes an
operator whose input 0 is float32 here before its int8/int16 row, and reports float32 C support
from this table. The geometry (windows, padding, broadcast strides, reduced axes) is computed by
the same helpers as the int8 emitters; float32 ops with int8 weights (LiteRT's hybrid kernels) have
no C kernel.
"""

from __future__ import annotations

import numpy as np

from edgecraft.codegen.cwriter import c_float, c_list
from edgecraft.codegen.opcode import MAX_DIMS, CodegenError, OpCode, OpEmitter, Pointer, broadcast_strides
from edgecraft.codegen.ops_c_matmul import _batch_offsets  # the int8 emitter's batch walk
from edgecraft.ops.arg_max import reduced_axis
from edgecraft.ops.base import OpContext
from edgecraft.ops.batch_matmul import matrices as bmm_matrices
from edgecraft.ops.compare import COMPARISONS
from edgecraft.ops.conv_common import pool_filter, window_geometry
from edgecraft.ops.mean import axes as mean_axes
from edgecraft.ops.quant import float_activation_range

#: The unary kinds of ``ec_unary_f32`` (``EC_F_*`` in ``ec_kernels.h``), in their order.
UNARY = ("ABS", "NEG", "SQUARE", "SQRT", "RSQRT", "EXP", "LOG", "SIN", "COS", "CEIL", "FLOOR", "RELU",
         "RELU6", "TANH", "LOGISTIC", "ELU", "HARD_SWISH", "LEAKY_RELU", "ROUND")
#: The two-input kinds of ``ec_binary_f32``.
BINARY = {"ADD": "EC_ADD", "SUB": "EC_SUB", "MUL": "EC_MUL", "MAXIMUM": "EC_MAX", "MINIMUM": "EC_MIN",
          "SQUARED_DIFFERENCE": "EC_SQDIFF", "DIV": "EC_F_DIV", "FLOOR_DIV": "EC_F_FLOOR_DIV",
          "FLOOR_MOD": "EC_F_FLOOR_MOD", "PRELU": "EC_F_PRELU"}
REDUCE = {"MEAN": "EC_REDUCE_MEAN", "SUM": "EC_REDUCE_SUM", "REDUCE_MAX": "EC_REDUCE_MAX",
          "REDUCE_MIN": "EC_REDUCE_MIN"}


def _clamp(ctx: OpContext) -> str:
    lo, hi = float_activation_range(str(ctx.attrs.get("fused_activation_function", "NONE")))
    return f"{c_float(lo)}, {c_float(hi)}"


def _all_float(ctx: OpContext, *inputs: int) -> None:
    for i in inputs:
        t = ctx.req_input(i)
        if t.dtype != "float32":
            raise CodegenError(f"{ctx.op.type} with float32 input and {t.dtype} input {i} "
                               "(LiteRT's hybrid kernel) has no C kernel")


def _dims(shape: tuple[int, ...]) -> str:
    return c_list(list(shape))


def _bias(ctx: OpContext, ptr: Pointer) -> str:
    if ctx.input(2) is None:
        return "NULL"
    _all_float(ctx, 2)
    return ptr(ctx.op.inputs[2])


def conv(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """CONV_2D (grouped too) and DEPTHWISE_CONV_2D."""
    _all_float(ctx, 0, 1)
    x, w, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    _, kh, kw, _ = w.shape
    _, _, pad_h, pad_w = window_geometry(ctx, x.shape[1], x.shape[2], kh, kw)
    depthwise = ctx.op.type == "DEPTHWISE_CONV_2D"
    a = ctx.attrs
    decls = (
        f"static const ec_conv_params {p} = {{\n"
        f"  .input = {_dims(x.shape)}, .filter = {_dims(w.shape)}, .output = {_dims(y.shape)},\n"
        f"  .stride_h = {a.get('stride_h', 1)}, .stride_w = {a.get('stride_w', 1)}, "
        f".dilation_h = {a.get('dilation_h_factor', 1)}, .dilation_w = {a.get('dilation_w_factor', 1)}, "
        f".pad_h = {pad_h}, .pad_w = {pad_w},\n"
        f"  .depth_multiplier = {y.shape[3] // x.shape[3] if depthwise else 1},\n}};\n"
    )
    stem = "depthwise_conv_2d" if depthwise else "conv_2d"
    i = ctx.op.inputs
    call = (f"ec_{stem}_f32(&{p}, {_clamp(ctx)}, {ptr(i[0])}, {ptr(i[1])}, {_bias(ctx, ptr)}, "
            f"{ptr(ctx.op.outputs[0])});")
    return OpCode(decls, call, ("float_nn",))


def fully_connected(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """FULLY_CONNECTED: rows of the input against each unit's weights."""
    _all_float(ctx, 0, 1)
    x, w = ctx.req_input(0), ctx.req_input(1)
    units, depth = w.shape
    decls = (f"static const ec_fc_params {p} = {{\n"
             f"  .rows = {x.size // depth}, .depth = {depth}, .units = {units},\n}};\n")
    i = ctx.op.inputs
    call = (f"ec_fully_connected_f32(&{p}, {_clamp(ctx)}, {ptr(i[0])}, {ptr(i[1])}, {_bias(ctx, ptr)}, "
            f"{ptr(ctx.op.outputs[0])});")
    return OpCode(decls, call, ("float_nn",))


def pool(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """AVERAGE_POOL_2D (over the taps inside the image), MAX_POOL_2D and L2_POOL_2D."""
    x, y = ctx.req_input(0), ctx.output(0)
    fh, fw = pool_filter(ctx)
    _, _, pad_h, pad_w = window_geometry(ctx, x.shape[1], x.shape[2], fh, fw, dilated=False)
    a = ctx.attrs
    decls = (
        f"static const ec_pool_params {p} = {{\n"
        f"  .input = {_dims(x.shape)}, .output = {_dims(y.shape)},\n"
        f"  .filter_h = {fh}, .filter_w = {fw}, .stride_h = {a.get('stride_h', 1)}, "
        f".stride_w = {a.get('stride_w', 1)}, .pad_h = {pad_h}, .pad_w = {pad_w},\n}};\n"
    )
    kind = {"AVERAGE_POOL_2D": 0, "MAX_POOL_2D": 1, "L2_POOL_2D": 2}[ctx.op.type]
    call = f"ec_pool_f32(&{p}, {kind}, {_clamp(ctx)}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});"
    return OpCode(decls, call, ("float_nn",))


def softmax(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """SOFTMAX along the last axis, with the op's beta."""
    x = ctx.req_input(0)
    depth = x.shape[-1] if x.shape else 1
    beta = c_float(float(np.float32(ctx.attrs.get("beta", 1.0))))
    call = (f"ec_softmax_f32({x.size // depth}, {depth}, {beta}, {ptr(ctx.op.inputs[0])}, "
            f"{ptr(ctx.op.outputs[0])});")
    return OpCode("", call, ("float_nn",))


def reduce(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """MEAN, SUM, REDUCE_MAX and REDUCE_MIN over constant axes (the int8 MEAN's index blocks)."""
    call = f"ec_reduce_f32(&{p}, {REDUCE[ctx.op.type]}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});"
    return OpCode(reduce_params(ctx, p), call, ("float_nn",))


def reduce_params(ctx: OpContext, p: str) -> str:
    """The ``ec_mean_params`` index block of a reduction over constant axes (input 1)."""
    x, y = ctx.req_input(0), ctx.output(0)
    rank = len(x.shape)
    if rank > MAX_DIMS:
        raise CodegenError(f"{ctx.op.type} supports at most {MAX_DIMS} dimensions, got {list(x.shape)}")
    red = sorted(mean_axes(ctx))
    kept = [d for d in range(rank) if d not in red]
    strides = [int(np.prod(x.shape[d + 1:], dtype=np.int64)) for d in range(rank)]
    count = int(np.prod([x.shape[d] for d in red], dtype=np.int64))

    def padded(values: list[int]) -> str:
        return c_list((values + [1] * MAX_DIMS)[:MAX_DIMS])

    return (
        f"static const ec_mean_params {p} = {{\n"
        f"  .out_count = {y.size}, .count = {count},\n"
        f"  .kept_dims = {padded([x.shape[d] for d in kept])}, "
        f".kept_strides = {padded([strides[d] for d in kept])}, .n_kept = {len(kept)},\n"
        f"  .red_dims = {padded([x.shape[d] for d in red])}, "
        f".red_strides = {padded([strides[d] for d in red])}, .n_red = {len(red)},\n}};\n"
    )


def unary(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """ABS .. ROUND: one C library call or expression per element (LEAKY_RELU's alpha passed)."""
    kind = f"EC_F_{ctx.op.type}"
    alpha = c_float(float(np.float32(ctx.attrs.get("alpha", 0.2)))) if ctx.op.type == "LEAKY_RELU" else "0.0f"
    call = (f"ec_unary_f32({ctx.output(0).size}, {kind}, {alpha}, {ptr(ctx.op.inputs[0])}, "
            f"{ptr(ctx.op.outputs[0])});")
    return OpCode("", call, ("float_math",))


def batch_matmul(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """BATCH_MATMUL (adj_x, adj_y, broadcast batches): one ``ec_matmul_f32`` call per batch."""
    _all_float(ctx, 0, 1)
    lhs, rhs = ctx.req_input(0), ctx.req_input(1)
    batch, n_rows, depth, cols = bmm_matrices(ctx)
    adj = f"{int(bool(ctx.attrs.get('adj_x', False)))}, {int(bool(ctx.attrs.get('adj_y', False)))}"
    a, b, out = ptr(ctx.op.inputs[0]), ptr(ctx.op.inputs[1]), ptr(ctx.op.outputs[0])
    pairs = zip(_batch_offsets(lhs.shape, batch, n_rows * depth),
                _batch_offsets(rhs.shape, batch, depth * cols), strict=True)
    calls = [f"ec_matmul_f32({n_rows}, {depth}, {cols}, {adj}, {a} + {lo}, {b} + {ro}, "
             f"{out} + {n * n_rows * cols});" for n, (lo, ro) in enumerate(pairs)]
    return OpCode("", "\n  ".join(calls), ("float_nn",))


def rows(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """LOG_SOFTMAX and L2_NORMALIZATION along the last axis."""
    x = ctx.req_input(0)
    depth = x.shape[-1] if x.shape else 1
    kind = 0 if ctx.op.type == "LOG_SOFTMAX" else 1
    call = (f"ec_rows_f32({x.size // max(depth, 1)}, {depth}, {kind}, {ptr(ctx.op.inputs[0])}, "
            f"{ptr(ctx.op.outputs[0])});")
    return OpCode("", call, ("float_nn",))


def arg_minmax(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """ARG_MAX and ARG_MIN of float32 or int8 input over a constant axis, int32 output (a row of
    ``codegen/ops_c.py``'s table: it takes int8 too)."""
    x, axis_t, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if x.dtype not in ("float32", "int8"):
        raise CodegenError(f"{ctx.op.type} with {x.dtype} input has no C kernel")
    if y.dtype != "int32":
        raise CodegenError(f"{ctx.op.type} with {y.dtype} output has no C kernel (int32 only)")
    if axis_t.data is None:
        raise CodegenError(f"{ctx.op.type} has a C kernel for a constant axis only")
    axis = reduced_axis(ctx)
    outer = int(np.prod(x.shape[:axis], dtype=np.int64))
    inner = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
    call = (f"ec_arg_minmax({outer}, {x.shape[axis]}, {inner}, {int(ctx.op.type == 'ARG_MAX')}, "
            f"{int(x.dtype == 'int8')}, {ptr(ctx.op.inputs[0])}, {ptr(ctx.op.outputs[0])});")
    return OpCode("", call, ("float_nn",))


def pair_params(ctx: OpContext, p: str) -> str:
    """The broadcast block (dims and strides) of a two-input op."""
    t1, t2, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if len(y.shape) > MAX_DIMS:
        raise CodegenError(f"{ctx.op.type} supports at most {MAX_DIMS} dimensions, got {list(y.shape)}")
    out = (1,) * (MAX_DIMS - len(y.shape)) + tuple(y.shape)
    return (f"static const ec_binary_params {p} = {{\n  .dims = {c_list(list(out))},\n"
            f"  .stride1 = {c_list(broadcast_strides(t1.shape, out))}, "
            f".stride2 = {c_list(broadcast_strides(t2.shape, out))},\n}};\n")


def binary(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE, FLOOR_DIV, FLOOR_MOD with
    broadcasting, then the fused activation's clamp."""
    _all_float(ctx, 0, 1)
    i = ctx.op.inputs
    call = (f"ec_binary_f32(&{p}, {BINARY[ctx.op.type]}, {_clamp(ctx)}, {ptr(i[0])}, {ptr(i[1])}, "
            f"{ptr(ctx.op.outputs[0])});")
    return OpCode(pair_params(ctx, p), call, ("float_math",))


def compare(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """EQUAL .. GREATER_EQUAL with broadcasting; a bool byte out."""
    _all_float(ctx, 0, 1)
    i = ctx.op.inputs
    call = (f"ec_compare_f32(&{p}, {COMPARISONS.index(ctx.op.type)}, {ptr(i[0])}, {ptr(i[1])}, "
            f"{ptr(ctx.op.outputs[0])});")
    return OpCode(pair_params(ctx, p), call, ("float_math",))


FLOAT_EMITTERS: dict[str, OpEmitter] = {
    "CONV_2D": conv,
    "DEPTHWISE_CONV_2D": conv,
    "FULLY_CONNECTED": fully_connected,
    "AVERAGE_POOL_2D": pool,
    "MAX_POOL_2D": pool,
    "L2_POOL_2D": pool,
    "LOG_SOFTMAX": rows,
    "L2_NORMALIZATION": rows,
    "SOFTMAX": softmax,
    "BATCH_MATMUL": batch_matmul,
    **{name: reduce for name in REDUCE},
    **{name: unary for name in UNARY},
    **{name: binary for name in BINARY},
    **{name: compare for name in COMPARISONS},
}
