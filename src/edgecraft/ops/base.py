"""What an op is: the record each file under ``ops/`` exports as ``OP``.

An op file holds, for one TFLite builtin: its shape rule, its reference kernels (one per input
dtype: naive, readable, bit-exact with TensorFlow Lite Micro for integers), its cost, and (for
code generation) its C emitter entry. :mod:`edgecraft.ops.registry` lists them all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
#: Bytes of temporary memory one kernel variant needs while the operator runs.
ScratchRule = Callable[[OpContext], int]

#: The C kernel variants: ``portable`` (any C99 compiler) and ``dsp`` (Armv7E-M DSP
#: instructions). The Python reference kernels need no scratch.
KERNEL_VARIANTS: tuple[str, ...] = ("portable", "dsp")


def default_cost(ctx: OpContext) -> Cost:
    """No arithmetic worth counting; reads every input once and writes every output once."""
    read = sum(t.nbytes for i in range(ctx.num_inputs) if (t := ctx.input(i)) is not None)
    written = sum(ctx.graph.tensors[k].nbytes for k in ctx.op.outputs)
    return Cost(0, read, written)


@dataclass(frozen=True)
class OpDef:
    """One op: name, shape rule, kernels keyed by the dtype of input 0, cost, scratch need, and
    whether its int8 kernel may be evaluated as a table (see ``lookup``).

    ``scratch`` maps a C kernel variant (see ``KERNEL_VARIANTS``) to the bytes of temporary
    memory that kernel needs while the operator runs (for example a patch buffer); the memory
    planner places it in the arena and the code generator passes the kernel a pointer to it.
    A variant missing from the mapping needs none.
    """

    name: str
    shape: ShapeRule
    kernels: dict[str, Kernel]
    cost: CostRule = default_cost
    scratch: Mapping[str, ScratchRule] = field(default_factory=dict)
    #: The output element depends on the input element alone (unary, elementwise, no state):
    #: the runtime may evaluate an int8 kernel once per possible input value and look it up.
    lookup: bool = False

    def scratch_bytes(self, ctx: OpContext, variant: str) -> int:
        """Scratch bytes the ``variant`` C kernel needs for this operator (0: none)."""
        if variant not in KERNEL_VARIANTS:
            raise OpError(f"unknown kernel variant {variant!r}; choose one of: {', '.join(KERNEL_VARIANTS)}")
        rule = self.scratch.get(variant)
        return int(rule(ctx)) if rule is not None else 0

    def kernel_for(self, ctx: OpContext) -> Kernel:
        """The kernel for this operator's input dtype; :class:`OpError` if there is none."""
        first = ctx.input(0)
        dtype = first.dtype if first is not None else "float32"
        try:
            return self.kernels[dtype]
        except KeyError:
            have = ", ".join(sorted(self.kernels))
            raise OpError(f"{self.name} has no {dtype} kernel (supported: {have})") from None
