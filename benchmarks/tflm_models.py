"""Every .tflite under a folder (a TensorFlow Lite Micro checkout: its examples, model zoo and
integration-test models) through edgecraft, each compared with TFLM's Python interpreter.

Run: ``.venv/bin/python benchmarks/tflm_models.py DIR [--targets qemu-m4,qemu-m55] [--json]``

Per model, one random input per model input (seeded; int8/uint8 over their whole range, wider
integers in [-1000, 1000], floats in [-2, 2], booleans), TFLM's outputs, then:

- ``runtime``: edgecraft's Python runtime (arena plan, optimized kernels);
- ``c``, ``c dsp``: the generated C, portable and with the DSP kernels (plain-C intrinsics),
  compiled for this machine and called through ctypes;
- each ``--target``: the generated C cross-compiled and run on that QEMU machine (DSP kernels
  on cores that have them, Helium on qemu-m55).

A cell says ``exact`` (integers equal, floats bit-equal), ``~1e-7`` (float outputs: the largest
difference relative to TFLM's largest magnitude; float kernels differ in summation order), the
one-line refusal (an op or type without a C kernel, a model that does not fit the machine), or
``DIFF`` (an integer output differs: a bug). Models edgecraft refuses to read (a vendor's
custom op, such as Ethos-U's) are listed with the reason. Exit status 1 if any cell is DIFF.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress, TextColumn
from rich.table import Table

from edgecraft.formats import ModelFormatError, read_tflite_bytes
from edgecraft.ir.graph import Graph, Tensor
from edgecraft.reference import TflmRunner


def random_input(t: Tensor, rng: np.random.Generator) -> np.ndarray:
    """A random value for tensor ``t`` (see the module docstring for the ranges)."""
    dt = np.dtype(t.np_dtype)
    if dt.kind == "f":
        return rng.uniform(-2, 2, t.shape).astype(dt)
    if dt.kind == "b":
        return rng.integers(0, 2, t.shape).astype(dt)
    info = np.iinfo(dt)
    lo, hi = (info.min, info.max) if dt.itemsize == 1 else (max(info.min, -1000), min(info.max, 1000))
    return rng.integers(lo, hi + 1, t.shape, dtype=np.int64).astype(dt)


def compare(got: list[np.ndarray], want: list[np.ndarray]) -> str:
    """``exact``, ``~<relative difference>`` (floats) or ``DIFF``."""
    worst = 0.0
    for g, w in zip(got, want, strict=True):
        g, w = np.asarray(g).reshape(-1), np.asarray(w).reshape(-1)
        if g.shape != w.shape:
            return "DIFF"
        if np.dtype(w.dtype).kind != "f":
            if not np.array_equal(g, w):
                return "DIFF"
            continue
        if np.array_equal(g, w):
            continue
        scale = float(np.max(np.abs(w))) or 1.0
        worst = max(worst, float(np.max(np.abs(g.astype(np.float64) - w))) / scale)
    return "exact" if worst == 0.0 else f"~{worst:.0e}"


def _refusal(e: Exception) -> str:
    text = " ".join(str(e).split())
    return "refused: " + (text[:70] + "..." if len(text) > 70 else text)


def run_model(graph: Graph, data: bytes, targets: list[str], seed: int) -> dict[str, str]:
    """The cells of one model's row."""
    from edgecraft.codegen import generate
    from edgecraft.codegen.host import HostModel
    from edgecraft.emulate import emulate
    from edgecraft.runtime import run_model as run_runtime

    rng = np.random.default_rng(seed)
    inputs = [random_input(t, rng) for t in graph.input_tensors()]
    try:
        want = TflmRunner(data).run(inputs)
    except Exception as e:  # TFLM's interpreter raises RuntimeError subclasses of its own
        return {"tflm": _refusal(e)}
    row = {}
    try:
        row["runtime"] = compare(run_runtime(graph, inputs), want)
    except Exception as e:
        row["runtime"] = _refusal(e)
    for label, dsp in (("c", False), ("c dsp", True)):
        try:
            row[label] = compare(HostModel(generate(graph, "m", dsp=dsp)).run(inputs), want)
        except Exception as e:
            row[label] = _refusal(e)
    for target in targets:
        try:
            result = emulate(graph, target, [x[None] for x in inputs], name="m")
            row[target] = compare([o[0] for o in result.outputs], want)
        except Exception as e:
            row[target] = _refusal(e)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="a TFLM checkout, or any folder of .tflite files")
    ap.add_argument("--targets", default="", help="comma-separated QEMU machines (e.g. qemu-m4,qemu-m55)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    args = ap.parse_args(argv)
    if not args.folder.is_dir():
        print(f"error: {args.folder} is not a folder; give a TFLM checkout or a folder of .tflite files",
              file=sys.stderr)
        return 2
    targets = [t for t in args.targets.split(",") if t]
    files = sorted(args.folder.rglob("*.tflite"))
    rows: dict[str, dict[str, Any]] = {}
    import warnings

    with Progress(*Progress.get_default_columns(), TextColumn("{task.fields[model]}"),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("models", total=len(files), model="")
        for path in files:
            name = str(path.relative_to(args.folder))
            bar.update(task, model=name)
            data = path.read_bytes()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the reader's notes on how it read odd quantization
                try:
                    graph = read_tflite_bytes(data, name)
                    rows[name] = run_model(graph, data, targets, args.seed)
                except ModelFormatError as e:
                    rows[name] = {"read": _refusal(e)}
            bar.advance(task)
    columns = ["runtime", "c", "c dsp", *targets]
    diffs = sum(v == "DIFF" for row in rows.values() for v in row.values())
    summary = {c: sum(row.get(c, "").startswith(("exact", "~")) for row in rows.values()) for c in columns}
    if args.json:
        print(json.dumps({"models": rows, "agree": summary, "total": len(rows), "diff": diffs}))
    else:
        table = Table(title=f"{len(rows)} .tflite files under {args.folder}: edgecraft vs TFLM")
        for c in ["model", *columns]:
            table.add_column(c, overflow="fold")
        for name, row in rows.items():
            if "read" in row or "tflm" in row:
                table.add_row(name, row.get("read") or row["tflm"], *[""] * (len(columns) - 1))
            else:
                table.add_row(name, *[row.get(c, "") for c in columns])
        console = Console(width=200)
        console.print(table)
        console.print("agree with TFLM: " + ", ".join(f"{c} {n}/{len(rows)}" for c, n in summary.items())
                      + f"; integer differences: {diffs}")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
