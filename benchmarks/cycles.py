"""The cycle model's check: CMSIS-NN's kernels counted on QEMU, priced for a published MLPerf Tiny
row's board, against that row's latency.

Run: ``.venv/bin/python benchmarks/cycles.py [--models kws,vww,ic,ad] [--edgecraft] [--json]``

The rows are in ``targets/cycles.json`` (``check.rows``), each with its source in the
mlcommons/tiny_results repositories: runs whose kernels are CMSIS-NN's, so the same kernels can
be counted here. For each row's core (qemu-m4 for the Cortex-M4F, qemu-m33 for the Cortex-M33)
this compiles CMSIS-NN from ``../shared/cmsis-nn`` (a yardstick only; skipped with a message when
absent) and runs, for every CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, pooling and SOFTMAX
layer of the model, the CMSIS-NN call TFLM makes (``benchmarks/kernels.py`` writes the program),
with the weights as constants in flash and each layer's input in RAM, as on the board. The QEMU
plugin counts instruction classes, loads and stores by region and the misses of the caches in
front of flash; ``edgecraft.targets.cycles`` prices them for the row's board (core table, flash
wait states per miss, clock). Printed per row and model: priced ms, the flash share, the
published ms and the error. ``--edgecraft`` adds edgecraft's own kernels (the whole generated
model) priced for the same board. The largest error over the ``reference`` rows is the model's
stated uncertainty (``check.latency_error_pct``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from edgecraft.emulate import emulate
from edgecraft.emulate.firmware import OPT, linker_script
from edgecraft.emulate.machines import machine
from edgecraft.emulate.qemu import run_qemu
from edgecraft.formats import read_tflite
from edgecraft.targets import get_board
from edgecraft.targets.catalog import Board
from edgecraft.targets.cycles import core_model, cycle_data, estimate_cycles

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kernels import CMSIS, CORPUS, MODELS, build_library, cmsis_program, intermediates


def row_board(row: dict[str, Any]) -> tuple[Board, dict[str, Any] | None]:
    """The board a row ran on (a catalog board, or the core and clock of one outside it) and its
    flash description when it is not the catalog's."""
    if row["board"]:
        return get_board(row["board"]), None
    like = get_board(core_model(row["core"]).machine)
    return replace(like, slug=row["id"], core=row["core"], clock_mhz=row["clock_mhz"], active_mw=None,
                   emulated=False), row["flash"]


def cmsis_counts(key: str, target: str, objs: list[Path], work: Path) -> dict[str, int]:
    """Instruction classes and memory counters of CMSIS-NN running every compared layer of one
    model between the markers (layer inputs moved from constants to RAM)."""
    graph = read_tflite(CORPUS / f"{MODELS[key]}.tflite")
    x = [np.random.default_rng(0).integers(-128, 128, t.shape).astype(np.int8) for t in graph.input_tensors()]
    src, _, _ = cmsis_program(graph, intermediates(graph, x))
    src = src.replace("static const int8_t in", "static int8_t in")  # activations live in RAM
    m = machine(target)
    work.mkdir(parents=True, exist_ok=True)
    runtime = resources.files("edgecraft.emulate").joinpath("runtime")
    for name in ("startup.c", "ec_runtime.h"):
        (work / name).write_text(runtime.joinpath(name).read_text())
    (work / "main.c").write_text(src)
    (work / "link.ld").write_text(linker_script(m))
    cmd = ["arm-none-eabi-gcc", *m.cflags, *OPT, "-I", str(CMSIS / "Include"), "-nostartfiles",
           "--specs=nano.specs", "-Wl,--gc-sections", "-T", "link.ld", "main.c", "startup.c",
           *map(str, objs), "-o", "prog.elf", "-lc", "-lgcc"]
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the CMSIS-NN program does not link for {target}: {proc.stderr[-1500:]}")
    return run_qemu(work / "prog.elf", m, work).class_counts


