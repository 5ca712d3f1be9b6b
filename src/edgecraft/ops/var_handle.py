"""VAR_HANDLE: the resource id of the variable named (container, shared_name), as TFLM's
``var_handle.cc``: ids are handed out in the order the runtime first meets each name, and every
VAR_HANDLE naming the same variable, in any subgraph, gives the same id."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError, Options
from edgecraft.ops.subgraph import check_resource, declared_shapes, model_runtime


def var_handle_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    """No inputs, one resource output."""
    if ctx.num_inputs or len(ctx.op.outputs) != 1:
        raise OpError(f"VAR_HANDLE takes no inputs and gives one output, got {ctx.num_inputs} "
                      f"and {len(ctx.op.outputs)}")
    if not str(ctx.attrs.get("shared_name", "")):
        raise OpError("VAR_HANDLE needs a shared_name")
    check_resource(ctx.output(0), "VAR_HANDLE's output")
    return declared_shapes(ctx)


def var_handle(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    rid = model_runtime(ctx).handle(str(ctx.attrs.get("container", "")), str(ctx.attrs["shared_name"]))
    return [np.full(ctx.output(0).shape, rid, np.int32)]


OP = OpDef(
    name="VAR_HANDLE",
    shape=var_handle_shape,
    # No input selects the kernel: the runtime asks for the float32 one (``kernel_for``).
    kernels={"resource": var_handle, "float32": var_handle},
    options=Options("VarHandleOptions", (("container", "Container", "string"),
                                         ("shared_name", "SharedName", "string"))),
)
