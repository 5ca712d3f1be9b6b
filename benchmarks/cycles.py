"""The cycle model's check: CMSIS-NN's kernels counted on QEMU, priced for a published MLPerf Tiny
row's board, against that row's latency.

Run: ``.venv/bin/python benchmarks/cycles.py [--models kws,vww,ic,ad] [--edgecraft] [--json] [--rows ID,...]``

The rows are in ``targets/cycles.json`` (``check.rows``), each with its source in the
mlcommons/tiny_results repositories: runs whose kernels are CMSIS-NN's, so the same kernels can
be counted here. For each row's core (qemu-m4 for the Cortex-M4F, qemu-m33 for the Cortex-M33,
qemu-m7, qemu-m55 for the Helium kernels)
this compiles CMSIS-NN from ``../shared/cmsis-nn`` (a yardstick only; skipped with a message when
absent) and runs, for every CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, pooling, SOFTMAX and
ADD layer of the model, the CMSIS-NN call the row's software makes (``benchmarks/kernels.py``
writes the calls; ``mapping`` in the row: microTVM runs a one-channel convolution as the
depthwise kernel), with the weights as constants in flash and each layer's input in RAM, as on
the board; every layer's output must equal the reference runtime's byte for byte. The QEMU
plugin counts instruction classes, loads and stores by region and the misses of the caches in
front of flash; ``edgecraft.targets.cycles`` prices them for the row's board (core table, flash
wait states per miss, clock). Printed per row and model: priced ms, the flash share, the
published ms and the error. ``--edgecraft`` adds edgecraft's own kernels (the whole generated
model) priced for the same board. The largest error over the ``reference`` rows is the model's
stated uncertainty (``check.latency_error_pct``).

``ratio`` rows cover a core with no published run of known kernels (the Cortex-M7): one engine
ran on the row's board and on NUCLEO-L4R5ZI (``base``); the estimate is its NUCLEO-L4R5ZI ms
times CMSIS-NN's priced ms on the row's board over its priced ms on NUCLEO-L4R5ZI, so the error
is that of the priced cycle ratio between the two cores (printed beside the published one).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from edgecraft.codegen.cwriter import c_array
from edgecraft.emulate import emulate
from edgecraft.emulate.firmware import OPT
from edgecraft.emulate.machines import machine
from edgecraft.formats import read_tflite
from edgecraft.ir.graph import Graph, Operator, Quantization
from edgecraft.ops.add import rescale_params
from edgecraft.ops.base import OpContext
from edgecraft.ops.broadcast import activation
from edgecraft.ops.quant import quantized_activation_range
from edgecraft.plan import plan_memory
from edgecraft.targets import get_board
from edgecraft.targets.catalog import Board
from edgecraft.targets.cycles import core_model, cycle_data, estimate_cycles

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kernels import CMSIS, CORPUS, MODELS, build_library, intermediates, layer_call, run_cmsis_program

#: How a row's software maps layers to CMSIS-NN calls beyond TFLM's: microTVM (its CMSIS-NN
#: partitioning, tiny_results_v1.0 closed/OctoML/code/.../kws/model/codegen) runs a convolution
#: with one input channel as CMSIS-NN's depthwise kernel (depth multiplier = output channels).
MAPPINGS = ("tflm", "microtvm")


def row_board(row: dict[str, Any]) -> tuple[Board, dict[str, Any] | None]:
    """The board a row ran on (a catalog board, or the core and clock of one outside it) and its
    flash description when it is not the catalog's."""
    if row["board"]:
        return get_board(row["board"]), None
    like = get_board(core_model(row["core"]).machine)
    return replace(like, slug=row["id"], core=row["core"], clock_mhz=row["clock_mhz"], active_mw=None,
                   emulated=False), row["flash"]


def as_depthwise(graph: Graph, j: int) -> Graph:
    """``graph`` with CONV_2D ``j`` (one input channel) as the DEPTHWISE_CONV_2D microTVM runs
    for it: the filter [out, kh, kw, 1] as [1, kh, kw, out], depth multiplier = out."""
    op = graph.operators[j]
    w = graph.tensors[op.inputs[1]]
    assert w.data is not None and w.quant is not None
    data = np.ascontiguousarray(w.data.transpose(3, 1, 2, 0))
    quant = Quantization(w.quant.scale, w.quant.zero_point, 3)
    tensors = list(graph.tensors)
    tensors[op.inputs[1]] = replace(w, shape=data.shape, data=data, quant=quant)
    operators = list(graph.operators)
    operators[j] = Operator("DEPTHWISE_CONV_2D", list(op.inputs), list(op.outputs),
                            {**op.attrs, "depth_multiplier": int(data.shape[3])})
    return replace(graph, tensors=tensors, operators=operators)


