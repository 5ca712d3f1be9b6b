"""``edgecraft profile MODEL --target BOARD``: fit, RAM and flash by part, latency and energy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from edgecraft.cli.common import FORMAT_OPTION, Format, UserError, console, print_json
from edgecraft.emulate import EmulateError, emulate
from edgecraft.emulate.runner import EmulationResult
from edgecraft.formats import read_model
from edgecraft.ir.graph import Graph
from edgecraft.plan import ALGORITHMS, DEFAULT_ALGORITHM
from edgecraft.targets import Board, UnknownBoardError, board_slugs, get_board
from edgecraft.targets import profile as profile_model
from edgecraft.targets.cycles import core_model, has_cycle_model
from edgecraft.targets.profiling import RUNTIMES


def emulated_runs(graph: Graph, boards: list[Board]) -> dict[str, EmulationResult | str]:
    """One inference (a seeded random input) on the QEMU machine of each board's core, one run
    per machine (instruction classes, peak stack); a string says why a board has none (not a
    Cortex-M core, or the model does not fit the emulated machine)."""
    inputs = [np.random.default_rng(0).integers(-128, 128, (1, *t.shape)).astype(t.np_dtype)
              for t in graph.input_tensors()]
    runs: dict[str, EmulationResult | str] = {}
    out: dict[str, EmulationResult | str] = {}
    for b in boards:
        if not has_cycle_model(b):
            out[b.slug] = f"no cycle model for {b.core}"
            continue
        machine = core_model(b.core).machine
        if machine not in runs:
            try:
                runs[machine] = emulate(graph, machine, inputs, name="profile")
            except EmulateError as e:
                runs[machine] = f"not emulated on {machine}: {str(e).split(';')[0]}"
        out[b.slug] = runs[machine]
    return out


def _kib(n: int) -> str:
    return f"{n / 1024:,.1f}"


def _show_one(p: dict[str, Any], model_name: str) -> None:
    est = p["estimates"]
    verdict = "[green]fits[/green]" if p["fits"] else "[red]does NOT fit[/red]"
    console.print(f"{model_name} on {p['board_name']} ({p['core']}, {p['clock_mhz']:g} MHz), "
                  f"{p['runtime']} runtime: {verdict}")
    table = Table(show_header=True, title_justify="left")
    for col in ("memory", "part", "bytes"):
        table.add_column(col, justify="right" if col == "bytes" else "left")
    for memory in ("ram", "flash"):
        for part, n in p["parts"][memory].items():
            table.add_row(memory.upper(), part, f"{n:,}")
        need = p[f"{memory}_bytes"]
        cap = p["capacity"][f"{memory}_bytes"]
        margin = p["margins"][memory + "_pct"]
        table.add_row(memory.upper(), f"total (of {cap:,}; margin {margin}%)", f"{need:,}")
    console.print(table)
    energy = "n/a" if p["energy_uj"] is None else \
        f"{p['energy_uj']:,.1f} uJ (estimate, +-{est['energy_error_pct']}%)"
    console.print(f"MACs {p['macs']:,}; latency {p['latency_ms']:,.2f} ms "
                  f"(estimate, +-{est['latency_error_pct']}%); energy {energy}")
    if p.get("energy_per_day_j") is not None:
        console.print(f"cycles {est['cycles']:,}; energy per day at one inference a second "
                      f"{p['energy_per_day_j']:,.3f} J (sleep in between)")
    console.print(f"[dim]{est['basis']}[/dim]")
    for c in p["culprits"]:
        where = f" at step {c['step']} ({c['op']})" if "step" in c else ""
        console.print(f"[red]culprit[/red] {c['kind']} {c['name'][-50:]}: {c['bytes']:,} B{where}")


def profile(
    model: Annotated[Path, typer.Argument(help="A .tflite model file.", show_default=False)],
    target: Annotated[str, typer.Option("--target", "-t",
                                        help="A board slug (see `edgecraft boards`) or all.")],
    algorithm: Annotated[str, typer.Option("--algorithm", "-a", help=f"Memory planner: one of "
                                           f"{', '.join(ALGORITHMS)}.")] = DEFAULT_ALGORITHM,
    runtime: Annotated[str, typer.Option(help="tflm (a TFLM-like interpreter: tables and structs in "
                                         "RAM) or edgecraft (the C `edgecraft build` generates).")] = "tflm",
    emulated: Annotated[bool, typer.Option("--emulate", help="Latency and energy from instruction classes "
                                           "counted on QEMU and the per-core cycle model, not the MAC fit.")]
    = False,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Will MODEL fit TARGET, and how fast and at what energy will it run there (estimates)."""
    if algorithm not in ALGORITHMS:
        raise UserError(f"unknown algorithm {algorithm!r}; choose one of: {', '.join(ALGORITHMS)}")
    if runtime not in RUNTIMES:
        raise UserError(f"unknown runtime {runtime!r}; choose one of: {', '.join(RUNTIMES)}")
    slugs = board_slugs() if target == "all" else [target]
    try:
        boards = [get_board(s) for s in slugs]
    except UnknownBoardError as e:
        raise UserError(f"{e}, or all") from None
    graph = read_model(model)
    runs = emulated_runs(graph, boards) if emulated else {}
    results = []
    for b in boards:
        run = runs.get(b.slug)
        done = run if isinstance(run, EmulationResult) else None
        # the emulated stack is that of edgecraft's generated C, not of a TFLM interpreter
        stack = done.stack_bytes if done is not None and runtime == "edgecraft" else None
        where = f"painted stack of one inference on {done.target}" if done is not None else ""
        classes = done.classes if done is not None else None
        p = profile_model(graph, b, algorithm, runtime, classes, stack, where)
        if isinstance(run, str):
            p["estimates"]["basis"] += f"; no cycle estimate: {run}"
        results.append(p)
    if target != "all":
        if fmt is Format.json:
            print_json(results[0])
        else:
            _show_one(results[0], model.name)
        return
    if fmt is Format.json:
        print_json({"model": graph.name, "algorithm": algorithm, "runtime": runtime, "profiles": results})
        return
    title = f"{model.name} on every board (latency and energy are estimates)"
    table = Table(title=title, title_justify="left")
    for col in ("board", "fits", "RAM KiB", "RAM margin", "flash KiB", "latency ms", "+-%", "energy uJ",
                "J/day at 1/s", "basis"):
        table.add_column(col, justify="left" if col in ("board", "fits", "basis") else "right")
    for p in results:
        day = p.get("energy_per_day_j")
        table.add_row(p["board"], "yes" if p["fits"] else "[red]no[/red]", _kib(p["ram_bytes"]),
                      f"{p['margins']['ram_pct']}%", _kib(p["flash_bytes"]), f"{p['latency_ms']:,.2f}",
                      str(p["estimates"]["latency_error_pct"]),
                      "-" if p["energy_uj"] is None else f"{p['energy_uj']:,.1f}",
                      "-" if day is None else f"{day:,.3f}",
                      "cycles" if p["estimates"].get("cycle_model") else "MAC fit")
    console.print(table)
