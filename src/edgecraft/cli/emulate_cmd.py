"""``edgecraft emulate MODEL --target qemu-m4 --input X.npy``: build, run on QEMU, report."""

from __future__ import annotations

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
    output_file,
    print_json,
)
from edgecraft.cli.run_cmd import as_batches, load_inputs, save_outputs
from edgecraft.codegen import CodegenError
from edgecraft.emulate import MACHINES, DoesNotFitError, EmulateError, UnknownMachineError, emulate
from edgecraft.emulate.firmware import ToolMissingError
from edgecraft.emulate.machines import machine
from edgecraft.formats import read_model
from edgecraft.ops.registry import graph_macs, op_cost
from edgecraft.plan import PROFILE_ALGORITHM, plan_memory
from edgecraft.plan.accounting import IO_BASIS, io_buffer_bytes, itemize_ram
from edgecraft.runtime import Interpreter
from edgecraft.targets import UnknownBoardError, get_board
from edgecraft.targets.cycles import NoCycleModelError, core_model, cycle_profile_estimate


def resolve_target(target: str | None, board: str | None) -> tuple[str, str]:
    """(QEMU machine slug, catalog board priced) from ``--target`` and ``--board``: the board's
    core picks the machine when no target is given; without a board the emulated board itself
    (its catalog entry) is priced."""
    if target is None and board is None:
        raise UserError("give --target (one of " + ", ".join(MACHINES) + ") or --board (a catalog board)")
    if target is not None and target not in MACHINES:
        raise UserError(f"no emulated machine for target {target!r}; choose one of: {', '.join(MACHINES)}")
    try:
        b = get_board(board or str(target))
        machine = core_model(b.core).machine
    except (UnknownBoardError, NoCycleModelError) as e:
        raise UserError(str(e)) from None
    if target is not None and MACHINES[target].qemu_machine != MACHINES[machine].qemu_machine:
        raise UserError(f"board {b.slug} has a {b.core}, whose instructions run on {machine}, not {target}; "
                        f"drop --target or use --target {machine}")
    return target or machine, b.slug


def emulate_model(model: Path, target: str, inputs: list[Path], output: Path | None, dsp: bool | None,
                  verify: bool, per_op: bool = False, board: str | None = None) -> dict[str, Any]:
    """Run the model on the emulated board; the data behind the command's output. ``board``:
    the catalog board whose cycles, milliseconds and energy are reported (default: the
    emulated board itself)."""
    graph = read_model(model)
    given = as_batches(load_inputs(inputs, graph), graph)
    batches = given.arrays
    try:
        r = emulate(graph, target, batches, name=model.stem, dsp=dsp, per_op=per_op)
    except (UnknownMachineError, DoesNotFitError, ToolMissingError, CodegenError) as e:
        raise UserError(str(e)) from None
    outputs = given.outputs([[o[k] for o in r.outputs] for k in range(given.size)])
    matches = None
    if verify:
        interp = Interpreter(graph)
        matches = all(np.array_equal(r.outputs[i][k], want)
                      for k in range(len(batches[0]))
                      for i, want in enumerate(interp.run([b[k] for b in batches])))
    if output is not None:
        save_outputs(output, outputs, graph)
    macs = graph_macs(graph)
    priced = get_board(board or r.target)
    cyc = cycle_profile_estimate(r.classes, priced)
    ops = []
    if per_op:
        kernels = ("mve" if machine(r.target).mve else "dsp") if r.dsp else "portable"
        order = plan_memory(graph, PROFILE_ALGORITHM, kernels=kernels).order  # as generated
        for step, (j, count) in enumerate(zip(order, r.op_instructions, strict=False)):
            op = graph.operators[j]
            ops.append({"step": step, "op": j, "type": op.type, "instructions": count,
                        "macs": op_cost(graph, op).macs})
    ram = itemize_ram(r.arena_bytes, 0, r.ram_bytes - r.arena_bytes, r.stack_bytes, io_buffer_bytes(graph), {
        "arena": "memory plan, kernel scratch included",
        "persistent": "static data of the model's objects beside the arena (linked ELF)",
        "stack": f"measured: painted stack of one inference on {r.target}",
        "io_buffers": IO_BASIS,
    })
    return {
        "model": str(model), "target": r.target, "machine": r.machine, "core": r.core, "dsp": r.dsp,
        "instructions": r.instructions, "macs": macs,
        "board": priced.slug, "clock_mhz": priced.clock_mhz, "cycles": cyc["cycles"],
        "latency_ms": cyc["latency_ms"], "latency_error_pct": cyc["latency_error_pct"],
        "energy_uj": cyc["energy_uj"], "energy_per_day_j": cyc["energy_per_day_j"],
        "cycle_model": cyc["cycle_estimate"], "instruction_classes": r.classes,
        "macs_per_instruction": round(macs / r.instructions, 4) if r.instructions else None,
        "flash_bytes": r.flash_bytes, "ram_bytes": ram["total"], "ram": ram, "stack_bytes": r.stack_bytes,
        "arena_bytes": r.arena_bytes, "image_flash_bytes": r.image_flash_bytes,
        "image_ram_bytes": r.image_ram_bytes, "samples": len(batches[0]),
        "outputs": [{"shape": list(y.shape), "dtype": str(y.dtype),
                     "values": y.reshape(-1).tolist() if y.size <= 64 else None} for y in outputs],
        "matches_reference": matches,
        "ops": ops,
        "output_file": str(output) if output is not None else None,
    }