def add_call(graph: Graph, j: int, k: int) -> tuple[str, str]:
    """(declarations, statements) of CMSIS-NN's elementwise add for ADD ``j`` as layer ``k``, with
    TFLM's parameters (its CMSIS-NN ADD kernel and microTVM's both call it)."""
    ctx = OpContext(graph.operators[j], graph)
    a, b, y = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    p = rescale_params(a.scale, b.scale, y.scale, "int8")
    lo, hi = quantized_activation_range(activation(ctx), y.scale, y.zero_point)
    call = (f"  rc |= arm_elementwise_add_s8(in{k}, in{k}b, {-a.zero_point}, {p.input1[0]}, {p.input1[1]}, "
            f"{-b.zero_point}, {p.input2[0]}, {p.input2[1]}, {p.left_shift}, L{k}_out, {y.zero_point}, "
            f"{p.output[0]}, {p.output[1]}, {lo}, {hi}, {y.size});\n")
    return f"static int8_t L{k}_out[{y.size}];", call


def check_program(graph: Graph, acts: dict[int, np.ndarray], mapping: str) -> tuple[str, list[int]]:
    """The CMSIS-NN program of ``benchmarks/kernels.py`` with the row's layer mapping: every
    compared layer plus the ADDs, layer inputs in RAM (non-const arrays), each layer's output
    written for the byte-for-byte check; (source, operator indices in order)."""
    decls: list[str] = []
    setup: list[str] = []
    body: list[str] = []
    layers: list[int] = []
    for j in plan_memory(graph).order:
        op, k = graph.operators[j], len(layers)
        g = graph
        if mapping == "microtvm" and op.type == "CONV_2D" and graph.tensors[op.inputs[0]].shape[-1] == 1:
            g = as_depthwise(graph, j)
        made: tuple[str, str, str] | None
        if op.type == "ADD":
            decl, call = add_call(graph, j, k)
            decls.append(c_array(f"in{k}b", "int8_t", acts[op.inputs[1]].reshape(-1), ""))
            made = (decl, "", call)
        else:
            made = layer_call(g, j, k)
        if made is None:
            continue
        decls += [c_array(f"in{k}", "int8_t", acts[op.inputs[0]].reshape(-1), ""), made[0]]
        setup.append(made[1])
        body += ["  ec_marker_op();", made[2]]
        layers.append(j)
    writes = [f"  if (ec_write(out, L{k}_out, sizeof L{k}_out) != 0) return 5;" for k in range(len(layers))]
    src = "\n".join([
        '#include <stdint.h>', '#include "arm_nnfunctions.h"', '#include "ec_runtime.h"',
        "static int8_t scratch[262144] __attribute__((aligned(16)));", *decls,
        "int main(void) {", "  cmsis_nn_context ctx = {scratch, 0};", "  int rc = 0;",
        *setup, "  ec_marker_start();", *body, "  ec_marker_op();", "  ec_marker_stop();",
        "  if (ctx.size > (int32_t)sizeof scratch) return 6;",
        '  int out = ec_open("output.bin", 1);', "  if (out < 0 || rc != 0) return 4;", *writes,
        "  ec_close(out);", '  ec_print("edgecraft: done 1\\n");', "  return 0;", "}", ""])
    return src.replace("static const int8_t in", "static int8_t in"), layers  # activations live in RAM


