"""MIRROR_PAD: pad each dimension with a mirror image of the input's edge; ``mode`` 0 (REFLECT)
leaves the edge element out (``[1 2 3]`` padded by 2 -> ``3 2 | 1 2 3 | 2 1``), 1 (SYMMETRIC)
repeats it (``2 1 | 1 2 3 | 3 2``).

The paddings are the constant input 1, shape (rank, 2), int32 or int64. As TFLM requires, a
REFLECT pad is at most ``dim - 1`` and a SYMMETRIC pad at most ``dim``. TFLM's sources list
float32, int8, int32 and int64 (the installed TFLM build runs float32 and int8; the tests check
int32 and int64 against LiteRT); values are moved, never changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options

MODES = {0: "reflect", 1: "symmetric"}


def paddings(ctx: OpContext) -> list[tuple[int, int]]:
    """(before, after) per dimension, checked against the mode's limit."""
    shape = ctx.req_input(0).shape
    pads = ctx.const(1)
    if pads.shape != (len(shape), 2):
        raise OpError(f"MIRROR_PAD paddings have shape {list(pads.shape)}; the input of shape "
                      f"{list(shape)} needs [{len(shape)}, 2]")
    mode = mode_of(ctx)
    out = []
    for d, (lo, hi) in zip(shape, pads.tolist(), strict=True):
        limit = d - 1 if mode == "reflect" else d
        if not (0 <= lo <= limit and 0 <= hi <= limit):
            raise OpError(f"MIRROR_PAD {mode.upper()} pads a dimension of size {d} by at most "
                          f"{limit} on each side, got ({lo}, {hi})")
        out.append((int(lo), int(hi)))
    return out


def mode_of(ctx: OpContext) -> str:
    """``reflect`` or ``symmetric``."""
    mode = int(ctx.attrs.get("mode", 0))
    if mode not in MODES:
        raise OpError(f"MIRROR_PAD mode {mode} is neither 0 (REFLECT) nor 1 (SYMMETRIC)")
    return MODES[mode]


def mirror_pad_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """Each dimension grows by its two pads."""
    shape = ctx.req_input(0).shape
    return [tuple(d + lo + hi for d, (lo, hi) in zip(shape, paddings(ctx), strict=True))]


def mirror_pad(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """Any dtype."""
    return [np.pad(args[0], paddings(ctx), mode=mode_of(ctx))]  # type: ignore[call-overload]


OP = OpDef(
    name="MIRROR_PAD",
    shape=mirror_pad_shape,
    kernels=dict.fromkeys(("float32", "int8", "int32", "int64"), mirror_pad),
    code={"portable": ("ec_data_ops.c",)},
    state_bytes=16,
    options=Options("MirrorPadOptions", (("mode", "Mode", "int"),)),
)
