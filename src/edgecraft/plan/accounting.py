"""RAM a model needs on a device, by part: the planned arena plus what persists beside it.

The persistent part models a TFLM-like runtime on a 32-bit core:

- ``quant_multipliers``: the fixed-point output multiplier and shift (two int32) of each of an
  op's ``OpDef.requant_channels`` (every output channel of CONV_2D and DEPTHWISE_CONV_2D, every
  filter scale of FULLY_CONNECTED), computed at init time and kept in RAM as TFLM does;
- ``op_state``: each op's prepared data (zero points, activation range, multipliers of ADD and
  the like), ``OpDef.state_bytes``;
- ``state_tensors``: the state (variable) tensors an LSTM keeps between invocations, which TFLM
  allocates persistently outside its planned arena (and the generated C as static arrays);
- ``runtime_structs``: one 12-byte tensor record (data pointer, dims pointer, type) per tensor
  and one 48-byte node record (input/output lists, builtin parameters, registration) per op.

Graph inputs and outputs live in the arena (as in TFLM), so ``io_buffers`` is 0. The struct and
state sizes are rounded from TFLM's 32-bit layouts: a modelled figure, not a measured one.

:func:`itemize_ram` is the one shape every command reports RAM in (``build``, ``emulate`` and
``profile``: a ``ram`` object whose parts sum to ``ram_bytes``): the arena (activations, graph
inputs and outputs, and kernel scratch planned together), kernel scratch outside the arena,
persistent state, the peak stack of one inference, and the caller's input and output buffers.
"""

from __future__ import annotations

from typing import Any

from edgecraft.ir.graph import Graph
from edgecraft.ops.base import OpContext
from edgecraft.ops.registry import get_op
from edgecraft.plan.planner import MemoryPlan

TENSOR_RECORD_BYTES = 12
NODE_RECORD_BYTES = 48


def multiplier_bytes(graph: Graph) -> int:
    """Bytes of per-channel (or per-tensor) output multipliers and shifts kept in RAM."""
    return 8 * sum(get_op(op.type).requant_channels(OpContext(op, graph)) for op in graph.operators)


def ram_parts(graph: Graph, plan: MemoryPlan) -> dict[str, int]:
    """RAM by part (bytes): arena, quant_multipliers, op_state, state_tensors, runtime_structs,
    io_buffers."""
    return {
        "arena": plan.arena_bytes,
        "quant_multipliers": multiplier_bytes(graph),
        "op_state": sum(get_op(op.type).state_bytes for op in graph.operators),
        "state_tensors": sum(-(-t.nbytes // 16) * 16 for t in graph.tensors if t.variable),
        "runtime_structs": (TENSOR_RECORD_BYTES * len(graph.tensors)
                            + NODE_RECORD_BYTES * len(graph.operators)),
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
