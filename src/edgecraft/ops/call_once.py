"""CALL_ONCE: run the subgraph ``init_subgraph_index`` (no inputs, no outputs: it typically
assigns resource variables their first values) the first time the operator runs, and never
again, as TFLM's ``call_once.cc`` (whose flag survives ``Reset``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.subgraph import model_runtime


def call_once_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """No inputs, no outputs."""
    if ctx.num_inputs or ctx.op.outputs:
        raise OpError("CALL_ONCE takes no inputs and gives no outputs")
    return []


def call_once(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    model_runtime(ctx).once(id(ctx.op), int(ctx.attrs["init_subgraph_index"]))
    return []


OP = OpDef(
    side_effects=True,
    name="CALL_ONCE",
    shape=call_once_shape,
    # No input selects the kernel: the runtime asks for the float32 one (``kernel_for``).
    kernels={"float32": call_once},
    options=Options("CallOnceOptions", (("init_subgraph_index", "InitSubgraphIndex", "int"),)),
)
