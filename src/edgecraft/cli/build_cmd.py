"""``edgecraft build MODEL --target BOARD --out DIR``: a C project for that board."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from edgecraft.cli.common import FORMAT_OPTION, Format, UserError, console, output_dir, print_json
from edgecraft.codegen import CodegenError, generate
from edgecraft.codegen.project import write_project
from edgecraft.emulate.firmware import EmulateError, object_sizes
from edgecraft.emulate.machines import CORE_FLAGS
from edgecraft.formats import read_tflite
from edgecraft.plan import ALGORITHMS, DEFAULT_ALGORITHM
from edgecraft.targets import UnknownBoardError, get_board


def build_project(model: Path, target: str, out: Path, name: str | None, dsp: bool | None,
                  algorithm: str, features: str | None = None) -> dict[str, Any]:
    """Generate and write the project; measure flash and RAM with arm-none-eabi-gcc when the
    board has an Arm Cortex-M core and the toolchain is installed, else estimate them.

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
    graph = read_tflite(model)
    try:
        gen = generate(graph, name or model.stem, dsp=use_dsp, algorithm=algorithm)
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
    flash, ram, how = constants, gen.arena_bytes, "estimate: constant tensors and the arena only"
    if cflags is not None and shutil.which("arm-none-eabi-gcc"):
        with tempfile.TemporaryDirectory(prefix="edgecraft-size-") as tmp:
            try:
                flash, ram = object_sizes(gen, cflags, Path(tmp))
            except EmulateError as e:
                raise UserError(f"the generated code does not compile for {board.core}: {e}") from None
        how = f"arm-none-eabi-size of the model's objects (-O2, {' '.join(cflags)})"
    return {
        "model": str(model), "name": gen.name, "board": board.slug, "core": board.core, "dsp": use_dsp,
        "out": str(out), "files": files, "flash_bytes": flash, "ram_bytes": ram,
        "arena_bytes": gen.arena_bytes, "algorithm": gen.algorithm, "kernels": gen.kernels,
        "sizes_from": how, "entry_point": f"{gen.name}_invoke", "features": features,
    }


def build(
    model: Annotated[Path, typer.Argument(help="A .tflite model file.", show_default=False)],
    target: Annotated[str, typer.Option("--target", "-t", help="A board slug (see `edgecraft boards`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write the project into.")],
    name: Annotated[str | None, typer.Option("--name", help="C name prefix (default: the file name).")]
    = None,
    dsp: Annotated[bool | None, typer.Option("--dsp/--no-dsp", help="DSP kernel variants (default: "
                                             "when the board's core has the DSP extension).")] = None,
    algorithm: Annotated[str, typer.Option("--algorithm", "-a", help="Memory planner algorithm.")]
    = DEFAULT_ALGORITHM,
    features: Annotated[str | None, typer.Option(
        "--features", help="Also emit a sensor front end's C twin: a preset such as kws-mfcc "
        "(see edgecraft.dsp.presets).")] = None,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Write MODEL as a dependency-free C library with a CMake project and an Arduino library."""
    if not model.exists():
        raise UserError(f"model file {model} does not exist")
    output_dir(out, "--out")
    result = build_project(model, target, out, name, dsp, algorithm, features)
    if fmt is Format.json:
        print_json(result)
        return
    table = Table(title=f"{result['name']} for {result['board']} ({result['core']}"
                  f"{', DSP kernels' if result['dsp'] else ''})", title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    for key in ("flash_bytes", "ram_bytes", "arena_bytes"):
        table.add_row(key.replace("_", " "), f"{result[key]:,}")
    table.add_row("entry point", result["entry_point"])
    console.print(table)
    console.print(f"[dim]sizes: {result['sizes_from']}[/dim]")
    if features is not None:
        console.print(f"front end: {features} (C twin in src/, entry points in src/ec_features.h)")
    console.print(f"wrote {len(result['files'])} files to {out}")
