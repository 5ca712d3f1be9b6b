"""Table fast paths: an int8 input has 256 possible values, so a function of one value is a table.

``lookup_table``: for an op marked ``OpDef.lookup`` (its output element depends on its input
element alone, e.g. LOGISTIC or TANH) with a per-tensor quantized, non-constant int8 input and
no other inputs, the reference kernel runs once on all 256 int8 values (on the first call);
each call then indexes that table. A configuration the reference kernel refuses raises the same
error from that first call.

``pair_table``: int8 ADD and SUB give each output element from its two input elements alone:
the reference kernel runs once on all 256 x 256 pairs; each run indexes that table by the two
input bytes (:class:`PairTable`).

``softmax_exp_table``: SOFTMAX's exp depends on the difference to the row maximum alone, which
for int8 input is one of 0 .. -255: TFLM's exp of each is computed once.
"""

from __future__ import annotations

from collections.abc import Callable
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


def pair_table_applies(opdef: OpDef, ctx: OpContext) -> bool:
    """int8 ADD or SUB (two inputs, per-tensor quantized, int8 output): each output element is
    a function of its two input elements alone (TFLM's ``add.h``/``sub.h`` per element, after
    broadcasting), so all 65,536 pairs make a table."""
    if opdef.name not in ("ADD", "SUB") or ctx.num_inputs != 2:
        return False
    tensors = (ctx.input(0), ctx.input(1), ctx.output(0))
    return all(t is not None and t.dtype == "int8" and not (t.quant is not None and t.quant.per_channel)
               for t in tensors)


class PairTable:
    """``pair_table``: the reference kernel evaluated once on every pair of int8 values (on the
    first run, so a configuration it refuses raises the same error then), indexed by the two
    input bytes ``(a << 8) | b``."""

    def __init__(self, opdef: OpDef, ctx: OpContext) -> None:
        self.reference, self.ctx = opdef.kernel_for(ctx), ctx

    def _table(self) -> np.ndarray:
        values = np.arange(256, dtype=np.uint8).view(np.int8)  # byte u holds int8 value values[u]
        grid = self.reference(self.ctx, [values[:, None], values[None, :]])[0]
        return np.ascontiguousarray(np.asarray(grid, np.int8).reshape(65536))

    def table(self) -> np.ndarray:
        """The 65,536 outputs, made on first use."""
        return self.ctx.memo("pair_table", self._table)  # type: ignore[no-any-return]

    def __call__(self, ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
        """The kernel interface (new arrays), for callers that do not bind."""
        a, b = (np.asarray(v).view(np.uint8) for v in args[:2])
        index = (a.astype(np.uint16) << 8) | b
        return [self.table()[index]]

    def bind(self, args: list[Any], outs: list[np.ndarray]) -> Callable[[], None]:
        """One run over fixed views: both inputs read in full into the index before the output
        (possibly in place over an input) is written."""
        a, b = (np.asarray(v).view(np.uint8) for v in args[:2])
        out = outs[0]
        index = np.empty(out.shape, np.uint16)

        def run() -> None:
            table = self.table()
            np.left_shift(a, 8, out=index, dtype=np.uint16)
            np.bitwise_or(index, b, out=index)
            np.take(table, index, out=out, mode="clip")

        return run
