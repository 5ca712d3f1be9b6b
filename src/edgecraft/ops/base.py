"""What an op is: the record each file under ``ops/`` exports as ``OP``.

An op file holds, for one TFLite builtin: its shape rule, its reference kernels (one per input
dtype: naive, readable, bit-exact with TensorFlow Lite Micro for integers), its cost, and (for
code generation) its C emitter entry. :mod:`edgecraft.ops.registry` lists them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgecraft.ir.graph import Graph, Operator, Tensor


class OpError(ValueError):
    """An operator cannot run as configured (bad attributes, shapes or quantization)."""


@dataclass(frozen=True)
class OpContext:
    """An operator seen together with its graph, so kernels can read tensor metadata."""

    op: Operator
    graph: Graph
    #: Values derived once per operator (requantization multipliers, clamps): see :meth:`memo`.
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time ``key`` is asked for on this operator, then the stored
        value: what TFLM computes once in its Prepare step, we compute once per context."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    @property
    def attrs(self) -> dict[str, Any]:
        return self.op.attrs

    @property
    def num_inputs(self) -> int:
        return len(self.op.inputs)

    def input(self, i: int) -> Tensor | None:
        """Input tensor ``i``, or None when it is absent (index -1 or beyond the list)."""
        if i >= len(self.op.inputs) or self.op.inputs[i] == -1:
            return None
        return self.graph.tensors[self.op.inputs[i]]

    def output(self, i: int = 0) -> Tensor:
        return self.graph.tensors[self.op.outputs[i]]

    def req_input(self, i: int) -> Tensor:
        """Input tensor ``i``; raises :class:`OpError` when it is absent."""
        t = self.input(i)
        if t is None:
            raise OpError(f"{self.op.type} needs input {i}, which is missing")
        return t

    def const(self, i: int) -> np.ndarray:
        """The constant data of input ``i``; raises :class:`OpError` if it is not constant."""
        t = self.req_input(i)
        if t.data is None:
            raise OpError(f"{self.op.type} needs input {i} ({t.name!r}) to be a constant")
        return t.data


@dataclass(frozen=True)
class Cost:
    """Work of one invocation: multiply-accumulates and bytes moved to and from memory."""

    macs: int
    bytes_read: int
    bytes_written: int


#: Output shapes from input tensors and attributes.
ShapeRule = Callable[[OpContext], list[tuple[int, ...]]]
#: Values of the inputs (None for absent optional inputs) -> values of the outputs.
Kernel = Callable[[OpContext, list[Any]], list[np.ndarray]]
CostRule = Callable[[OpContext], Cost]


def default_cost(ctx: OpContext) -> Cost:
    """No arithmetic worth counting; reads every input once and writes every output once."""
    read = sum(t.nbytes for i in range(ctx.num_inputs) if (t := ctx.input(i)) is not None)
    written = sum(ctx.graph.tensors[k].nbytes for k in ctx.op.outputs)
    return Cost(0, read, written)


@dataclass(frozen=True)
class OpDef:
    """One op: name, shape rule, kernels keyed by the dtype of input 0, cost, scratch need, and
    whether its int8 kernel may be evaluated as a table (see ``lookup``).

    ``scratch`` returns the bytes of temporary memory the op needs during its run on a device
    (for example an im2col buffer); the memory planner places it in the arena.
    """

    name: str
    shape: ShapeRule
    kernels: dict[str, Kernel]
    cost: CostRule = default_cost
    scratch: Callable[[OpContext], int] = field(default=lambda ctx: 0)
    #: The output element depends on the input element alone (unary, elementwise, no state):
    #: the runtime may evaluate an int8 kernel once per possible input value and look it up.
    lookup: bool = False

    def kernel_for(self, ctx: OpContext) -> Kernel:
        """The kernel for this operator's input dtype; :class:`OpError` if there is none."""
        first = ctx.input(0)
        dtype = first.dtype if first is not None else "float32"
        try:
            return self.kernels[dtype]
        except KeyError:
            have = ", ".join(sorted(self.kernels))
            raise OpError(f"{self.name} has no {dtype} kernel (supported: {have})") from None
