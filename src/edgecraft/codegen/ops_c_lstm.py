"""C emitter for UNIDIRECTIONAL_SEQUENCE_LSTM (int8, int16 16x8 and float32, ``ec_lstm.c``); a
table row in ``codegen/ops_c.py``. Every multiplier comes from the op's own ``integer_params``
(TFLM's Prepare) and the sigmoid table from ``ops/arith.py``; the states are the generated
model's static state arrays, which the kernel updates in place."""

from __future__ import annotations

from edgecraft.codegen.cwriter import c_float, c_list
from edgecraft.codegen.opcode import CodegenError, OpCode, Pointer
from edgecraft.ops.arith import SIGMOID_TABLE_UINT16
from edgecraft.ops.base import OpContext
from edgecraft.ops.quant import dtype_range
from edgecraft.ops.unidirectional_sequence_lstm import (
    BIASES,
    CELL,
    HIDDEN,
    INPUT,
    INPUT_WEIGHTS,
    RECURRENT_WEIGHTS,
    integer_params,
    sizes,
)


def lstm(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """int8, int16 or float32 LSTM: one ``ec_lstm_params`` block and one kernel call; scratch
    holds one step's new hidden values."""
    x = ctx.req_input(INPUT)
    if x.dtype == "float32":
        return _lstm_f32(ctx, p, ptr)
    if x.dtype not in ("int8", "int16"):
        raise CodegenError(f"UNIDIRECTIONAL_SEQUENCE_LSTM with {x.dtype} input has no C kernel "
                           "(int8, int16 and float32 only)")
    n = sizes(ctx)
    q = integer_params(ctx)
    lo, hi = dtype_range(x.dtype)
    shift = 15 + q.cell_power - 3  # lstm_internal::Tanh's input scaling of the cell state
    tanh_mult, tanh_shift = (3, -shift) if shift < 0 else (3 << shift, 0)
    table = ptr.const_array(f"{p}_sigmoid", "uint16_t", SIGMOID_TABLE_UINT16,
                            f"{p}: TFLM's int16 sigmoid table (sigmoid(i / 24) in Q0.16)")
    ops = ctx.op.inputs

    decls = (
        f"static const ec_lstm_params {p} = {{\n"
        f"  .batch = {n.batch}, .time = {n.time}, .inputs = {n.inputs}, .state = {n.state}, "
        f".time_major = {int(n.time_major)},\n"
        f"  .x_offset = {-q.x_zp}, .h_offset = {-q.h_zp}, .w_offset = {-q.w_zp},\n"
        f"  .x_multiplier = {c_list([m for m, _ in q.x_mult])}, "
        f".x_shift = {c_list([s for _, s in q.x_mult])},\n"
        f"  .h_multiplier = {c_list([m for m, _ in q.h_mult])}, "
        f".h_shift = {c_list([s for _, s in q.h_mult])},\n"
        f"  .forget_multiplier = {q.forget_cell[0]}, .forget_shift = {q.forget_cell[1]},\n"
        f"  .input_multiplier = {q.input_cell[0]}, .input_shift = {q.input_cell[1]},\n"
        f"  .hidden_multiplier = {q.output_hidden[0]}, .hidden_shift = {q.output_hidden[1]},\n"
        f"  .hidden_zero_point = {q.h_zp}, .hidden_min = {lo}, .hidden_max = {hi},\n"
        f"  .cell_clip = {q.cell_clip if ctx.attrs.get('cell_clip', 0.0) > 0 else 0}, "
        f".tanh_multiplier = {tanh_mult}, .tanh_shift = {tanh_shift},\n"
        f"  .input_weights = {_pointers(ctx, ptr, INPUT_WEIGHTS)},\n"
        f"  .recurrent_weights = {_pointers(ctx, ptr, RECURRENT_WEIGHTS)},\n"
        f"  .bias = {_pointers(ctx, ptr, BIASES)},\n"
        f"  .sigmoid_table = {table},\n}};\n"
    )
    suffix = "s8" if x.dtype == "int8" else "s16"
    call = (f"ec_lstm_{suffix}(&{p}, {ptr(ops[INPUT])}, {ptr(ops[HIDDEN])}, {ptr(ops[CELL])}, "
            f"{ptr(ctx.op.outputs[0])}, (int16_t *){ptr.scratch(ctx.op)});")
    return OpCode(decls, call, ("lstm",))


def _pointers(ctx: OpContext, ptr: Pointer, idx: tuple[int, ...]) -> str:
    return "{" + ", ".join(ptr(ctx.op.inputs[i]) for i in idx) + "}"


def _lstm_f32(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """float32 LSTM (TFLM's float kernels: float weights, biases and states), the cell clip as a
    float; scratch holds one step's new hidden values."""
    for i in (*INPUT_WEIGHTS, *RECURRENT_WEIGHTS, *BIASES, HIDDEN, CELL):
        t = ctx.req_input(i)
        if t.dtype != "float32":
            raise CodegenError(f"UNIDIRECTIONAL_SEQUENCE_LSTM float32 needs float32 weights, biases "
                               f"and states; input {i} is {t.dtype}")
    n = sizes(ctx)
    ops = ctx.op.inputs
    decls = (
        f"static const ec_lstm_params {p} = {{\n"
        f"  .batch = {n.batch}, .time = {n.time}, .inputs = {n.inputs}, .state = {n.state}, "
        f".time_major = {int(n.time_major)},\n"
        f"  .cell_clip_f = {c_float(max(float(ctx.attrs.get('cell_clip', 0.0)), 0.0))},\n"
        f"  .input_weights = {_pointers(ctx, ptr, INPUT_WEIGHTS)},\n"
        f"  .recurrent_weights = {_pointers(ctx, ptr, RECURRENT_WEIGHTS)},\n"
        f"  .bias = {_pointers(ctx, ptr, BIASES)},\n}};\n"
    )
    call = (f"ec_lstm_f32(&{p}, {ptr(ops[INPUT])}, {ptr(ops[HIDDEN])}, {ptr(ops[CELL])}, "
            f"{ptr(ctx.op.outputs[0])}, (float *){ptr.scratch(ctx.op)});")
    return OpCode(decls, call, ("lstm",))
