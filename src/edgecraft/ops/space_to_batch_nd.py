"""SPACE_TO_BATCH_ND (and the geometry BATCH_TO_SPACE_ND shares): spatial blocks into the batch.

Rank 3 (N, H, C) or 4 (N, H, W, C), as TFLM supports; the block shape (input 1) and paddings or
crops (input 2) are constant int32. SPACE_TO_BATCH_ND pads H and W, then output batch
``(by * block_w + bx) * N + n`` holds the pixels ``(y * block_h + by, x * block_w + bx)``;
BATCH_TO_SPACE_ND puts them back and crops. The padding holds the value of a real zero: 0.0,
or the output zero point for int8, as LiteRT pads. TFLM's kernel pads with an ``output_offset``
field it never initializes (whatever bytes the arena held: 0x70 in the tested build), so where a
model pads, edgecraft is compared with LiteRT and matches TFLM only outside the padding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options


def geometry(ctx: OpContext) -> tuple[tuple[int, int, int, int], int, int, list[int]]:
    """(input as NHWC, block_h, block_w, [top, bottom, left, right] paddings or crops)."""
    x = ctx.req_input(0)
    if len(x.shape) not in (3, 4):
        raise OpError(f"{ctx.op.type} needs a rank-3 or rank-4 input, got {list(x.shape)}")
    four = len(x.shape) == 4
    block = [int(v) for v in np.asarray(ctx.const(1)).reshape(-1)]
    pads = [int(v) for v in np.asarray(ctx.const(2)).reshape(-1)]
    if len(block) != (2 if four else 1) or len(pads) != 2 * len(block):
        raise OpError(f"{ctx.op.type} needs a block shape of {2 if four else 1} and twice as many "
                      f"paddings for a rank-{len(x.shape)} input, got {block} and {pads}")
    if min(block) < 1 or min(pads) < 0:
        raise OpError(f"{ctx.op.type} block sizes must be positive and paddings not negative")
    nhwc = tuple(x.shape) if four else (x.shape[0], x.shape[1], 1, x.shape[2])
    bh, bw = block[0], block[1] if four else 1
    return nhwc, bh, bw, pads if four else [*pads, 0, 0]  # type: ignore[return-value]


def s2b_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    (n, h, w, c), bh, bw, (t, b, left, r) = geometry(ctx)
    if (h + t + b) % bh or (w + left + r) % bw:
        raise OpError(f"SPACE_TO_BATCH_ND: padded size {h + t + b}x{w + left + r} is not a multiple of the "
                      f"block {bh}x{bw}")
    out = (n * bh * bw, (h + t + b) // bh, (w + left + r) // bw, c)
    return [out if len(ctx.req_input(0).shape) == 4 else (out[0], out[1], out[3])]


def s2b(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    (n, h, w, c), bh, bw, (t, b, left, r) = geometry(ctx)
    x = np.asarray(args[0]).reshape(n, h, w, c)
    fill = ctx.output(0).zero_point if x.dtype == np.int8 else 0
    padded = np.full((n, h + t + b, w + left + r, c), fill, x.dtype)
    padded[:, t:t + h, left:left + w] = x
    oh, ow = (h + t + b) // bh, (w + left + r) // bw
    out = padded.reshape(n, oh, bh, ow, bw, c).transpose(2, 4, 0, 1, 3, 5)
    return [out.reshape(ctx.output(0).shape)]


OP = OpDef(
    name="SPACE_TO_BATCH_ND",
    shape=s2b_shape,
    kernels=dict.fromkeys(("float32", "int8"), s2b),
    code={"portable": ("ec_data_ops.c",)},
    state_bytes=8,
    options=Options("SpaceToBatchNDOptions"),
)
