"""``edgecraft build MODEL --target BOARD --out DIR``: a C project for that board."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from edgecraft.cli.common import (
    FORMAT_OPTION,
    Format,
    UserError,
    add_ram_rows,
    console,
    output_dir,
    print_json,
)
from edgecraft.codegen import CodegenError, GeneratedModel, generate
from edgecraft.codegen.project import write_project
from edgecraft.emulate.firmware import EmulateError, object_sizes
from edgecraft.emulate.machines import CORE_FLAGS, machine
from edgecraft.emulate.runner import emulate_generated
from edgecraft.formats import read_model
from edgecraft.plan import ALGORITHMS, DEFAULT_ALGORITHM
from edgecraft.plan.accounting import IO_BASIS, io_buffer_bytes, itemize_ram
from edgecraft.targets import Board, UnknownBoardError, get_board
from edgecraft.targets.cycles import core_model, has_cycle_model


def measure_stack(gen: GeneratedModel, board: Board, dsp: bool) -> tuple[int | None, str]:
    """Peak stack of one inference of the generated model on the QEMU machine of the board's
    core (zero inputs), and where it was measured; (None, why not) when it cannot be."""
    if not has_cycle_model(board):
        return None, f"not measured: no emulated machine for {board.core}"
    m = machine(core_model(board.core).machine)
    if dsp and not m.dsp:
        return None, f"not measured: {m.slug} has no DSP instructions"
    if gen.mve and not m.mve:
        return None, f"not measured: {m.slug} has no Helium (MVE) instructions"
    if not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")):
        return None, "not measured: arm-none-eabi-gcc and qemu-system-arm are needed"
    zeros = [np.zeros((1, *t.shape), t.np_dtype) for t in gen.inputs]
    try:
        run = emulate_generated(gen, m, zeros)
    except EmulateError as e:
        return None, f"not measured on {m.slug}: {str(e).split(';')[0]}"
    return run.stack_bytes, f"painted stack of one inference on {m.slug} ({m.core})"


def build_project(model: Path, target: str, out: Path, name: str | None, dsp: bool | None,
                  algorithm: str, features: str | None = None, stack: bool = True) -> dict[str, Any]:
    """Generate and write the project; measure flash and RAM with arm-none-eabi-gcc when the
    board has an Arm Cortex-M core and the toolchain is installed, else estimate them.

    RAM is itemized (``ram``: arena with kernel scratch, persistent static data, peak stack of
    one inference measured on QEMU when ``stack`` and the board's core has an emulated machine,
    the caller's input and output buffers); ``ram_bytes`` is their sum.

    ``features`` adds a sensor front end's C twin (a preset of :mod:`edgecraft.dsp`, e.g.
    ``kws-mfcc``) to the project; the sizes reported stay those of the model alone."""
    if algorithm not in ALGORITHMS:
        raise UserError(f"unknown algorithm {algorithm!r}; choose one of: {', '.join(ALGORITHMS)}")
    try:
        board = get_board(target)
    except UnknownBoardError as e:
        raise UserError(str(e)) from None
    use_dsp = board.dsp if dsp is None else dsp
    if use_dsp and not board.dsp:
        raise UserError(f"{target} ({board.core}) has no DSP extension; drop --dsp")
    graph = read_model(model)
    try:
        gen = generate(graph, name or model.stem, dsp=use_dsp, algorithm=algorithm, mve=use_dsp and board.mve)
    except CodegenError as e:
        raise UserError(str(e)) from None
    cflags = CORE_FLAGS.get(board.core)
    project = gen
    if features is not None:
        from edgecraft.dsp import c_sources

        try:
            project = dataclasses.replace(gen, files={**gen.files, **c_sources(features)})
        except ValueError as e:
            raise UserError(str(e)) from None
    files = write_project(project, out, board.name, board.core, " ".join(cflags or ()))
    constants = sum(t.nbytes for t in graph.tensors if t.data is not None)
    flash, static, how = constants, gen.arena_bytes, "estimate: constant tensors and the arena only"
    if cflags is not None and shutil.which("arm-none-eabi-gcc"):
        with tempfile.TemporaryDirectory(prefix="edgecraft-size-") as tmp:
            try:
                flash, static = object_sizes(gen, cflags, Path(tmp))
            except EmulateError as e:
                raise UserError(f"the generated code does not compile for {board.core}: {e}") from None
        how = f"arm-none-eabi-size of the model's objects (-O2, {' '.join(cflags)})"
    peak, stack_from = measure_stack(gen, board, use_dsp) if stack else (None, "not measured (--no-stack)")
    ram = itemize_ram(gen.arena_bytes, 0, static - gen.arena_bytes, peak or 0, io_buffer_bytes(graph), {
        "arena": f"memory plan '{gen.algorithm}', kernel scratch included",
        "persistent": f"static data of the model's objects beside the arena ({how})",
        "stack": stack_from if peak is None else f"measured: {stack_from}",
        "io_buffers": IO_BASIS,
    })
    return {
        "model": str(model), "name": gen.name, "board": board.slug, "core": board.core, "dsp": use_dsp,
        "mve": gen.mve,
        "out": str(out), "files": files, "flash_bytes": flash, "ram_bytes": ram["total"], "ram": ram,
        "arena_bytes": gen.arena_bytes, "algorithm": gen.algorithm, "kernels": gen.kernels,
        "sizes_from": how, "entry_point": f"{gen.name}_invoke", "features": features,
    }


def build(
    model: Annotated[Path, typer.Argument(help="A .tflite model file, or a trained application directory.",
                                          show_default=False)],
    target: Annotated[str | None, typer.Option("--target", "-t", help="A board slug (see `edgecraft boards`; "
                                               "an application: default its board).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Directory to write the project into (an "
                                             "application: default c/ beside its model).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="C name prefix (default: the file name).")]
    = None,
    dsp: Annotated[bool | None, typer.Option("--dsp/--no-dsp", help="DSP kernel variants (default: "
                                             "when the board's core has the DSP extension).")] = None,
    algorithm: Annotated[str, typer.Option("--algorithm", "-a", help="Memory planner algorithm.")]
    = DEFAULT_ALGORITHM,
    features: Annotated[str | None, typer.Option(
        "--features", help="Also emit a sensor front end's C twin: a preset such as kws-mfcc "
        "(see edgecraft.dsp.presets).")] = None,
    stack: Annotated[bool, typer.Option("--stack/--no-stack", help="Measure the peak stack of one "
                                        "inference on the QEMU machine of the board's core.")] = True,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Write MODEL as a dependency-free C library with a CMake project and an Arduino library."""
    if not model.exists():
        raise UserError(f"model file {model} does not exist")
    if out is not None:
        output_dir(out, "--out")
    if model.is_dir():
        if name is not None or dsp is not None or features is not None:
            raise UserError(f"{model} is an application: its name, front end and kernels come from its "
                            "app.toml; drop --name, --features and --dsp")
        _build_app(model, target, out, fmt)
        return
    if target is None or out is None:
        raise UserError("give --target BOARD and --out DIR with a model file")
    result = build_project(model, target, out, name, dsp, algorithm, features, stack)
    if fmt is Format.json:
        print_json(result)
        return
    kinds = ", Helium (MVE) kernels" if result["mve"] else ", DSP kernels" if result["dsp"] else ""
    table = Table(title=f"{result['name']} for {result['board']} ({result['core']}{kinds})",
                  title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("flash bytes", f"{result['flash_bytes']:,}")
    add_ram_rows(table, result["ram"])
    table.add_row("entry point", result["entry_point"])
    console.print(table)
    console.print(f"[dim]sizes: {result['sizes_from']}[/dim]")
    if features is not None:
        console.print(f"front end: {features} (C twin in src/, entry points in src/ec_features.h)")
    console.print(f"wrote {len(result['files'])} files to {out}")


def _build_app(root: Path, target: str | None, out: Path | None, fmt: Format) -> None:
    from edgecraft.apps.spec import SpecError
    from edgecraft.apps.use import build_app

    try:
        result = build_app(root, out, target)
    except SpecError as e:
        raise UserError(str(e)) from None
    if fmt is Format.json:
        print_json(result)
        return
    console.print(f"{root} for {result['board']} ({result['core']}): flash {result['flash_bytes']:,} B, RAM "
                  f"{result['ram_bytes']:,} B (arena {result['arena_bytes']:,} B); entry point "
                  f"{result['entry_point']}")
    console.print(f"[dim]sizes: {result['sizes_from']}[/dim]")
    console.print(f"wrote {len(result['files'])} files to {result['out']}")
