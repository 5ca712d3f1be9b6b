"""RAM a model needs on a device, by part: the planned arena plus what persists beside it.

The persistent part models a TFLM-like runtime on a 32-bit core:

- ``quant_multipliers``: the fixed-point output multiplier and shift (two int32) of each of an
  op's ``OpDef.requant_channels`` (every output channel of CONV_2D and DEPTHWISE_CONV_2D, every
  filter scale of FULLY_CONNECTED), computed at init time and kept in RAM as TFLM does;
- ``op_state``: each op's prepared data (zero points, activation range, multipliers of ADD and
  the like), ``OpDef.state_bytes``;
- ``state_tensors``: the state (variable) tensors an LSTM keeps between invocations, which TFLM
  allocates persistently outside its planned arena (and the generated C as static arrays), and
  the resource variables of VAR_HANDLE / ASSIGN_VARIABLE (TFLM's ``MicroResourceVariables``,
  sized in its Prepare step);
- ``runtime_structs``: one 12-byte tensor record (data pointer, dims pointer, type) per tensor
  and one 48-byte node record (input/output lists, builtin parameters, registration) per op.

Every subgraph of the model counts, not only the main one: the persistent parts over all of
them, and ``subgraph_arenas``, the activations of the others (CALL_ONCE, IF and WHILE bodies),
each planned on its own as the Python runtime runs them (TFLM nests them in one arena, at most
this much more than the main plan). Graph inputs and outputs live in the arena (as in TFLM), so
``io_buffers`` is 0. The struct and
state sizes are rounded from TFLM's 32-bit layouts: a modelled figure, not a measured one.

:func:`itemize_ram` is the one shape every command reports RAM in (``build``, ``emulate`` and
``profile``: a ``ram`` object whose parts sum to ``ram_bytes``): the arena (activations, graph
inputs and outputs, and kernel scratch planned together), kernel scratch outside the arena,
persistent state, the peak stack of one inference, and the caller's input and output buffers.
"""

from __future__ import annotations

from typing import Any, cast

from edgecraft.ir.graph import Graph, Tensor
from edgecraft.ops.base import OpContext
from edgecraft.ops.registry import get_op
from edgecraft.ops.subgraph import ModelRuntime, prepare_resources
from edgecraft.plan.planner import MemoryPlan, plan_memory

TENSOR_RECORD_BYTES = 12
NODE_RECORD_BYTES = 48


def model_graphs(graph: Graph) -> list[Graph]:
    """The model's subgraphs: the main one, then the others."""
    return [graph, *graph.subgraphs]


def multiplier_bytes(graph: Graph) -> int:
    """Bytes of per-channel (or per-tensor) output multipliers and shifts kept in RAM."""
    return 8 * sum(get_op(op.type).requant_channels(OpContext(op, g))
                   for g in model_graphs(graph) for op in g.operators)


class _ResourceSizes:
    """The part of a :class:`~edgecraft.ops.subgraph.ModelRuntime` that TFLM's Prepare step
    uses: resource ids by name (as the interpreter's ``ModelState`` matches them) and sizes."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str], int] = {}
        self.sizes: list[int] = []

    def handle(self, container: str, shared_name: str) -> int:
        for (c, name), rid in self.ids.items():
            if name == shared_name and (c == container or not container):
                return rid
        self.ids[(container, shared_name)] = len(self.sizes)
        self.sizes.append(0)
        return len(self.sizes) - 1

    def allocate(self, resource: int, value: Tensor) -> None:
        self.sizes[resource] = self.sizes[resource] or value.nbytes


def resource_bytes(graph: Graph) -> list[int]:
    """Bytes of each resource variable the model's ASSIGN_VARIABLEs size when prepared."""
    sizes = _ResourceSizes()
    prepare_resources(graph, cast(ModelRuntime, sizes))
    return sizes.sizes


def ram_parts(graph: Graph, plan: MemoryPlan) -> dict[str, int]:
    """RAM by part (bytes): arena (``plan``, the main subgraph's), subgraph_arenas,
    quant_multipliers, op_state, state_tensors, runtime_structs, io_buffers."""
    graphs = model_graphs(graph)
    tensors = [t for g in graphs for t in g.tensors]
    ops = [op for g in graphs for op in g.operators]
    states = [t.nbytes for t in tensors if t.variable] + resource_bytes(graph)
    return {
        "arena": plan.arena_bytes,
        "subgraph_arenas": sum(plan_memory(g, plan.algorithm, plan.alignment).arena_bytes
                               for g in graph.subgraphs),
        "quant_multipliers": multiplier_bytes(graph),
        "op_state": sum(get_op(op.type).state_bytes for op in ops),
        "state_tensors": sum(-(-n // 16) * 16 for n in states),
        "runtime_structs": TENSOR_RECORD_BYTES * len(tensors) + NODE_RECORD_BYTES * len(ops),
        "io_buffers": 0,
    }


def persistent_bytes(parts: dict[str, Any]) -> int:
    """The parts that persist beside the arena."""
    return int(parts["quant_multipliers"] + parts["op_state"] + parts["state_tensors"]
               + parts["runtime_structs"])


#: The parts of :func:`itemize_ram`, in the order tables show them.
RAM_ITEMS: tuple[str, ...] = ("arena", "scratch", "persistent", "stack", "io_buffers")


#: How edgecraft's generated C takes its inputs and outputs (the basis of ``io_buffers``).
IO_BASIS = ("none: inputs are written and outputs read in the arena (<name>_input_buffer, "
            "<name>_output_buffer); buffers of the caller's own add their size")


def io_buffer_bytes(graph: Graph, copying: bool = False) -> int:
    """Bytes of input and output buffers outside the arena for edgecraft's generated C: none
    when the caller fills the inputs and reads the outputs in place through
    ``<name>_input_buffer``/``<name>_output_buffer`` (as the QEMU harness does), else
    (``copying``: its own buffers passed to ``invoke``, which copies) their sizes."""
    if not copying:
        return 0
    return sum(t.nbytes for t in graph.input_tensors()) + sum(t.nbytes for t in graph.output_tensors())


def itemize_ram(arena: int, scratch: int = 0, persistent: int = 0, stack: int = 0, io_buffers: int = 0,
                basis: dict[str, str] | None = None) -> dict[str, Any]:
    """RAM as the sum of every part, for JSON: ``RAM_ITEMS`` in bytes, ``total`` (their sum) and
    ``basis`` (how each part was obtained, where it is worth saying).

    ``arena``: the planned arena, kernel scratch included when the plan places it there;
    ``scratch``: kernel scratch outside the arena; ``persistent``: state kept beside the arena;
    ``stack``: peak stack of one inference (0 when not measured: ``basis`` says so);
    ``io_buffers``: input and output buffers outside the arena."""
    items = {"arena": arena, "scratch": scratch, "persistent": persistent, "stack": stack,
             "io_buffers": io_buffers}
    return {**items, "total": sum(items.values()), "basis": dict(basis or {})}
