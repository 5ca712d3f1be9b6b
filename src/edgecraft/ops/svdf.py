"""SVDF: a rank-``r`` singular-value-decomposition filter over time with a state (input 4, a
variable tensor of shape (batch, memory * filters)) kept between invocations.

Inputs: 0 the input (batch, input), 1 the feature weights (filters, input), 2 the time weights
(filters, memory), 3 the bias (units = filters / rank), 4 the state. Per invocation, as TFLM's
``svdf_common.cc``: the state's flat buffer moves one element to the left; each filter's
feature dot product becomes the newest entry of its memory row; each filter's time dot product
over its memory row is summed over its ``rank`` filters per unit, plus the bias.

int8: int8 input and feature weights, int8 or int16 time weights and state, int32 bias (whose
scale must equal state x time-weight scale, as TFLM checks): the feature products scaled by
``input * feature / state`` (computed in float32 as TFLM's source, then QuantizeMultiplier),
clamped to the state type, plus the state zero point (stored in the state type, so it wraps
where C's does); the time products less the state zero
point summed in int32; the unit sums scaled by ``state * time / output``, plus the output zero
point, clamped to int8 (no fused activation, as TFLM). float32: float sums and the fused
activation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.arith import multiply_by_quantized_multiplier, quantize_multiplier, wrap_int32
from edgecraft.ops.base import Cost, OpContext, OpDef, OpError, Options
from edgecraft.ops.options import ACTIVATION
from edgecraft.ops.quant import dtype_range, float_activation

INPUT, FEATURE, TIME, BIAS, STATE = 0, 1, 2, 3, 4


def sizes(ctx: OpContext) -> tuple[int, int, int, int, int, int]:
    """(batch, input size, filters, units, rank, memory)."""
    x, wf, wt = ctx.req_input(INPUT), ctx.req_input(FEATURE), ctx.req_input(TIME)
    rank = int(ctx.attrs.get("rank", 0))
    if len(x.shape) != 2 or len(wf.shape) != 2 or len(wt.shape) != 2:
        raise OpError("SVDF needs a 2-D input, feature weights and time weights")
    filters = wf.shape[0]
    if rank < 1 or filters % rank:
        raise OpError(f"SVDF rank {rank} must be positive and divide the {filters} filters")
    return x.shape[0], x.shape[1], filters, filters // rank, rank, wt.shape[1]


def svdf_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """TFLM's ``PrepareSvdf`` checks; the output is (batch, units)."""
    if ctx.num_inputs != 5:
        raise OpError(f"SVDF takes 5 inputs, got {ctx.num_inputs}")
    batch, n_in, filters, units, _, memory = sizes(ctx)
    wf, wt = ctx.req_input(FEATURE), ctx.req_input(TIME)
    state, bias = ctx.req_input(STATE), ctx.input(BIAS)
    if wf.shape[1] != n_in or wt.shape[0] != filters:
        raise OpError(f"SVDF weights {list(wf.shape)} and {list(wt.shape)} do not match the input's "
                      f"{n_in} values and {filters} filters")
    if bias is not None and bias.size != units:
        raise OpError(f"SVDF bias has {bias.size} values for {units} units")
    if not state.variable or tuple(state.shape) != (batch, memory * filters):
        raise OpError(f"SVDF state (input 4) must be a state (variable) tensor of shape "
                      f"{[batch, memory * filters]}")
    return [(batch, units)]


def _shift_in(state: np.ndarray, newest: np.ndarray, memory: int) -> np.ndarray:
    """The flat state moved one element left, each filter's newest value at its row's end."""
    flat = state.reshape(-1)
    moved = np.concatenate([flat[1:], flat[-1:]])
    rows = moved.reshape(-1, memory)  # (batch * filters, memory)
    rows[:, -1] = newest.reshape(-1)
    return rows.reshape(state.shape)


