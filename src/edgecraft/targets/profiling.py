"""``profile(graph, board)``: will the model fit, and how fast and how costly will it run there.

RAM is exact for the arena (the memory plan) plus the modelled persistent part
(:mod:`edgecraft.plan.accounting`); flash is the weights and quantization tables (exact) plus an
estimate of the code; latency and energy are estimates from :mod:`edgecraft.targets.costmodel`,
each with its expected error.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from edgecraft.ir.graph import Graph
from edgecraft.ops.base import OpContext
from edgecraft.ops.quick import quick_layer
from edgecraft.ops.registry import get_op, graph_macs
from edgecraft.plan import DEFAULT_ALGORITHM, MemoryPlan, plan_memory
from edgecraft.plan.accounting import (
    io_buffer_bytes,
    itemize_ram,
    model_graphs,
    multiplier_bytes,
    persistent_bytes,
    ram_parts,
)
from edgecraft.targets.catalog import Board, get_board
from edgecraft.targets.costmodel import estimate, work_features
from edgecraft.targets.cycles import cycle_profile_estimate

RUNTIMES = ("tflm", "edgecraft")
#: One kernel of unknown size, for estimates made before there is a graph (``optimize/fit.py``).
DEFAULT_KERNEL_CODE_BYTES = 600
#: Generated model function and shared requantize helper, and each op's parameter block + call.
MODEL_CODE_BYTES, PER_OP_CODE_BYTES = 420, 80
#: TFLM's interpreter, allocator, op resolver and flatbuffer reader: an assumption (+-50%).
TFLM_FRAMEWORK_CODE_BYTES = 20 * 1024
CODE_ERROR_PCT = {"edgecraft": 15, "tflm": 50}


@cache
def kernel_file_bytes() -> dict[str, int]:
    """Measured flash of each C kernel file (``kernel_code_bytes.json``; re-measure with
    ``python scripts/measure_kernel_sizes.py``)."""
    data = json.loads(resources.files("edgecraft.targets").joinpath("kernel_code_bytes.json").read_text())
    return {str(k): int(v) for k, v in data["bytes"].items()}


def kernel_code_bytes(graph: Graph, dsp: bool = True) -> int:
    """Flash of the distinct C kernel files the graph's ops name (``OpDef.code``) plus the
    generated model code, with the DSP kernel variants or (``dsp=False``) the portable ones; of
    a convolution's general and quick DSP files, the one its layer links (``ops/quick.py``)."""
    variant = "dsp" if dsp else "portable"
    ops = [(op, g) for g in model_graphs(graph) for op in g.operators]
    files: set[str] = set()
    for op, g in ops:
        names = get_op(op.type).code_files(variant)
        quick = {f for f in names if f.endswith("_quick_dsp.c")}
        if quick:  # the general and the quick kernel are alternatives: the layer links one
            names = tuple(sorted(quick)) if quick_layer(OpContext(op, g)) else tuple(set(names) - quick)
        files.update(names)
    sizes = kernel_file_bytes()
    return MODEL_CODE_BYTES + PER_OP_CODE_BYTES * len(ops) + sum(sizes[f] for f in files)


def flash_parts(graph: Graph, runtime: str = "tflm", dsp: bool = True) -> dict[str, int]:
    """Flash by part (bytes): ``weights``, ``quant_params`` and ``code_estimate``.

    ``tflm``: the .tflite's per-channel scale and zero point (8 bytes each) and TFLM's framework
    code; ``edgecraft``: the generated requantization tables (multiplier and shift per output
    channel, in flash) and only the kernels and model function (checked against the ELF).
    """
    tensors = [t for g in model_graphs(graph) for t in g.tensors]
    weights = sum(t.nbytes for t in tensors if t.is_constant)
    code = kernel_code_bytes(graph, dsp)
    if runtime == "edgecraft":
        return {"weights": weights, "quant_params": multiplier_bytes(graph), "code_estimate": code}
    qparams = sum(8 * len(t.quant.scale) for t in tensors if t.quant is not None)
    return {"weights": weights, "quant_params": qparams, "code_estimate": code + TFLM_FRAMEWORK_CODE_BYTES}