def emulate_cmd(
    model: Annotated[Path, typer.Argument(help="A .tflite model file, or a trained application directory "
                                          "(then give --wav or --csv).", show_default=False)],
    inputs: Annotated[list[Path] | None, typer.Option(
        "--input", "-i", help="Input .npy (repeat for several inputs; a leading batch dimension runs each) "
        "or .npz.")]
    = None,
    wav: Annotated[Path | None, typer.Option(
        "--wav", help="Application: an audio recording to run the whole loop over (front end, model, "
        "post-processing) on QEMU.")] = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="Application: a motion recording (CSV).")] = None,
    images: Annotated[str | None, typer.Option("--images", help="Application (person): camera frames of one "
                                               "size, a folder or a glob pattern, in sorted order.")] = None,
    inferences: Annotated[int | None, typer.Option("--inferences", help="Application (sine): steps of the "
                                                   "hello-world loop [one sweep].", min=1)] = None,
    target: Annotated[str | None, typer.Option("--target", "-t", help=f"One of {', '.join(MACHINES)} "
                                               "(default: the machine of --board's core).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write outputs (.npy/.npz).")]
    = None,
    dsp: Annotated[bool | None, typer.Option("--dsp/--no-dsp", help="DSP kernel variants (default: "
                                             "when the core has the DSP extension).")] = None,
    verify: Annotated[bool, typer.Option("--verify/--no-verify", help="Compare with the Python reference "
                                         "runtime (an application: with the Python loop).")] = True,
    per_op: Annotated[bool, typer.Option("--per-op", help="Also count the instructions of each operator "
                                         "(adds a hook call before each one).")] = False,
    board: Annotated[str | None, typer.Option("--board", "-b", help="Report cycles, ms and energy on this "
                                              "catalog board (see `edgecraft boards`).")] = None,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Build MODEL for an emulated Cortex-M board, run it on QEMU, report outputs and costs.
    An application directory runs its whole streaming loop over --wav/--csv as one firmware."""
    if not model.exists():
        raise UserError(f"model file {model} does not exist")
    if model.is_dir():
        if inputs or target is not None or output is not None or per_op or dsp is not None:
            raise UserError(f"{model} is an application: give --wav FILE, --csv FILE or --images FRAMES (and "
                            "optionally --board); --input, --target, --output, --dsp and --per-op are for "
                            "model files")
        _emulate_app(model, wav, csv, board, verify, fmt, images, inferences)
        return
    if wav is not None or csv is not None or images is not None or inferences is not None:
        raise UserError("--wav, --csv, --images and --inferences run an application's loop: give an "
                        "application directory, or --input X.npy for a model file")
    if not inputs:
        raise UserError("give --input X.npy (repeat for several inputs)")
    output_file(output, "--output")
    machine, priced = resolve_target(target, board)
    try:
        result = emulate_model(model, machine, inputs, output, dsp, verify, per_op, priced)
    except EmulateError as e:
        raise RuntimeError(str(e)) from None
    if fmt is Format.json:
        print_json(result)
        return
    table = Table(title=f"{model.name} on {result['target']} ({result['machine']}, {result['core']}"
                  f"{', DSP kernels' if result['dsp'] else ''})", title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    for key in ("instructions", "macs", "macs_per_instruction", "flash_bytes"):
        table.add_row(key.replace("_", " "), f"{result[key]:,}")
    add_ram_rows(table, result["ram"])
    at = f" on {result['board']} at {result['clock_mhz']:g} MHz"
    table.add_row("cycles" + at, f"{result['cycles']:,} (+-{result['latency_error_pct']}%)")
    table.add_row("latency ms" + at, f"{result['latency_ms']:,.3f}")
    if result["energy_uj"] is not None:
        table.add_row("energy uJ per inference", f"{result['energy_uj']:,.2f}")
        table.add_row("energy J per day (1 inference/s)", f"{result['energy_per_day_j']:,.3f}")
    if result["matches_reference"] is not None:
        table.add_row("matches reference", "yes" if result["matches_reference"] else "NO")
    console.print(table)
    if result["ops"]:
        per = Table(title="instructions per operator (plan order)", title_justify="left")
        for col in ("step", "op", "instructions", "MACs", "MACs/instr"):
            per.add_column(col, justify="left" if col == "op" else "right")
        for o in result["ops"]:
            ratio = f"{o['macs'] / o['instructions']:.3f}" if o["instructions"] else "-"
            per.add_row(str(o["step"]), o["type"], f"{o['instructions']:,}", f"{o['macs']:,}", ratio)
        console.print(per)
    for i, o in enumerate(result["outputs"]):
        shown = "" if o["values"] is None else f": {o['values']}"
        console.print(f"output {i} {o['dtype']} {o['shape']}{shown}")
    if output is not None:
        console.print(f"wrote {output}")


def _emulate_app(root: Path, wav: Path | None, csv: Path | None, board: str | None, compare: bool,
                 fmt: Format, images: str | None = None, inferences: int | None = None) -> None:
    from edgecraft.apps.spec import SpecError
    from edgecraft.apps.use import emulate_app
    from edgecraft.device.recordings import StreamError

    try:
        if board is not None:
            get_board(board)
        result = emulate_app(root, wav=wav, csv=csv, board=board, compare=compare, images=images,
                             inferences=inferences)
    except (SpecError, StreamError, UnknownBoardError, DoesNotFitError, ToolMissingError) as e:
        raise UserError(str(e)) from None
    except EmulateError as e:
        raise RuntimeError(str(e)) from None
    if fmt is Format.json:
        print_json(result)
        return
    em, p = result["emulation"], result["power"]
    if "rows" in result:
        _print_sine(root, result)
        return
    every = f"every {result['stride_s']:g} s"
    what = (f"{result['frames']} frames, one {every}" if "frames" in result else
            f"{result['duration_s']:.2f} s of signal, window {result['window_s']:g} s {every}")
    console.print(f"{root}: {result['features']} + model + post-processing on {em['target']} "
                  f"({em['machine']}), {what}")
    table = Table()
    for col in ("time (s)", "label", "score"):
        table.add_column(col)
    for d in result["detections"]:
        table.add_row(f"{d['time_s']:.2f}", d["label"], f"{d['score']:.3f}")
    console.print(table)
    s = result["stats"]
    console.print(f"windows {s['windows']}, inferences {s['inferences']}; the whole loop: "
                  f"{em['instructions']:,} instructions, {em['instructions_per_s']:,} per second of signal; "
                  f"flash {em['flash_bytes']:,} B, RAM {em['ram_bytes']:,} B + stack {em['stack_bytes']:,} B")
    energy = "" if p["energy_per_day_j"] is None else (f", average {p['average_mw']:.4g} mW, "
                                                       f"{p['energy_per_day_j']:.4g} J/day")
    console.print(f"power on {p['board']} at {p['clock_mhz']:g} MHz: {p['cycles_per_s']:,} cycles/s, "
                  f"duty {p['duty_cycle']:.2%}{energy}")
    if not p["keeps_up"]:
        console.print(f"[yellow]{p['board']} cannot keep up: the loop needs more cycles than a second has; "
                      "raise stride_ms in app.toml or pick a faster board[/yellow]")
    if "python" in result:
        py = result["python"]
        same = "the same detections" if py["detections_equal"] else "DIFFERENT detections"
        console.print(f"Python loop (edgecraft stream): {same}; {py['windows_equal']} of {py['windows']} "
                      "windows with the same top label and score")


def _print_sine(root: Path, result: dict[str, Any]) -> None:
    from edgecraft.cli.stream_cmd import _print_rows

    em, p = result["emulation"], result["power"]
    console.print(f"{root}: TFLM's hello-world loop on {em['target']} ({em['machine']}), "
                  f"{result['inferences']} inferences, {result['steps']} per sweep of x, "
                  f"one every {result['stride_s']:g} s")
    _print_rows(result, Format.table)
    console.print(f"the whole loop: {em['instructions']:,} instructions, "
                  f"{em['instructions_per_inference']:,} per inference; flash {em['flash_bytes']:,} B, "
                  f"RAM {em['ram_bytes']:,} B + stack {em['stack_bytes']:,} B; "
                  f"on {p['board']}: duty {p['duty_cycle']:.3%}")
