"""Partial overlap: a windowed op's output may start below its dying input and overlap it.

Ops with a window (``OpDef.window``: CONV_2D, DEPTHWISE_CONV_2D and the pools) compute output
pixels in row-major order, each from a window of input rows at or after a known row. Once
output pixel ``p`` is written, only input bytes needed by pixels ``q >= p`` must survive. If the
output starts ``-D`` bytes below the input (``out_offset <= in_offset + D``), writing pixel ``p``
ends at ``D + (p + 1) * C_out`` bytes from the input's start, which must not pass the first
input byte any pixel ``q >= p`` reads:

    D = min over p of ( min over q >= p of first_read(q) ) - (p + 1 + M) * C_out

(bytes; ``first_read(q)`` is the first element of ``q``'s window, clipped to the image, times
``C_in``). ``M = 2`` pixels of slack let a kernel compute a few output pixels before writing
them (edgecraft's DSP convolution works on pixel pairs).
Only for batch 1 NHWC tensors whose input dies at that op; the Python runtime computes the whole
output before writing it, and a C kernel that writes pixels in order stays exact.
"""

from __future__ import annotations

import numpy as np

from edgecraft.ir.graph import Graph
from edgecraft.ops.base import OpContext
from edgecraft.ops.conv_common import window_geometry
from edgecraft.ops.registry import find_op

SLACK_PIXELS = 2


def overlap_offset(graph: Graph, op_index: int) -> int | None:
    """The largest ``D`` (bytes, usually negative) with which operator ``op_index``'s output may
    start relative to its first input and overlap it; None if the op does not allow it."""
    op = graph.operators[op_index]
    opdef = find_op(op.type)
    if opdef is None or opdef.window is None or not op.inputs or len(op.outputs) != 1:
        return None
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if len(x.shape) != 4 or len(y.shape) != 4 or x.shape[0] != 1 or y.shape[0] != 1:
        return None
    ctx = OpContext(op, graph)
    window = opdef.window(ctx)
    _, in_h, in_w, in_c = x.shape
    _, out_h, out_w, out_c = y.shape
    _, _, top, left = window_geometry(ctx, in_h, in_w, window.height, window.width, window.dilated)
    sh, sw = int(op.attrs.get("stride_h", 1)), int(op.attrs.get("stride_w", 1))
    rows = np.maximum(np.arange(out_h) * sh - top, 0)
    cols = np.maximum(np.arange(out_w) * sw - left, 0)
    first = ((rows[:, None] * in_w + cols[None, :]) * in_c * x.np_dtype.itemsize).reshape(-1)
    need = np.minimum.accumulate(first[::-1])[::-1]  # min over q >= p
    ends = (np.arange(out_h * out_w) + 1 + SLACK_PIXELS) * out_c * y.np_dtype.itemsize
    return int((need - ends).min())