def runtime_ram_parts(graph: Graph, plan: MemoryPlan, runtime: str = "tflm") -> dict[str, int]:
    """RAM by part: TFLM-like (see :mod:`edgecraft.plan.accounting`) or edgecraft's generated C,
    which keeps the arena (kernel scratch included) in RAM, its tables const in flash, and takes
    inputs and outputs in the arena (``io_buffers`` none: see ``io_buffer_bytes``)."""
    parts = ram_parts(graph, plan)
    if runtime == "edgecraft":
        kept = ("arena", "subgraph_arenas", "state_tensors")
        parts = {k: (v if k in kept else 0) for k, v in parts.items()}
        parts["io_buffers"] = io_buffer_bytes(graph)
    return parts


def ram_items(graph: Graph, plan: MemoryPlan, runtime: str = "tflm", stack_bytes: int | None = None,
              stack_from: str = "") -> dict[str, Any]:
    """The itemized ``ram`` object (:func:`edgecraft.plan.accounting.itemize_ram`) of ``graph``
    under ``plan`` for ``runtime``; ``stack_bytes`` measured elsewhere (``stack_from`` says
    where), else the stack is not counted and the basis says so."""
    parts = runtime_ram_parts(graph, plan, runtime)
    scratch = [b.size for b in plan.buffers if b.kind == "scratch"]
    in_arena = f"largest kernel scratch {max(scratch):,} B, planned in it" if scratch else "no kernel scratch"
    others = parts["subgraph_arenas"]
    basis = {
        "arena": f"memory plan '{plan.algorithm}' ({in_arena})"
        + (f", plus {others:,} B of the other subgraphs' activations" if others else ""),
        "persistent": "TFLM-like runtime: modelled from its 32-bit structs" if runtime == "tflm"
        else ("state tensors only: " if parts["state_tensors"] else "none: ")
        + "weights, tables and parameters are const (flash)",
        "stack": f"measured: {stack_from}" if stack_bytes is not None
        else "not measured (profile --emulate and emulate measure it on QEMU)",
    }
    return itemize_ram(parts["arena"] + others, 0, persistent_bytes(parts), stack_bytes or 0,
                       parts["io_buffers"], basis)


def _peak_culprits(graph: Graph, plan: MemoryPlan, limit: int = 5) -> list[dict[str, Any]]:
    """The buffers alive at the step where the plan needs the most memory, largest first."""
    groups: dict[tuple[str, int], list[int]] = {}  # alias group -> [size, first, last]
    for b in plan.buffers:
        key = ("tensor", b.alias_of if b.alias_of is not None else b.index) if b.kind == "tensor" \
            else ("scratch", b.index)
        g = groups.setdefault(key, [b.size, b.first, b.last])
        g[:] = [max(g[0], b.size), min(g[1], b.first), max(g[2], b.last)]
    steps = max(len(plan.order), 1)
    live = [sum(g[0] for g in groups.values() if g[1] <= s <= g[2]) for s in range(steps)]
    peak = max(range(steps), key=lambda s: live[s])
    alive = sorted(((g[0], key) for key, g in groups.items() if g[1] <= peak <= g[2]), reverse=True)
    op = graph.operators[plan.order[peak]].type if plan.order else "-"
    return [{
        "kind": "activation" if kind == "tensor" else "scratch",
        "name": graph.tensors[index].name if kind == "tensor" else f"scratch of op {index}",
        "bytes": size, "step": peak, "op": op,
    } for size, (kind, index) in alive[:limit]]


def _weight_culprits(graph: Graph, limit: int = 5) -> list[dict[str, Any]]:
    consts = sorted((t for t in graph.tensors if t.is_constant), key=lambda t: -t.nbytes)
    return [{"kind": "weights", "name": t.name, "bytes": t.nbytes} for t in consts[:limit]]