def multipliers(ctx: OpContext) -> tuple[tuple[int, int], tuple[int, int]]:
    """(feature -> state, units -> output) multipliers from TFLM's float32 scale products."""
    x, wf, wt = ctx.req_input(INPUT), ctx.req_input(FEATURE), ctx.req_input(TIME)
    state, bias, out = ctx.req_input(STATE), ctx.input(BIAS), ctx.output(0)
    f32 = np.float32
    if bias is None or bias.dtype != "int32":
        raise OpError("SVDF int8 needs an int32 bias (TFLM reads its scale)")
    if abs(float(f32(bias.scale)) - float(f32(state.scale) * f32(wt.scale))) >= 1e-5:
        raise OpError("SVDF int8 bias scale must equal state scale x time-weight scale (TFLM checks it)")
    s1 = float(f32(x.scale) * f32(wf.scale) / f32(state.scale))
    s2 = float(f32(state.scale) * f32(wt.scale) / f32(out.scale))
    return quantize_multiplier(s1), quantize_multiplier(s2)


def svdf_int8(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    batch, _, filters, units, rank, memory = sizes(ctx)
    x, wf, wt, bias, state = (np.asarray(args[i]) for i in (INPUT, FEATURE, TIME, BIAS, STATE))
    st = ctx.req_input(STATE)
    if ctx.req_input(FEATURE).dtype != "int8" or st.dtype not in ("int8", "int16") or wt.dtype != st.np_dtype:
        raise OpError("SVDF int8 needs int8 feature weights and int8 or int16 time weights and state "
                      "of one type")
    (m1, s1), (m2, s2) = ctx.memo("multipliers", lambda: multipliers(ctx))
    lo, hi = dtype_range(st.dtype)
    dots = (x.astype(np.int64) - ctx.req_input(INPUT).zero_point) @ wf.astype(np.int64).T  # batch x filters
    newest = np.clip(multiply_by_quantized_multiplier(wrap_int32(dots), m1, s1), lo, hi) + st.zero_point
    newest = newest.astype(st.np_dtype).astype(np.int64)  # clamped before the zero point: wraps as C
    state = _shift_in(state.astype(np.int64), newest, memory)
    rows = state.reshape(batch, filters, memory) - st.zero_point
    time = wrap_int32((rows * wt.astype(np.int64)).sum(axis=2))  # (batch, filters)
    acc = wrap_int32(time.reshape(batch, units, rank).sum(axis=2) + bias.astype(np.int64))
    out = multiply_by_quantized_multiplier(acc, m2, s2) + ctx.output(0).zero_point
    return [np.clip(out, -128, 127).astype(np.int8), state.astype(st.np_dtype)]


def svdf_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    batch, _, filters, units, rank, memory = sizes(ctx)
    x, wf, wt, state = (np.asarray(args[i]) for i in (INPUT, FEATURE, TIME, STATE))
    bias = np.asarray(args[BIAS], np.float64) if args[BIAS] is not None else np.zeros(units)
    newest = (x.astype(np.float32) @ wf.astype(np.float32).T).astype(np.float32)
    state = _shift_in(state.astype(np.float32), newest, memory)
    time = (state.reshape(batch, filters, memory).astype(np.float64) * wt).sum(axis=2)
    acc = time.reshape(batch, units, rank).sum(axis=2) + bias
    act = ctx.attrs.get("fused_activation_function", "NONE")
    return [float_activation(acc.astype(np.float32), act), state]


def cost(ctx: OpContext) -> Cost:
    batch, n_in, filters, _, _, memory = sizes(ctx)
    read = sum(t.nbytes for i in range(ctx.num_inputs) if (t := ctx.input(i)) is not None)
    return Cost(batch * filters * (n_in + memory), read, ctx.output(0).nbytes)


OP = OpDef(
    name="SVDF",
    shape=svdf_shape,
    kernels={"int8": svdf_int8, "float32": svdf_float},
    cost=cost,
    work_class="fc",
    state_bytes=40,
    state_inputs=(STATE,),
    code={"portable": ("ec_svdf.c",)},
    options=Options("SVDFOptions", (("rank", "Rank", "int"), ACTIVATION,
                                    ("asymmetric_quantize_inputs", "AsymmetricQuantizeInputs", "bool"))),
)