def build_basic_math(target: str, work: Path) -> list[Path]:
    """CMSIS-NN's BasicMathFunctions (the elementwise add) compiled for the core."""
    m = machine(target)
    objs = []
    for src in sorted((CMSIS / "Source" / "BasicMathFunctions").glob("*.c")):
        if "_f16" in src.stem or "_f32" in src.stem:
            continue  # float kernels: not used, and they need CMSIS-DSP's types
        obj = work / f"BasicMathFunctions_{src.stem}.o"
        proc = subprocess.run(["arm-none-eabi-gcc", *m.cflags, *OPT, "-I", str(CMSIS / "Include"), "-c",
                               str(src), "-o", str(obj)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"CMSIS-NN {src.name} does not compile for {target}: {proc.stderr[:500]}")
        objs.append(obj)
    return objs


def cmsis_counts(key: str, target: str, mapping: str, objs: list[Path], work: Path) -> dict[str, int]:
    """Instruction classes and memory counters of CMSIS-NN running every compared layer of one
    model between the markers, with ``mapping``'s layer-to-kernel choices; every layer's output
    must equal the reference runtime's (TFLM's arithmetic) byte for byte."""
    graph = read_tflite(CORPUS / f"{MODELS[key]}.tflite")
    x = [np.random.default_rng(0).integers(-128, 128, t.shape).astype(np.int8) for t in graph.input_tensors()]
    acts = intermediates(graph, x)
    src, layers = check_program(graph, acts, mapping)
    counts = run_cmsis_program(src, target, objs, work).class_counts
    got = np.frombuffer((work / "output.bin").read_bytes(), np.int8)
    want = np.concatenate([acts[graph.operators[j].outputs[0]].reshape(-1) for j in layers])
    if not np.array_equal(got, want):
        raise RuntimeError(f"CMSIS-NN's outputs differ from the reference on {key} ({mapping}, {target})")
    return counts


def edgecraft_counts(key: str, target: str) -> dict[str, int]:
    """Instruction classes and memory counters of edgecraft's generated C for the whole model."""
    graph = read_tflite(CORPUS / f"{MODELS[key]}.tflite")
    x = [np.random.default_rng(0).integers(-128, 128, (1, *t.shape)).astype(np.int8)
         for t in graph.input_tensors()]
    return emulate(graph, target, x, name="cycles").classes


def base_row(row: dict[str, Any]) -> dict[str, Any]:
    """The base run of a ``ratio`` row (the same engine on NUCLEO-L4R5ZI) as a row of its own."""
    return {**row["base"], "id": f"{row['id']}/base", "mapping": row["mapping"], "kind": "base"}


def needed(rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(mapping, QEMU machine) pairs the rows need counted (a ratio row's base included)."""
    runs = [*rows, *(base_row(r) for r in rows if r["kind"] == "ratio")]
    return {(r["mapping"], core_model(r["core"]).machine) for r in runs}


def priced(row: dict[str, Any], counts: dict[str, int]) -> Any:
    """CMSIS-NN's counts priced for the row's board (its core table, flash, clock)."""
    board, flash = row_board(row)
    return estimate_cycles(counts, board, flash)


def check(models: list[str], with_edgecraft: bool, only: list[str] | None = None) -> list[dict[str, Any]]:
    """Every row x model: priced CMSIS-NN (and edgecraft) ms vs published ms. A ``ratio`` row's
    estimate is its base's published ms scaled by the priced ms on the two boards."""
    rows = [r for r in cycle_data()["check"]["rows"] if not only or r["id"] in only]
    pairs = needed(rows)
    counted: dict[tuple[str, str, str], dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="edgecraft-cycles-") as tmp:
        for target in sorted({t for _, t in pairs}):
            objs = build_library(target, Path(tmp) / target)
            objs += build_basic_math(target, Path(tmp) / target)
            for mapping in sorted(m for m, t in pairs if t == target):
                for key in models:
                    counted[mapping, target, key] = cmsis_counts(key, target, mapping, objs,
                                                                 Path(tmp) / target / f"{key}-{mapping}")
            if with_edgecraft:
                for key in models:
                    counted["edgecraft", target, key] = edgecraft_counts(key, target)
    out = []
    for row in rows:
        assert row["mapping"] in MAPPINGS, row["id"]
        board, flash = row_board(row)
        target = core_model(row["core"]).machine
        for key in models:
            if key not in row["latency_ms"]:
                continue
            published = row["latency_ms"][key]
            est = priced(row, counted[row["mapping"], target, key])
            estimate = est.latency_ms
            res: dict[str, Any] = {
                "row": row["id"], "kind": row["kind"], "model": key, "target": target, "core": row["core"],
                "mapping": row["mapping"],
                "clock_mhz": board.clock_mhz, "published_ms": published,
                "cmsis_ms": round(est.latency_ms, 2),
                "cmsis_flash_pct": round(100 * est.flash_cycles / est.cycles, 1),
                "cmsis_instructions": est.instructions,
            }
            if row["kind"] == "ratio":
                base = base_row(row)
                on_base = priced(base, counted[row["mapping"], core_model(base["core"]).machine, key])
                estimate = base["latency_ms"][key] * est.latency_ms / on_base.latency_ms
                res["base_published_ms"] = base["latency_ms"][key]
                res["priced_cycle_ratio"] = round(est.cycles / on_base.cycles, 3)
                res["published_cycle_ratio"] = round(published * board.clock_mhz
                                                     / (base["latency_ms"][key] * base["clock_mhz"]), 3)
            res["estimate_ms"] = round(estimate, 2)
            res["error_pct"] = round(100 * (estimate / published - 1), 1)
            if with_edgecraft:
                ours = estimate_cycles(counted["edgecraft", target, key], board, flash)
                res["edgecraft_ms"] = round(ours.latency_ms, 2)
            if "energy_uj" in row and est.energy_uj is not None:
                res["energy_est_uj"] = round(est.energy_uj, 1)
                res["energy_pub_uj"] = row["energy_uj"][key]
                res["energy_error_pct"] = round(100 * (est.energy_uj / row["energy_uj"][key] - 1), 1)
            out.append(res)
    return out


def show(results: list[dict[str, Any]]) -> None:
    console = Console(width=200)
    table = Table(title="Cycle model check: CMSIS-NN counted on QEMU, priced per published row",
                  title_justify="left")
    cols = ["row", "kind", "model", "CMSIS-NN instr", "priced ms", "flash stalls", "estimate ms",
            "published ms", "error", "cycle ratio priced / published"]
    if "edgecraft_ms" in results[0]:
        cols.append("edgecraft priced ms")
    for col in cols:
        table.add_column(col, justify="left" if col in ("row", "kind", "model") else "right")
    for r in results:
        ratio = (f"{r['priced_cycle_ratio']:.3f} / {r['published_cycle_ratio']:.3f}"
                 if "priced_cycle_ratio" in r else "")
        cells = [r["row"], r["kind"], r["model"], f"{r['cmsis_instructions']:,}", f"{r['cmsis_ms']:g}",
                 f"{r['cmsis_flash_pct']:g}%", f"{r['estimate_ms']:g}", f"{r['published_ms']:g}",
                 f"{r['error_pct']:+.1f}%", ratio]
        if "edgecraft_ms" in r:
            cells.append(f"{r['edgecraft_ms']:g}")
        table.add_row(*cells)
    console.print(table)
    for kind in ("reference", "ratio"):
        for core in sorted({r["core"] for r in results if r["kind"] == kind}):
            errs = [abs(r["error_pct"]) for r in results if r["kind"] == kind and r["core"] == core]
            console.print(f"{kind} rows, {core}: largest error {max(errs):.1f}%, mean absolute "
                          f"{sum(errs) / len(errs):.1f}% over {len(errs)} figures")
    for r in results:
        if "energy_pub_uj" in r:
            console.print(f"{r['row']} {r['model']}: energy {r['energy_est_uj']:,.0f} uJ (priced ms x the "
                          f"catalog's active power) vs published {r['energy_pub_uj']:,.0f} uJ: "
                          f"{r['energy_error_pct']:+.1f}%")
    shown = {r["row"] for r in results}
    for row in cycle_data()["check"]["rows"]:
        if row["kind"] == "context" and row["id"] in shown:
            console.print(f"{row['id']}: context only: {row['why_context']}")
    if any(r["kind"] == "ratio" for r in results):
        console.print("ratio rows: estimate = the same engine's published ms on NUCLEO-L4R5ZI x CMSIS-NN's "
                      "priced ms on the row's board / on NUCLEO-L4R5ZI (targets/cycles.json check.about)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--edgecraft", action="store_true", help="also price edgecraft's kernels")
    parser.add_argument("--json", action="store_true", help="print one JSON list instead of a table")
    parser.add_argument("--rows", default="", help="only these check rows (ids, comma-separated)")
    args = parser.parse_args()
    if not (CMSIS / "Include" / "arm_nnfunctions.h").exists():
        print(f"CMSIS-NN not found at {CMSIS}: nothing to count; skipped")
        return
    models = args.models.split(",")
    missing = [k for k in models if not (CORPUS / f"{MODELS[k]}.tflite").exists()]
    if missing:
        print(f"conformance models missing in {CORPUS}: {', '.join(missing)}; skipped")
        return
    results = check(models, args.edgecraft, [r for r in args.rows.split(",") if r])
    if args.json:
        print(json.dumps(results))
    else:
        show(results)


if __name__ == "__main__":
    main()
