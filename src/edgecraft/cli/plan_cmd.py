"""``edgecraft plan MODEL``: the arena plan, algorithms side by side, RAM by part, a plot."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from edgecraft.cli.common import FORMAT_OPTION, Format, UserError, console, output_file, print_json
from edgecraft.formats import read_model
from edgecraft.ir.graph import Graph
from edgecraft.plan import ALGORITHMS, DEFAULT_ALGORITHM, MemoryPlan, PlanError, lower_bound, plan_memory
from edgecraft.plan.accounting import persistent_bytes, ram_parts


def describe_plan(graph: Graph, algorithm: str, alignment: int,
                  kernels: str = "portable") -> tuple[MemoryPlan, dict[str, Any]]:
    """The plan and everything ``plan`` reports about it, as plain data; ``kernels`` is the C
    kernel variant whose scratch buffers are planned ("portable" or "dsp")."""
    try:
        plans = {a: plan_memory(graph, a, alignment, kernels=kernels) for a in ALGORITHMS}
    except PlanError as e:
        raise UserError(str(e)) from None
    if algorithm not in plans:
        raise UserError(f"unknown algorithm {algorithm!r}; choose one of: {', '.join(ALGORITHMS)}")
    plan = plans[algorithm]
    parts = ram_parts(graph, plan)
    tensors = [{
        "kind": b.kind, "index": b.index,
        "name": graph.tensors[b.index].name if b.kind == "tensor" else f"scratch of op {b.index}",
        "offset": b.offset, "size": b.size, "first": b.first, "last": b.last, "alias_of": b.alias_of,
    } for b in plan.buffers]
    info = {
        "model": graph.name,
        "algorithm": plan.algorithm,
        "kernels": kernels,
        "alignment": plan.alignment,
        "arena_bytes": plan.arena_bytes,
        "lower_bound_bytes": plan.lower_bound_bytes,
        "graph_order_lower_bound_bytes": lower_bound(graph, alignment),
        "optimal": plan.optimal,
        "persistent_bytes": persistent_bytes(parts),
        "ram_bytes": sum(parts.values()),
        "ram_parts": parts,
        "order": plan.order,
        "tensors": tensors,
        "overlaps": [{"input": k, "output": o, "max_offset_delta": d} for k, o, d in plan.overlaps],
        "scratch_overlaps": [{"input": k, "op": j, "max_offset_delta": d}
                             for k, j, d in plan.scratch_overlaps],
        "patches": [{"ops": list(p.ops), "banded": [p.y, p.z], "rows": p.rows} for p in plan.patches],
        "algorithms": [{"algorithm": a, "arena_bytes": p.arena_bytes,
                        "lower_bound_bytes": p.lower_bound_bytes, "ratio_to_bound": round(p.gap_ratio, 4),
                        "ratio_to_greedy": round(p.arena_bytes / max(plans["greedy"].arena_bytes, 1), 4)}
                       for a, p in plans.items()],
    }
    return plan, info


def plan(
    model: Annotated[Path, typer.Argument(help="A .tflite model file.", show_default=False)],
    algorithm: Annotated[str, typer.Option("--algorithm", "-a",
                                           help=f"One of: {', '.join(ALGORITHMS)}.")] = DEFAULT_ALGORITHM,
    alignment: Annotated[int, typer.Option(help="Round every buffer up to this many bytes.")] = 16,
    plot: Annotated[Path | None, typer.Option(help="Draw the arena over time into this PNG file.")] = None,
    kernels: Annotated[str, typer.Option(help="C kernel variant whose scratch buffers are planned: portable "
                                         "(none) or dsp (what `build` plans for DSP cores).")] = "portable",
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Plan MODEL's activation arena and show where every tensor lives and for how long."""
    if algorithm not in ALGORITHMS:
        raise UserError(f"unknown algorithm {algorithm!r}; choose one of: {', '.join(ALGORITHMS)}")
    if plot is not None and plot.suffix.lower() != ".png":
        raise UserError(f"--plot writes a PNG image: give a file name ending in .png, not {plot.name!r}")
    output_file(plot, "--plot")
    graph = read_model(model)
    memory_plan, info = describe_plan(graph, algorithm, alignment, kernels)
    if plot is not None:
        from edgecraft.plan.plot import plot_plan

        info["plot"] = str(plot_plan(memory_plan, graph, plot, title=model.name))
    if fmt is Format.json:
        print_json(info)
        return
    title = f"{model.name}: {info['algorithm']} plan, alignment {alignment}"
    table = Table(title=title, title_justify="left")
    for col in ("step", "op", "tensor", "offset", "size", "alias of"):
        table.add_column(col, justify="right" if col in ("step", "offset", "size") else "left")
    for t in info["tensors"]:
        op = graph.operators[memory_plan.order[t["first"]]].type if memory_plan.order else "-"
        table.add_row(f"{t['first']}-{t['last']}", op, t["name"][-40:], f"{t['offset']:,}", f"{t['size']:,}",
                      "" if t["alias_of"] is None else graph.tensors[t["alias_of"]].name[-30:])
    console.print(table)
    for a in info["algorithms"]:
        console.print(f"{a['algorithm']:8} arena {a['arena_bytes']:>10,} B   lower bound "
                      f"{a['lower_bound_bytes']:>10,} B   x{a['ratio_to_greedy']:.3f} of greedy")
    parts = ", ".join(f"{k} {v:,}" for k, v in info["ram_parts"].items())
    console.print(f"RAM {info['ram_bytes']:,} B ({parts})")
    if "plot" in info:
        console.print(f"plot written to {info['plot']}")
