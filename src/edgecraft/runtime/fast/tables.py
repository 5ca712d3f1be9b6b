"""Table fast paths: an int8 input has 256 possible values, so a function of one value is a table.

``lookup_table``: for an op marked ``OpDef.lookup`` (its output element depends on its input
element alone, e.g. LOGISTIC or TANH) with a per-tensor quantized, non-constant int8 input and
no other inputs, the reference kernel runs once on all 256 int8 values (on the first call);
each call then indexes that table. A configuration the reference kernel refuses raises the same
error from that first call.

``softmax_exp_table``: SOFTMAX's exp depends on the difference to the row maximum alone, which
for int8 input is one of 0 .. -255: TFLM's exp of each is computed once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops import softmax
from edgecraft.ops.base import Kernel, OpContext, OpDef


def lookup_applies(opdef: OpDef, ctx: OpContext) -> bool:
    """Whether the op's int8 kernel may be replaced by a 256-entry table."""
    x = ctx.input(0)
    if not opdef.lookup or x is None or x.dtype != "int8" or x.is_constant:
        return False
    if x.quant is not None and x.quant.per_channel:
        return False
    return all(ctx.input(i) is None for i in range(1, ctx.num_inputs))


def lookup_kernel(opdef: OpDef, ctx: OpContext) -> Kernel:
    """The reference kernel of ``opdef`` evaluated as a table (see :func:`lookup_applies`)."""
    reference = opdef.kernel_for(ctx)
    out_dtype = ctx.output(0).np_dtype

    def table() -> np.ndarray:
        domain = np.arange(-128, 128, dtype=np.int8)
        return np.asarray(reference(ctx, [domain])[0]).reshape(256).astype(out_dtype)

    def run(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
        return [ctx.memo("lookup_table", table)[np.asarray(args[0]).astype(np.int16) + 128]]

    return run


def softmax_exp_table(ctx: OpContext, diff: np.ndarray) -> np.ndarray:
    """:func:`edgecraft.ops.softmax.exp_of_differences` for int8 differences (-255 .. 0), read
    from a table of all 256 made once per operator."""
    table = ctx.memo("exp_table", lambda: softmax.exp_of_differences(ctx, -np.arange(256, dtype=np.int64)))
    return table[-diff]
