"""TRANSPOSE: permute dimensions; output dimension ``i`` is input dimension ``perm[i]``.

``perm`` is the constant input 1. TFLM supports float32, int8 and int16 up to rank 5; the
kernel here moves any dtype and rank.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ir.graph import DTYPES
from edgecraft.ops.base import OpContext, OpDef, OpError, Options


def _perm(ctx: OpContext) -> list[int]:
    rank = len(ctx.req_input(0).shape)
    perm = [int(p) for p in ctx.const(1).reshape(-1)]
    if sorted(perm) != list(range(rank)):
        raise OpError(f"TRANSPOSE perm {perm} is not a permutation of the {rank} input dimensions")
    return perm


def transpose_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """``out.shape[i] = in.shape[perm[i]]``."""
    shape = ctx.req_input(0).shape
    return [tuple(shape[p] for p in _perm(ctx))]


def transpose(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Any dtype."""
    return [np.transpose(args[0], _perm(ctx))]


OP = OpDef(
    name="TRANSPOSE",
    shares_quant=True,
    shape=transpose_shape,
    kernels=dict.fromkeys(DTYPES, transpose),
    code={"portable": ("ec_data_ops.c",)},
    state_bytes=8,
    options=Options("TransposeOptions"),
)
