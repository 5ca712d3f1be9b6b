"""RAM a model needs on a device, by part: the planned arena plus what persists beside it.

The persistent part models a TFLM-like runtime on a 32-bit core:

- ``quant_multipliers``: the fixed-point output multiplier and shift (two int32) of every output
  channel of CONV_2D and DEPTHWISE_CONV_2D, and of FULLY_CONNECTED with per-channel weights (one
  pair for per-tensor ones), computed at init time and kept in RAM as TFLM does;
- ``op_state``: each op's prepared data (zero points, activation range, multipliers of ADD and
  the like), ``OP_STATE_BYTES`` by op type;
- ``runtime_structs``: one 12-byte tensor record (data pointer, dims pointer, type) per tensor
  and one 48-byte node record (input/output lists, builtin parameters, registration) per op.

Graph inputs and outputs live in the arena (as in TFLM), so ``io_buffers`` is 0. The struct and
state sizes are rounded from TFLM's 32-bit layouts: a modelled figure, not a measured one.
"""

from __future__ import annotations

from typing import Any

from edgecraft.ir.graph import Graph
from edgecraft.plan.planner import MemoryPlan

TENSOR_RECORD_BYTES = 12
NODE_RECORD_BYTES = 48
#: Prepared per-op data (bytes) beyond the per-channel tables.
OP_STATE_BYTES: dict[str, int] = {
    "CONV_2D": 40, "DEPTHWISE_CONV_2D": 40, "FULLY_CONNECTED": 32, "ADD": 56, "SUB": 56, "MUL": 32,
    "AVERAGE_POOL_2D": 16, "MAX_POOL_2D": 16, "SOFTMAX": 24, "LOGISTIC": 24, "TANH": 24,
    "QUANTIZE": 16, "DEQUANTIZE": 16, "LEAKY_RELU": 24, "HARD_SWISH": 32, "CONCATENATION": 16,
    "MEAN": 24, "RELU": 16, "RELU6": 16, "PAD": 8, "STRIDED_SLICE": 40, "TRANSPOSE": 8,
}
PER_CHANNEL_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D"})


def multiplier_bytes(graph: Graph) -> int:
    """Bytes of per-channel (or per-tensor) output multipliers and shifts kept in RAM."""
    total = 0
    for op in graph.operators:
        if op.type in PER_CHANNEL_OPS:
            total += 8 * graph.tensors[op.outputs[0]].shape[-1]
        elif op.type == "FULLY_CONNECTED" and len(op.inputs) > 1 and op.inputs[1] >= 0:
            q = graph.tensors[op.inputs[1]].quant
            total += 8 * (len(q.scale) if q is not None else 1)
    return total


def ram_parts(graph: Graph, plan: MemoryPlan) -> dict[str, int]:
    """RAM by part (bytes): arena, quant_multipliers, op_state, runtime_structs, io_buffers."""
    return {
        "arena": plan.arena_bytes,
        "quant_multipliers": multiplier_bytes(graph),
        "op_state": sum(OP_STATE_BYTES.get(op.type, 0) for op in graph.operators),
        "runtime_structs": (TENSOR_RECORD_BYTES * len(graph.tensors)
                            + NODE_RECORD_BYTES * len(graph.operators)),
        "io_buffers": 0,
    }


def persistent_bytes(parts: dict[str, Any]) -> int:
    """The parts that persist beside the arena."""
    return int(parts["quant_multipliers"] + parts["op_state"] + parts["runtime_structs"])
