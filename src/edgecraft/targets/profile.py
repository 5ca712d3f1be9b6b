"""``profile(graph, board)``: will the model fit, and how fast and how costly will it run there.

RAM is exact for the arena (the memory plan) plus the modelled persistent part
(:mod:`edgecraft.plan.accounting`); flash is the weights and quantization tables (exact) plus an
estimate of the code; latency and energy are estimates from :mod:`edgecraft.targets.costmodel`,
each with its expected error.
"""

from __future__ import annotations

from typing import Any

from edgecraft.ir.graph import Graph
from edgecraft.plan import DEFAULT_ALGORITHM, MemoryPlan, plan_memory
from edgecraft.plan.accounting import persistent_bytes, ram_parts
from edgecraft.targets.catalog import Board, get_board
from edgecraft.targets.costmodel import estimate, work_features

#: Code size estimate (bytes) of each op's C kernel at -O2 for a 32-bit core, and of the rest
#: (startup, the generated model function, runtime helpers). An assumption to be replaced by
#: the sizes `edgecraft build` measures; +-50%.
KERNEL_CODE_BYTES: dict[str, int] = {
    "CONV_2D": 2500, "DEPTHWISE_CONV_2D": 2500, "FULLY_CONNECTED": 1200, "SOFTMAX": 1500,
    "AVERAGE_POOL_2D": 800, "MAX_POOL_2D": 700, "ADD": 1200, "SUB": 1200, "MUL": 900,
    "RESHAPE": 0, "SQUEEZE": 0,
}
DEFAULT_KERNEL_CODE_BYTES = 700
RUNTIME_CODE_BYTES = 4096
CODE_ERROR_PCT = 50


def flash_parts(graph: Graph) -> dict[str, int]:
    """Flash by part (bytes): weights, quant_params (scale + zero point per channel), code_estimate."""
    weights = sum(t.nbytes for t in graph.tensors if t.is_constant)
    qparams = sum(8 * len(t.quant.scale) for t in graph.tensors if t.quant is not None)
    kinds = {op.type for op in graph.operators}
    code = RUNTIME_CODE_BYTES + sum(KERNEL_CODE_BYTES.get(k, DEFAULT_KERNEL_CODE_BYTES) for k in kinds)
    return {"weights": weights, "quant_params": qparams, "code_estimate": code}


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


def profile(graph: Graph, board: Board | str, algorithm: str = DEFAULT_ALGORITHM) -> dict[str, Any]:
    """Fit and cost of ``graph`` on ``board`` (a :class:`Board` or slug), as a JSON-ready dict.

    Keys: ``board``, ``ram_bytes``, ``flash_bytes``, ``arena_bytes``, ``persistent_bytes``,
    ``macs``, ``latency_ms``, ``energy_uj``, ``fits``, ``parts`` (ram and flash by part),
    ``margins`` (capacity minus need; negative when over), ``estimates`` (errors and basis) and
    ``culprits`` (what to shrink when it does not fit: the activations alive at the arena's peak
    and/or the largest weights).
    """
    b = get_board(board) if isinstance(board, str) else board
    plan = plan_memory(graph, algorithm)
    ram = ram_parts(graph, plan)
    flash = flash_parts(graph)
    ram_total, flash_total = sum(ram.values()), sum(flash.values())
    feats = work_features(graph)
    est = estimate(feats, b)
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
        "arena_bytes": plan.arena_bytes,
        "persistent_bytes": persistent_bytes(ram),
        "ram_bytes": ram_total,
        "flash_bytes": flash_total,
        "macs": sum(feats[k] for k in ("conv_macs", "depthwise_macs", "fc_macs", "other_macs")),
        "latency_ms": est["latency_ms"],
        "energy_uj": est["energy_uj"],
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
            "code_error_pct": CODE_ERROR_PCT,
            "cycles": est["cycles"],
            "basis": est["basis"],
            "emulated": b.emulated,
        },
        "culprits": culprits,
    }
