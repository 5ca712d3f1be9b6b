"""BATCH_TO_SPACE_ND: the inverse of SPACE_TO_BATCH_ND (see :mod:`.space_to_batch_nd`): batch
``(by * block_w + bx) * N + n`` goes back to the pixels ``(y * block_h + by, x * block_w + bx)``,
then the crops (input 2) are cut off. float32 and int8, values unchanged."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.space_to_batch_nd import geometry


def b2s_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    (n, h, w, c), bh, bw, (t, b, left, r) = geometry(ctx)
    if n % (bh * bw):
        raise OpError(f"BATCH_TO_SPACE_ND: batch {n} is not a multiple of the block {bh}x{bw}")
    oh, ow = h * bh - t - b, w * bw - left - r
    if oh < 0 or ow < 0:
        raise OpError(f"BATCH_TO_SPACE_ND crops {[t, b, left, r]} exceed the {h * bh}x{w * bw} image")
    out = (n // (bh * bw), oh, ow, c)
    return [out if len(ctx.req_input(0).shape) == 4 else (out[0], out[1], out[3])]


def b2s(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    (n, h, w, c), bh, bw, (t, b, left, r) = geometry(ctx)
    on = n // (bh * bw)
    full = np.asarray(args[0]).reshape(bh, bw, on, h, w, c).transpose(2, 3, 0, 4, 1, 5)
    full = full.reshape(on, h * bh, w * bw, c)
    out = full[:, t:h * bh - b, left:w * bw - r]
    return [np.ascontiguousarray(out).reshape(ctx.output(0).shape)]


OP = OpDef(
    name="BATCH_TO_SPACE_ND",
    shape=b2s_shape,
    kernels=dict.fromkeys(("float32", "int8"), b2s),
    code={"portable": ("ec_data_ops.c",)},
    state_bytes=8,
    options=Options("BatchToSpaceNDOptions"),
)
