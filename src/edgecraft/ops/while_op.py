"""WHILE: loop values through subgraph ``body_subgraph_index`` while subgraph
``cond_subgraph_index`` gives true on them, as TFLM's ``while.cc``: the condition runs first
(the body may run zero times); the outputs are the values after the last body run."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ir.graph import DTYPES
from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.subgraph import model_runtime


def while_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """As many outputs as inputs, of the same shapes and types."""
    ins = [ctx.req_input(i) for i in range(ctx.num_inputs)]
    outs = [ctx.output(i) for i in range(len(ctx.op.outputs))]
    if [(t.shape, t.dtype) for t in ins] != [(t.shape, t.dtype) for t in outs]:
        raise OpError("WHILE's outputs must match its inputs in number, shape and type")
    return [tuple(t.shape) for t in ins]


def while_kernel(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    rt = model_runtime(ctx)
    cond, body = int(ctx.attrs["cond_subgraph_index"]), int(ctx.attrs["body_subgraph_index"])
    values = [np.array(a) for a in args]
    while bool(np.asarray(rt.invoke(cond, values)[0]).reshape(-1)[0]):
        values = rt.invoke(body, values)
    return values


OP = OpDef(
    side_effects=True,
    name="WHILE",
    shape=while_shape,
    kernels=dict.fromkeys(DTYPES, while_kernel),
    options=Options("WhileOptions", (("cond_subgraph_index", "CondSubgraphIndex", "int"),
                                     ("body_subgraph_index", "BodySubgraphIndex", "int"))),
)
