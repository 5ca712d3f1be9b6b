"""IF: run subgraph ``then_subgraph_index`` when input 0 (one bool) is true, else
``else_subgraph_index``, on the other inputs; its outputs are the operator's, as TFLM's
``if.cc`` (which copies the values in and out)."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.subgraph import declared_shapes, model_runtime


def if_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """Input 0 a single bool; the outputs are the branch's (checked against the subgraphs
    when the model is read)."""
    cond = ctx.req_input(0)
    if cond.dtype != "bool" or cond.size != 1:
        raise OpError(f"IF's condition must be one bool, got {cond.dtype} of shape {list(cond.shape)}")
    return declared_shapes(ctx)


def if_kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    branch = "then_subgraph_index" if bool(np.asarray(args[0]).reshape(-1)[0]) else "else_subgraph_index"
    return model_runtime(ctx).invoke(int(ctx.attrs[branch]), [np.asarray(a) for a in args[1:]])


OP = OpDef(
    side_effects=True,
    name="IF",
    shape=if_shape,
    kernels={"bool": if_kernel},
    options=Options("IfOptions", (("then_subgraph_index", "ThenSubgraphIndex", "int"),
                                  ("else_subgraph_index", "ElseSubgraphIndex", "int"))),
)