def edgecraft_counts(key: str, target: str) -> dict[str, int]:
    """Instruction classes and memory counters of edgecraft's generated C for the whole model."""
    graph = read_tflite(CORPUS / f"{MODELS[key]}.tflite")
    x = [np.random.default_rng(0).integers(-128, 128, (1, *t.shape)).astype(np.int8)
         for t in graph.input_tensors()]
    return emulate(graph, target, x, name="cycles").classes


def check(models: list[str], with_edgecraft: bool) -> list[dict[str, Any]]:
    """Every row x model: priced CMSIS-NN (and edgecraft) ms vs published ms."""
    rows = cycle_data()["check"]["rows"]
    targets = sorted({core_model(r["core"]).machine for r in rows})
    counted: dict[tuple[str, str, str], dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="edgecraft-cycles-") as tmp:
        for target in targets:
            objs = build_library(target, Path(tmp) / target)
            for key in models:
                counted["cmsis", target, key] = cmsis_counts(key, target, objs, Path(tmp) / target / key)
                if with_edgecraft:
                    counted["edgecraft", target, key] = edgecraft_counts(key, target)
    out = []
    for row in rows:
        board, flash = row_board(row)
        target = core_model(row["core"]).machine
        for key in models:
            published = row["latency_ms"][key]
            est = estimate_cycles(counted["cmsis", target, key], board, flash)
            res: dict[str, Any] = {
                "row": row["id"], "kind": row["kind"], "model": key, "target": target,
                "clock_mhz": board.clock_mhz, "published_ms": published,
                "cmsis_ms": round(est.latency_ms, 2),
                "cmsis_flash_pct": round(100 * est.flash_cycles / est.cycles, 1),
                "cmsis_instructions": est.instructions,
                "error_pct": round(100 * (est.latency_ms / published - 1), 1),
            }
            if with_edgecraft:
                ours = estimate_cycles(counted["edgecraft", target, key], board, flash)
                res["edgecraft_ms"] = round(ours.latency_ms, 2)
            out.append(res)
    return out


def show(results: list[dict[str, Any]]) -> None:
    console = Console(width=180)
    table = Table(title="Cycle model check: CMSIS-NN counted on QEMU, priced per published row",
                  title_justify="left")
    cols = ["row", "kind", "model", "CMSIS-NN instr", "priced ms", "flash stalls", "published ms", "error"]
    if "edgecraft_ms" in results[0]:
        cols.append("edgecraft priced ms")
    for col in cols:
        table.add_column(col, justify="left" if col in ("row", "kind", "model") else "right")
    for r in results:
        cells = [r["row"], r["kind"], r["model"], f"{r['cmsis_instructions']:,}", f"{r['cmsis_ms']:g}",
                 f"{r['cmsis_flash_pct']:g}%", f"{r['published_ms']:g}", f"{r['error_pct']:+.1f}%"]
        if "edgecraft_ms" in r:
            cells.append(f"{r['edgecraft_ms']:g}")
        table.add_row(*cells)
    console.print(table)
    ref = [abs(r["error_pct"]) for r in results if r["kind"] == "reference"]
    if ref:
        console.print(f"reference rows: largest error {max(ref):.1f}%, mean absolute "
                      f"{sum(ref) / len(ref):.1f}% over {len(ref)} figures")
    for row in cycle_data()["check"]["rows"]:
        if row["kind"] == "context":
            console.print(f"{row['id']}: context only: {row['why_context']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--edgecraft", action="store_true", help="also price edgecraft's kernels")
    parser.add_argument("--json", action="store_true", help="print one JSON list instead of a table")
    args = parser.parse_args()
    if not (CMSIS / "Include" / "arm_nnfunctions.h").exists():
        print(f"CMSIS-NN not found at {CMSIS}: nothing to count; skipped")
        return
    models = args.models.split(",")
    missing = [k for k in models if not (CORPUS / f"{MODELS[k]}.tflite").exists()]
    if missing:
        print(f"conformance models missing in {CORPUS}: {', '.join(missing)}; skipped")
        return
    results = check(models, args.edgecraft)
    if args.json:
        print(json.dumps(results))
    else:
        show(results)


if __name__ == "__main__":
    main()
