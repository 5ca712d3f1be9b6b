"""C emitters for SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND (any element type): per block offset
(by, bx), one strided copy of the pixels that offset maps (``ec_copy_nd``); SPACE_TO_BATCH_ND
first fills the output with its padding value (a real zero: 0, or the int8 zero point). A table
row in ``codegen/ops_c.py``; geometry from ``ops/space_to_batch_nd.py``."""

from __future__ import annotations

from edgecraft.codegen.opcode import CodegenError, OpCode, Pointer
from edgecraft.codegen.ops_c_data import _copy_block
from edgecraft.ops.base import OpContext
from edgecraft.ops.space_to_batch_nd import geometry


def _runs(offset: int, block: int, count: int, limit: int) -> tuple[int, int]:
    """(first i, number of i) with 0 <= i < count and 0 <= i * block + offset < limit."""
    lo = max(0, (block - 1 - offset) // block)
    hi = min(count, (limit - 1 - offset) // block + 1) if limit - 1 - offset >= 0 else 0
    return lo, max(hi - lo, 0)


def space_batch(ctx: OpContext, p: str, ptr: Pointer) -> OpCode:
    """Both directions: SPACE_TO_BATCH_ND reads input pixel (y * bh + by - top, x * bw + bx - left)
    into output batch (by * bw + bx) * n; BATCH_TO_SPACE_ND writes input batch
    (by * bw + bx) * n_out to output pixel (y * bh + by - top, x * bw + bx - left)."""
    to_batch = ctx.op.type == "SPACE_TO_BATCH_ND"
    (n, h, w, c), bh, bw, (top, _, left, _) = geometry(ctx)
    x, y = ctx.req_input(0), ctx.output(0)
    elem = x.np_dtype.itemsize
    out = y.shape if len(y.shape) == 4 else (y.shape[0], y.shape[1], 1, y.shape[2])
    decls, calls = [], []
    src_p, dst_p = ptr(ctx.op.inputs[0]), ptr(ctx.op.outputs[0])
    if to_batch:
        fill = y.zero_point if x.dtype == "int8" else 0
        calls.append(f"memset({dst_p}, {fill}, {y.nbytes});")
        space, grid, batches = (n, h, w, c), out, n  # space = the image side, grid = the batched side
    else:
        space, grid, batches = out, (n, h, w, c), out[0]
    _, sh, sw, _ = space
    _, gh, gw, _ = grid
    for by in range(bh):
        for bx in range(bw):
            y0, ny = _runs(by - top, bh, gh, sh)
            x0, nx = _runs(bx - left, bw, gw, sw)
            if ny == 0 or nx == 0:
                continue
            blk = (by * bw + bx) * batches
            g_strides = [gh * gw * c, gw * c, c, 1]
            s_strides = [sh * sw * c, bh * sw * c, bw * c, 1]
            g_at = blk * gh * gw * c + y0 * gw * c + x0 * c
            s_at = (y0 * bh + by - top) * sw * c + (x0 * bw + bx - left) * c
            name = f"{p}_{by}_{bx}"
            if to_batch:  # space (input) -> grid (output)
                decls.append(_copy_block(name, [batches, ny, nx, c], s_strides, g_strides, elem))
                calls.append(f"ec_copy_nd(&{name}, {src_p} + {s_at}, {dst_p} + {g_at});")
            else:  # grid (input) -> space (output)
                decls.append(_copy_block(name, [batches, ny, nx, c], g_strides, s_strides, elem))
                calls.append(f"ec_copy_nd(&{name}, {src_p} + {g_at}, {dst_p} + {s_at});")
    if len(calls) > 4096:
        raise CodegenError(f"{ctx.op.type} with blocks of {bh}x{bw} needs too many copies")
    return OpCode("".join(decls), "\n  ".join(calls) or "/* nothing to copy */", ("data_ops",))
