"""UNIDIRECTIONAL_SEQUENCE_LSTM: the standard LSTM cell run over a sequence, as TFLM computes it.

Inputs (TFLM's ``lstm_shared.h``): 0 the sequence, (batch, time, input) or (time, batch, input)
when ``time_major``; 1-4 the input-to-gate weights and 5-8 the recurrent weights, each
(state, input) or (state, state), gates in the order input, forget, cell, output; 12-15 the gate
biases; 18 the hidden state and 19 the cell state, both state (variable) tensors the op updates
and keeps between invocations. Peepholes (9-11), projection (16, 17) and layer norm (20-23) must
be absent, as TFLM requires. The output (one hidden state per step) has the input's first two
dimensions and ``state`` values.

Per step, with ``h`` and ``c`` the states: each gate is ``act(FC(x, W_x, b) + FC(h, W_h))``,
sigmoid for input, forget and output gates and ``fused_activation_function`` (TANH) for the cell
gate; ``c = f * c + i * g``, clipped to ``cell_clip`` when positive; ``h = o * tanh(c)``.
Batch-major input runs batch by batch (each its own states); time-major input runs every batch
at once per step.

Integer arithmetic (``lstm_eval.h``): int8 activations with int8 weights and int32 biases, or
int16 activations with int8 weights and int64 biases (16x8), both with an int16 cell state whose
scale TFLM rounds to a power of two. Each gate's two fully connected products are requantized to
int16 at the fixed scale 2**-12 and added saturating; sigmoid and tanh are TFLM's int16 table
kernels (Q0.15 out); the products use ``MulElementwise`` with multipliers from the scales
2**-15 (gates), the cell scale and the hidden state's scale and zero point. float32 follows the
float reference kernels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgecraft.ops.arith import (
    INT16_MAX,
    INT16_MIN,
    conv_multipliers,
    logistic_int16,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_int64,
    quantize_multiplier,
    tanh_int16,
    wrap_int32,
)
from edgecraft.ops.base import Cost, OpContext, OpDef, OpError, Options
from edgecraft.ops.options import ACTIVATION
from edgecraft.ops.quant import dtype_range

INPUT = 0
#: Gate order of the weight and bias inputs.
GATES = ("input", "forget", "cell", "output")
INPUT_WEIGHTS = (1, 2, 3, 4)
RECURRENT_WEIGHTS = (5, 6, 7, 8)
BIASES = (12, 13, 14, 15)
HIDDEN, CELL = 18, 19
#: Peepholes, projection and layer norm: TFLM runs only the standard LSTM without them.
ABSENT = (9, 10, 11, 16, 17, 20, 21, 22, 23)
#: The fixed scale of each gate's fully connected sum (Q3.12) and of a gate's output (Q0.15).
GATE_SUM_SCALE = 2.0**-12
GATE_OUT_SCALE = 2.0**-15


@dataclass(frozen=True)
class Sizes:
    """``LstmSizeInfo``: batch, time steps, input and state dimensions, and the layout."""

    batch: int
    time: int
    inputs: int
    state: int
    time_major: bool


def sizes(ctx: OpContext) -> Sizes:
    x, h = ctx.req_input(INPUT), ctx.req_input(HIDDEN)
    if len(x.shape) != 3:
        raise OpError(f"UNIDIRECTIONAL_SEQUENCE_LSTM needs a 3-D input, got {list(x.shape)}")
    if len(h.shape) < 1:
        raise OpError("UNIDIRECTIONAL_SEQUENCE_LSTM needs a hidden state of rank 1 or more")
    major = bool(ctx.attrs.get("time_major", False))
    batch, time = (x.shape[1], x.shape[0]) if major else (x.shape[0], x.shape[1])
    return Sizes(batch, time, x.shape[2], h.shape[-1], major)


def shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """TFLM's ``ValidateTensorStatus`` and ``ValidateTensorSize``: every weight and bias
    present with the sizes the input and state give, the states variable, the variants absent."""
    if ctx.num_inputs != 24:
        raise OpError(f"UNIDIRECTIONAL_SEQUENCE_LSTM takes 24 inputs, got {ctx.num_inputs}")
    for i in ABSENT:
        if ctx.input(i) is not None:
            raise OpError(f"UNIDIRECTIONAL_SEQUENCE_LSTM input {i} (peephole, projection or layer "
                          "norm) must be absent: TFLM runs the standard LSTM only")
    n = sizes(ctx)
    x = ctx.req_input(INPUT)
    wtype = ctx.req_input(INPUT_WEIGHTS[1]).dtype
    for i in INPUT_WEIGHTS + RECURRENT_WEIGHTS:
        w = ctx.req_input(i)
        want = (n.state, n.inputs if i in INPUT_WEIGHTS else n.state)
        if tuple(w.shape) != want or w.dtype != wtype:
            raise OpError(f"UNIDIRECTIONAL_SEQUENCE_LSTM weight input {i} must be {list(want)} "
                          f"{wtype}, got {list(w.shape)} {w.dtype}")
    btype = ctx.req_input(BIASES[1]).dtype
    for i in BIASES:
        b = ctx.req_input(i)
        if tuple(b.shape) != (n.state,) or b.dtype != btype:
            raise OpError(f"UNIDIRECTIONAL_SEQUENCE_LSTM bias input {i} must be [{n.state}] "
                          f"{btype}, got {list(b.shape)} {b.dtype}")
    for i, name in ((HIDDEN, "hidden"), (CELL, "cell")):
        t = ctx.req_input(i)
        if not t.variable:
            raise OpError(f"UNIDIRECTIONAL_SEQUENCE_LSTM {name} state (input {i}) must be a "
                          "state (variable) tensor")
        if t.size != n.batch * n.state:
            raise OpError(f"UNIDIRECTIONAL_SEQUENCE_LSTM {name} state has {t.size} values, "
                          f"not batch x state = {n.batch * n.state}")
    if ctx.req_input(HIDDEN).dtype != x.dtype:
        raise OpError("UNIDIRECTIONAL_SEQUENCE_LSTM hidden state must have the input's type")
    if _cell_activation(ctx) != "TANH":
        raise OpError(f"UNIDIRECTIONAL_SEQUENCE_LSTM's cell gate activation is "
                      f"{_cell_activation(ctx)}; TFLM runs TANH only")
    return [(x.shape[0], x.shape[1], n.state)]


# --- float32 ---------------------------------------------------------------------------------

def _sigmoid_float(v: np.ndarray) -> np.ndarray:
    """``reference_ops::Logistic`` (float): exp below -9, 1 above 16.619..., else 1/(1+e^-x)."""
    v = v.astype(np.float32)
    with np.errstate(over="ignore"):
        mid = np.float32(1) / (np.float32(1) + np.exp(-v))
    return np.where(v > np.float32(16.619047164916992), np.float32(1),
                    np.where(v < np.float32(-9), np.exp(v), mid)).astype(np.float32)


def lstm_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """float32 LSTM: gates from float32 matrix products, then the cell and hidden updates."""
    n = sizes(ctx)
    wx = [args[i].astype(np.float32) for i in INPUT_WEIGHTS]
    wh = [args[i].astype(np.float32) for i in RECURRENT_WEIGHTS]
    bias = [args[i].astype(np.float32) for i in BIASES]
    clip = np.float32(ctx.attrs.get("cell_clip", 0.0))

    def step(x: np.ndarray, h: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pre = [(x @ wx[g].T + bias[g]) + (h @ wh[g].T) for g in range(4)]
        i, f, o = _sigmoid_float(pre[0]), _sigmoid_float(pre[1]), _sigmoid_float(pre[3])
        g = np.tanh(pre[2])
        c = f * c + i * g
        if clip > 0:
            c = np.clip(c, -clip, clip)
        return (o * np.tanh(c)).astype(np.float32), c.astype(np.float32)

    return _run(n, args, step, np.float32)


# --- int8 / int16 activations ----------------------------------------------------------------

@dataclass(frozen=True)
class IntegerParams:
    """What TFLM's Prepare derives: per gate the (multiplier, shift) of its input and recurrent
    products, the three elementwise products' multipliers, the cell scale's power of two and
    the quantized cell clip."""

    x_zp: int
    h_zp: int
    w_zp: int
    x_mult: tuple[tuple[int, int], ...]
    h_mult: tuple[tuple[int, int], ...]
    forget_cell: tuple[int, int]
    input_cell: tuple[int, int]
    output_hidden: tuple[int, int]
    cell_power: int
    cell_clip: int


def _checked_log2(scale: float) -> int:
    """``CheckedLog2`` in float32, as TFLM rounds the cell scale to a power of two (its check
    that the scale is one is ignored)."""
    lg = np.float32(math.log(np.float32(scale))) * (np.float32(1.0) / np.float32(math.log(np.float32(2.0))))
    return int(np.round(np.float32(lg)))  # std::round on float32: halves never occur here


def integer_params(ctx: OpContext) -> IntegerParams:
    """``PrepareGateParametersInteger`` and ``CreateLstmCellStateInfo``."""
    x, h, c = ctx.req_input(INPUT), ctx.req_input(HIDDEN), ctx.req_input(CELL)
    if c.dtype != "int16":
        raise OpError(f"UNIDIRECTIONAL_SEQUENCE_LSTM {x.dtype} needs an int16 cell state, got {c.dtype}")
    for t in (x, h, c, *(ctx.req_input(i) for i in INPUT_WEIGHTS + RECURRENT_WEIGHTS)):
        if t.quant is None or t.quant.per_channel:
            raise OpError(f"UNIDIRECTIONAL_SEQUENCE_LSTM tensor {t.name!r} needs one scale "
                          "(TFLM's LSTM quantizes per tensor)")
    w = ctx.req_input(INPUT_WEIGHTS[1])
    if w.dtype != "int8":
        raise OpError(f"UNIDIRECTIONAL_SEQUENCE_LSTM {x.dtype} needs int8 weights, got {w.dtype}")
    want_bias = "int32" if x.dtype == "int8" else "int64"
    if ctx.req_input(BIASES[1]).dtype != want_bias:
        raise OpError(f"UNIDIRECTIONAL_SEQUENCE_LSTM {x.dtype} needs {want_bias} biases")

    def fc(act: float, i: int) -> tuple[int, int]:
        m, s = conv_multipliers(act, ctx.req_input(i).quant.scale, GATE_SUM_SCALE, 1)  # type: ignore[union-attr]
        return int(m[0]), int(s[0])

    cell_scale = float(np.float32(c.scale))
    clip = float(np.float32(ctx.attrs.get("cell_clip", 0.0)))
    return IntegerParams(
        x_zp=x.zero_point, h_zp=h.zero_point, w_zp=w.zero_point,
        x_mult=tuple(fc(x.scale, i) for i in INPUT_WEIGHTS),
        h_mult=tuple(fc(h.scale, i) for i in RECURRENT_WEIGHTS),
        forget_cell=quantize_multiplier(GATE_OUT_SCALE * cell_scale / cell_scale),
        input_cell=quantize_multiplier(GATE_OUT_SCALE * GATE_OUT_SCALE / cell_scale),
        output_hidden=quantize_multiplier(GATE_OUT_SCALE * GATE_OUT_SCALE / float(np.float32(h.scale))),
        cell_power=_checked_log2(cell_scale),
        cell_clip=int(min(max(clip / cell_scale, -32768.0), 32767.0)),
    )


def _cell_activation(ctx: OpContext) -> str:
    return str(ctx.attrs.get("fused_activation_function", "NONE"))


def _fc(rows: np.ndarray, zp: int, w: np.ndarray, w_zp: int, bias: np.ndarray | None,
        mult: tuple[int, int], wide: bool) -> np.ndarray:
    """``reference_integer_ops::FullyConnected`` into int16 at the gate scale: int32 sums (int64
    for 16x8) requantized by the matching MultiplyByQuantizedMultiplier, clamped to int16."""
    acc = (rows.astype(np.int64) - zp) @ (w.astype(np.int64) - w_zp).T
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    if wide:
        out = multiply_by_quantized_multiplier_int64(acc, *mult)
    else:
        out = multiply_by_quantized_multiplier(wrap_int32(acc), *mult)
    return np.clip(out, INT16_MIN, INT16_MAX)


def _mul(a: np.ndarray, b: np.ndarray, mult: tuple[int, int], zp: int, dtype: str) -> np.ndarray:
    """``MulElementwise`` of two symmetric int16 operands into ``dtype`` with zero point ``zp``."""
    lo, hi = dtype_range(dtype)
    return np.clip(zp + multiply_by_quantized_multiplier(a * b, *mult), lo, hi)


def _cell_tanh(c: np.ndarray, power: int) -> np.ndarray:
    """``lstm_internal::Tanh`` of the cell state: the table tanh with the input shift that
    brings 2**power to Q3.12."""
    shift = 15 + power - 3
    return tanh_int16(c, 3, -shift) if shift < 0 else tanh_int16(c, 0, shift)


def lstm_integer(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """int8 (8x8 -> 16 cell) and int16 (16x8 -> 16 cell) LSTM, as ``EvalLstm``."""
    n = sizes(ctx)
    p: IntegerParams = ctx.memo("lstm", lambda: integer_params(ctx))
    act = ctx.req_input(INPUT).dtype
    wide = act == "int16"
    wx = [args[i] for i in INPUT_WEIGHTS]
    wh = [args[i] for i in RECURRENT_WEIGHTS]
    bias = [args[i] for i in BIASES]

    def gate(x: np.ndarray, h: np.ndarray, g: int) -> np.ndarray:
        s = _fc(x, p.x_zp, wx[g], p.w_zp, bias[g], p.x_mult[g], wide)
        s = np.clip(s + _fc(h, p.h_zp, wh[g], p.w_zp, None, p.h_mult[g], wide), INT16_MIN, INT16_MAX)
        return tanh_int16(s) if g == 2 else logistic_int16(s)

    def step(x: np.ndarray, h: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = c.astype(np.int64)
        f, i, g = gate(x, h, 1), gate(x, h, 0), gate(x, h, 2)
        c = _mul(f, c, p.forget_cell, 0, "int16")
        c = np.clip(c + _mul(i, g, p.input_cell, 0, "int16"), INT16_MIN, INT16_MAX)
        if ctx.attrs.get("cell_clip", 0.0) > 0:
            c = np.clip(c, -p.cell_clip, p.cell_clip)
        o = gate(x, h, 3)
        h = _mul(_cell_tanh(c, p.cell_power), o, p.output_hidden, p.h_zp, act)
        return h, c

    return _run(n, args, step, np.int64)


def _run(n: Sizes, args: list[Any], step: Any, work: type) -> list[np.ndarray]:
    """``EvalLstm``'s loop: time-major runs all batches per step; batch-major runs each batch
    through every step with its own rows of the states. Returns output, hidden, cell."""
    x = np.asarray(args[INPUT])
    h0, c0 = np.asarray(args[HIDDEN]), np.asarray(args[CELL])
    h: np.ndarray = h0.reshape(n.batch, n.state).astype(work)
    c: np.ndarray = c0.reshape(n.batch, n.state).astype(work)
    out = np.zeros((*x.shape[:2], n.state), dtype=work)
    if n.time_major:
        for t in range(n.time):
            h, c = step(x[t], h, c)
            out[t] = h
    else:
        for b in range(n.batch):
            hb, cb = h[b:b + 1], c[b:b + 1]
            for t in range(n.time):
                hb, cb = step(x[b, t:t + 1], hb, cb)
                out[b, t] = hb[0]
            h[b], c[b] = hb[0], cb[0]
    return [out.astype(x.dtype), h.reshape(h0.shape).astype(h0.dtype), c.reshape(c0.shape).astype(c0.dtype)]


def cost(ctx: OpContext) -> Cost:
    n = sizes(ctx)
    macs = n.batch * n.time * 4 * n.state * (n.inputs + n.state)
    read = sum(t.nbytes for i in range(ctx.num_inputs) if (t := ctx.input(i)) is not None)
    return Cost(macs, read, ctx.output(0).nbytes)


def scratch(ctx: OpContext) -> int:
    """TFLM's four gate buffers of batch x state cell values."""
    n = sizes(ctx)
    return 4 * n.batch * n.state * ctx.req_input(CELL).np_dtype.itemsize


OP = OpDef(
    name="UNIDIRECTIONAL_SEQUENCE_LSTM",
    shape=shape,
    kernels={"float32": lstm_float, "int8": lstm_integer, "int16": lstm_integer},
    cost=cost,
    scratch={"portable": scratch, "dsp": scratch},
    code={"portable": ("ec_lstm.c",)},
    work_class="fc",
    state_bytes=160,
    state_inputs=(HIDDEN, CELL),
    options=Options("UnidirectionalSequenceLSTMOptions", (
        ACTIVATION,
        ("cell_clip", "CellClip", "float"),
        ("proj_clip", "ProjClip", "float"),
        ("time_major", "TimeMajor", "bool"),
        ("asymmetric_quantize_inputs", "AsymmetricQuantizeInputs", "bool"),
        ("diagonal_recurrent_tensors", "DiagonalRecurrentTensors", "bool"),
    )),
)
