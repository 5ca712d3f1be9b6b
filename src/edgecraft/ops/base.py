"""What an op is: the record each file under ``ops/`` exports as ``OP``.

An op file holds, for one TFLite builtin, everything the rest of edgecraft knows about it: its
shape rule, its reference kernels (one per input dtype: naive, readable, bit-exact with
TensorFlow Lite Micro for integers), its cost and cost-model class, what the memory planner may
do with it (view, in place, windowed overlap), the scratch memory and C kernel files of each C
kernel variant, what a TFLM-like runtime keeps for it in RAM, a fixed output quantization, and
how its .tflite builtin options map to attributes. Planner, profiler, cost model, reader and
writer and code generator read this record; none keeps a list of ops of its own (the C text of
each op is a table in ``codegen/ops_c.py``). :mod:`edgecraft.ops.registry` lists the ops.
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

#: The C kernel variants: ``portable`` (any C99 compiler), ``dsp`` (Armv7E-M DSP
#: instructions) and ``mve`` (Armv8.1-M Helium, Cortex-M55/M85; an op without an ``mve``
#: kernel uses its ``dsp`` one). The Python reference kernels need no scratch.
KERNEL_VARIANTS: tuple[str, ...] = ("portable", "dsp", "mve")


#: Cost-model work classes (see :mod:`edgecraft.targets.costmodel`): MACs of each class cost
#: differently per MAC; ``other`` is everything that is not a convolution or a matrix product.
WORK_CLASSES: tuple[str, ...] = ("conv", "depthwise", "fc", "other")


@dataclass(frozen=True)
class Window:
    """A windowed op's receptive field on its first input: filter height and width, and whether
    the op's dilation factors stretch it (convolutions) or not (pools)."""

    height: int
    width: int
    dilated: bool


@dataclass(frozen=True)
class Options:
    """How the op's TFLite builtin options map to IR attributes: the options table's name (None:
    the op has none) and its fields as ``(attr, Field, kind)``, where ``Field`` is the CamelCase
    flatbuffer name (accessor ``opts.Field()``, builder ``<Table>Add<Field>``) and ``kind`` says
    how to convert (``int``, ``bool``, ``float``, ``ints``, ``padding``, ``activation``)."""

    table: str | None = None
    fields: tuple[tuple[str, str, str], ...] = ()


def no_channels(ctx: OpContext) -> int:
    """No output multipliers kept at run time."""
    return 0


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
    #: Which cost-model class its MACs count in (``WORK_CLASSES``).
    work_class: str = "other"
    #: The output holds the bytes of input 0 unchanged (RESHAPE, SQUEEZE): the planner makes it
    #: a view of that input and the generated C copies nothing.
    view: bool = False
    #: Elementwise (output element i depends on input element i only): the output may be
    #: written over an input of the same shape and dtype that dies at this op.
    inplace: bool = False
    #: For ops computing output pixels in row-major order, each from a window of input rows:
    #: the window, from which the planner works out how far the output may overlap its dying
    #: input (:mod:`edgecraft.plan.overlap`). None: no overlap.
    window: Callable[[OpContext], Window] | None = None
    #: Per C kernel variant: how far below its first input (bytes) the op's scratch may start
    #: and overlap that input when it dies at this op (the kernel reads each input byte before
    #: it writes the scratch that far above it); None: no overlap. See :mod:`edgecraft.plan.overlap`.
    scratch_below_input: Mapping[str, Callable[[OpContext], int | None]] = field(default_factory=dict)
    #: C kernel variants that compute the same bytes without their scratch (an entry point the
    #: generator calls when the plan gives the op none, a little slower): the planner drops such
    #: a scratch where it would raise the arena above the model's live-tensor peak.
    scratch_optional: frozenset[str] = frozenset()
    #: C kernel files (under ``codegen/kernels/``) the op's generated C calls, per kernel
    #: variant; a variant not listed uses the ``portable`` files. Their measured sizes
    #: (``targets/kernel_code_bytes.json``) are the op's code size.
    code: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Output channels whose requantization multiplier and shift (two int32) a TFLM-like
    #: runtime computes at init and keeps in RAM (edgecraft's C keeps them in flash).
    requant_channels: Callable[[OpContext], int] = no_channels
    #: Other prepared data (zero points, ranges, multipliers of ADD...) a TFLM-like runtime keeps
    #: per operator, in bytes rounded from TFLM's 32-bit OpData structs (a modelled figure).
    state_bytes: int = 0
    #: The (scale, zero point) TFLM's int8 kernel requires of the output, when the op fixes it.
    fixed_output: tuple[float, int] | None = None
    #: The same for the int16 kernel (16x8 models), when the op fixes it.
    fixed_output_int16: tuple[float, int] | None = None
    #: The input holding the bias, scaled by input scale times weight scale (convolutions,
    #: fully connected); its weights are input 1 and its data ``dtype_input``. None: no bias.
    bias_input: int | None = None
    #: The int8 kernel moves or compares values without rescaling: its output (and every
    #: input) carries the input's scale and zero point (TFLM requires it).
    shares_quant: bool = False
    #: The .tflite builtin options table and how its fields map to attributes.
    options: Options = Options()
    #: Inputs the op updates in place (TFLM variable tensors: an LSTM's hidden and cell state).
    #: Its kernels return the new value of each after the outputs; the runtime writes them back
    #: into the state tensors, which keep them until the next invocation.
    state_inputs: tuple[int, ...] = ()
    #: The input whose dtype selects the kernel (``kernels`` is keyed by it): 0 unless the
    #: data comes later (TRANSPOSE_CONV's input 0 is the output shape).
    dtype_input: int = 0
    #: Reads or writes what its tensors do not show (resource variables, other subgraphs): the
    #: planner keeps such operators in the model's relative order.
    side_effects: bool = False

    def scratch_bytes(self, ctx: OpContext, variant: str) -> int:
        """Scratch bytes the ``variant`` C kernel needs for this operator (0: none)."""
        if variant not in KERNEL_VARIANTS:
            raise OpError(f"unknown kernel variant {variant!r}; choose one of: {', '.join(KERNEL_VARIANTS)}")
        rule = self.scratch.get(self._own_variant(variant))
        return int(rule(ctx)) if rule is not None else 0

    def scratch_shift(self, ctx: OpContext, variant: str) -> int | None:
        """Bytes below input 0 the ``variant`` kernel's scratch may start, or None (see
        ``scratch_below_input``)."""
        rule = self.scratch_below_input.get(self._own_variant(variant))
        return rule(ctx) if rule is not None and self.scratch_bytes(ctx, variant) > 0 else None

    def _own_variant(self, variant: str) -> str:
        """``mve`` where the op has an MVE kernel, else its ``dsp`` one; others as given."""
        return "dsp" if variant == "mve" and "mve" not in self.code else variant

    def code_files(self, variant: str) -> tuple[str, ...]:
        """The C kernel files the ``variant`` build of this op compiles."""
        return tuple(self.code.get(self._own_variant(variant), self.code.get("portable", ())))

    def kernel_for(self, ctx: OpContext) -> Kernel:
        """The kernel for this operator's input dtype; :class:`OpError` if there is none."""
        first = ctx.input(self.dtype_input)
        dtype = first.dtype if first is not None else "float32"
        try:
            return self.kernels[dtype]
        except KeyError:
            have = ", ".join(sorted(self.kernels))
            raise OpError(f"{self.name} has no {dtype} kernel (supported: {have})") from None
