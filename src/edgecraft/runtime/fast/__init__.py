"""Fast paths: other ways to compute what a reference kernel computes, with the same bytes.

The kernels under ``ops/`` are the specification and stay plain. The interpreter swaps in a
fast path for an operator when that path's explicit conditions hold (``FastPath.applies``), and
runs the reference kernel otherwise; nothing is tried and caught. ``Interpreter(reference=True)``
(``edgecraft run --reference``) uses none. Each path is tested against the reference kernel
with tolerance 0 on randomized cases (tests/runtime/test_fast.py).

- ``fully_connected_int8_prepared``, ``conv_2d_int8_prepared``,
  ``depthwise_conv_2d_int8_prepared``: int8 layers with constant filter and bias, prepared once
  (:mod:`.prepared`): exact float matmul, TFLM's requantization in a few int64 operations with
  the bias folded in (:mod:`.requant`), bound to the arena so a run writes its output view
  directly (``bind``; the window ops' padded input and im2col matrix are fixed buffers,
  :mod:`.windowed`). A layer the prepared form cannot compute exactly takes the next path.
- ``average_pool_2d_prepared``: int8 and int16 AVERAGE_POOL_2D bound to fixed window views of a
  padded copy, tap counts made once (:mod:`.windowed`).
- ``pair_table``: int8 ADD and SUB as a table of all 65,536 input pairs (:mod:`.tables`).
- ``lookup_table``: an int8 op marked ``OpDef.lookup`` evaluates its reference kernel once on
  all 256 int8 values, then indexes the table (:mod:`.tables`).
- ``conv_2d_im2col``, ``depthwise_conv_2d_float``, ``fully_connected_blas``: the integer sums as
  float matmuls (im2col + BLAS), float32 when every partial sum stays below 2**24, else
  float64, with the constant filter rearranged once (:mod:`.blas`).
- ``softmax_exp_table``: exp of every possible int8 difference, computed once (:mod:`.tables`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from edgecraft.ops import conv_2d, depthwise_conv_2d, fully_connected, softmax
from edgecraft.ops.base import Kernel, OpContext, OpDef
from edgecraft.runtime.fast.blas import depthwise_exact_float, fc_blas, im2col_conv
from edgecraft.runtime.fast.prepared import Accumulate, PreparedFullyConnected, PreparedWindowOp
from edgecraft.runtime.fast.tables import (
    PairTable,
    lookup_applies,
    lookup_kernel,
    pair_table_applies,
    softmax_exp_table,
)
from edgecraft.runtime.fast.windowed import PreparedAveragePool, average_pool_applies


@dataclass(frozen=True)
class FastPath:
    """A fast path: its name, when it applies to an operator, and the kernel it runs there."""

    name: str
    applies: Callable[[OpDef, OpContext], bool]
    kernel: Callable[[OpDef, OpContext], Kernel]


def _input_dtype(ctx: OpContext) -> str | None:
    x = ctx.input(0)
    return None if x is None else x.dtype


def _int8_or_hybrid(op: str) -> Callable[[OpDef, OpContext], bool]:
    """An int8 op, or a float32 one with int8 weights (hybrid), whose filter (input 1) is a
    constant int8 tensor: the fast forms rearrange it once."""

    def applies(opdef: OpDef, ctx: OpContext) -> bool:
        w = ctx.input(1)
        return (opdef.name == op and _input_dtype(ctx) in ("int8", "float32")
                and w is not None and w.dtype == "int8" and w.data is not None)

    return applies


def _kernels(int8: Callable[..., list[np.ndarray]], float32: Callable[..., list[np.ndarray]],
             accumulate: Callable[..., np.ndarray]) -> Callable[[OpDef, OpContext], Kernel]:
    """The op's own int8 or float32 kernel, with its sums computed by ``accumulate``."""

    def make(opdef: OpDef, ctx: OpContext) -> Kernel:
        return partial(int8 if _input_dtype(ctx) == "int8" else float32, accumulate=accumulate)

    return make


def _prepared(op: str, accumulate: Accumulate | None = None) -> FastPath:
    """The prepared int8 form of ``op`` (built once per operator, kept in its context)."""

    def build(ctx: OpContext) -> Any:
        if accumulate is None:
            return ctx.memo("prepared", lambda: PreparedFullyConnected.build(ctx))
        return ctx.memo("prepared", lambda: PreparedWindowOp.build(ctx, accumulate))

    return FastPath(f"{op.lower()}_int8_prepared",
                    lambda opdef, ctx: opdef.name == op and build(ctx) is not None,
                    lambda opdef, ctx: build(ctx))


def _softmax_applies(opdef: OpDef, ctx: OpContext) -> bool:
    return opdef.name == "SOFTMAX" and _input_dtype(ctx) == "int8"


FAST_PATHS: tuple[FastPath, ...] = (
    FastPath("lookup_table", lookup_applies, lookup_kernel),
    FastPath("pair_table", pair_table_applies, PairTable),
    _prepared("FULLY_CONNECTED"),
    _prepared("CONV_2D", im2col_conv),
    _prepared("DEPTHWISE_CONV_2D", depthwise_exact_float),
    FastPath("conv_2d_im2col", _int8_or_hybrid("CONV_2D"),
             _kernels(conv_2d.conv_int8, conv_2d.conv_float, im2col_conv)),
    FastPath("depthwise_conv_2d_float", _int8_or_hybrid("DEPTHWISE_CONV_2D"),
             _kernels(depthwise_conv_2d.depthwise_int8, depthwise_conv_2d.depthwise_float,
                      depthwise_exact_float)),
    FastPath("fully_connected_blas", _int8_or_hybrid("FULLY_CONNECTED"),
             _kernels(fully_connected.fc_int8, fully_connected.fc_float, fc_blas)),
    FastPath("average_pool_2d_prepared", average_pool_applies, PreparedAveragePool),
    FastPath("softmax_exp_table", _softmax_applies,
             lambda opdef, ctx: partial(softmax.softmax_int8, exp=softmax_exp_table)),
)


def choose(opdef: OpDef, ctx: OpContext) -> FastPath | None:
    """The first fast path that applies to this operator, or None (run the reference kernel)."""
    return next((p for p in FAST_PATHS if p.applies(opdef, ctx)), None)


__all__ = ["FAST_PATHS", "FastPath", "choose"]