def profile(graph: Graph, board: Board | str, algorithm: str = DEFAULT_ALGORITHM,
            runtime: str = "tflm", classes: dict[str, int] | None = None,
            stack_bytes: int | None = None, stack_from: str = "") -> dict[str, Any]:
    """Fit and cost of ``graph`` on ``board`` (a :class:`Board` or slug), as a JSON-ready dict.

    ``runtime`` "tflm" (a TFLM-like interpreter: persistent tables and structs in RAM) or
    "edgecraft" (the C that ``edgecraft build`` generates: only the arena in RAM).

    Keys: ``board``, ``ram_bytes``, ``flash_bytes``, ``arena_bytes``, ``persistent_bytes``,
    ``macs``, ``latency_ms``, ``energy_uj``, ``fits``, ``parts`` (ram and flash by part),
    ``margins`` (capacity minus need; negative when over), ``estimates`` (errors and basis) and
    ``culprits`` (what to shrink when it does not fit: the activations alive at the arena's peak
    and/or the largest weights).

    ``classes``: instructions of one inference per class, counted on the emulated machine of
    the board's core (``edgecraft.emulate``); latency and energy then come from the cycle model
    (:mod:`edgecraft.targets.cycles`) instead of the MAC fit, and ``energy_per_day_j`` is added.

    ``ram`` itemizes ``ram_bytes`` (arena, scratch, persistent, stack, io_buffers); the stack
    counts when ``stack_bytes`` was measured (``stack_from`` says where). The edgecraft runtime
    is planned with the kernel variant the board runs (DSP scratch included in the arena).
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose one of: {', '.join(RUNTIMES)}")
    b = get_board(board) if isinstance(board, str) else board
    plan = plan_memory(graph, algorithm, kernels="dsp" if runtime == "edgecraft" and b.dsp else "portable")
    ram = {**runtime_ram_parts(graph, plan, runtime), "stack": stack_bytes or 0}
    items = ram_items(graph, plan, runtime, stack_bytes, stack_from)
    flash = flash_parts(graph, runtime, b.dsp)
    ram_total, flash_total = items["total"], sum(flash.values())
    feats = work_features(graph)
    est = estimate(feats, b) if classes is None else cycle_profile_estimate(classes, b)
    if any(t.dtype == "float32" for t in graph.tensors if not t.is_constant):
        est["basis"] += "; calibrated on int8 models, this one computes in float: expect it slower"
    ram_ok, flash_ok = ram_total <= b.sram_bytes, flash_total <= b.flash_bytes
    culprits: list[dict[str, Any]] = []
    if not ram_ok:
        culprits += _peak_culprits(graph, plan)
    if not flash_ok:
        culprits += _weight_culprits(graph)
    return {
        "board": b.slug,
        "board_name": b.name,
        "core": b.core,
        "clock_mhz": b.clock_mhz,
        "model": graph.name,
        "algorithm": plan.algorithm,
        "runtime": runtime,
        "arena_bytes": plan.arena_bytes,
        "persistent_bytes": persistent_bytes(ram),
        "ram_bytes": ram_total,
        "ram": items,
        "flash_bytes": flash_total,
        "macs": graph_macs(graph),
        "latency_ms": est["latency_ms"],
        "energy_uj": est["energy_uj"],
        "energy_per_day_j": est.get("energy_per_day_j"),
        "fits": ram_ok and flash_ok,
        "parts": {"ram": ram, "flash": flash},
        "capacity": {"ram_bytes": b.sram_bytes, "flash_bytes": b.flash_bytes},
        "margins": {
            "ram_bytes": b.sram_bytes - ram_total,
            "flash_bytes": b.flash_bytes - flash_total,
            "ram_pct": round(100 * (b.sram_bytes - ram_total) / b.sram_bytes, 1),
            "flash_pct": round(100 * (b.flash_bytes - flash_total) / b.flash_bytes, 1),
        },
        "estimates": {
            "latency_error_pct": est["latency_error_pct"],
            "energy_error_pct": est["energy_error_pct"],
            "code_error_pct": CODE_ERROR_PCT[runtime],
            "cycles": est["cycles"],
            "basis": est["basis"],
            "emulated": b.emulated,
            "cycle_model": est.get("cycle_estimate"),
        },
        "culprits": culprits,
    }
