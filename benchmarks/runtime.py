"""Time per inference: edgecraft's Python runtime vs TFLM's Python package vs LiteRT.

Run: ``.venv/bin/python benchmarks/runtime.py [--repeats N] [--models DIR] [--reference]``
(``--reference`` times edgecraft's reference kernels alone, without its fast paths)

For each .tflite in the conformance corpus (../shared/conformance; a built-in model when it is
absent), all three runtimes get the same random inputs in one process; the table prints the
median CPU milliseconds per inference and edgecraft's time as a ratio of each reference (below 1.0
means edgecraft is faster). Outputs are also compared: int8 models must match TFLM exactly.
All three run single-threaded.
"""

from __future__ import annotations

import os

# TFLM and LiteRT run on one thread here; so does BLAS under edgecraft's kernels (set before
# numpy loads it), so the ratios compare like with like.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from edgecraft.formats import read_tflite_bytes, write_tflite
from edgecraft.ir.graph import Graph
from edgecraft.reference import LiteRtRunner, TflmRunner
from edgecraft.runtime import Interpreter

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "conformance"


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    """Median CPU milliseconds of ``fn()``: process CPU time, not wall time, so other work on
    the machine does not count (all three runtimes run on the calling thread here)."""
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.process_time()
        fn()
        times.append((time.process_time() - t) * 1000)
    return statistics.median(times)


def random_input(graph: Graph, rng: np.random.Generator) -> list[np.ndarray]:
    out = []
    for t in graph.input_tensors():
        if t.dtype == "int8":
            out.append(rng.integers(-128, 128, t.shape, dtype=np.int8))
        else:
            out.append(rng.standard_normal(t.shape).astype(t.np_dtype))
    return out


def builtin_model() -> bytes:
    from edgecraft.models.synthetic import small_cnn

    return write_tflite(small_cnn())


def measure(raw: bytes, name: str, rng: np.random.Generator, repeats: int,
            reference: bool = False) -> list[str]:
    """One table row: times of the three runtimes, the ratios, and exactness vs TFLM."""
    graph = read_tflite_bytes(raw, name)
    x = random_input(graph, rng)
    ours = Interpreter(graph, reference=reference)
    t_ours = median_ms(lambda: ours.run(x), repeats)
    lite = LiteRtRunner(raw)
    t_lite = median_ms(lambda: lite.run(x), repeats)
    if graph.input_tensors()[0].dtype == "float32":  # TFLM refuses float convolutions
        return [f"{t_ours:.2f}", "-", f"{t_lite:.2f}", "-", f"{t_ours / t_lite:.2f}", "n/a (float)"]
    tflm = TflmRunner(raw)
    t_tflm = median_ms(lambda: tflm.run(x), repeats)
    same = all(np.array_equal(a, b) for a, b in zip(ours.run(x), tflm.run(x), strict=True))
    return [f"{t_ours:.2f}", f"{t_tflm:.2f}", f"{t_lite:.2f}", f"{t_ours / t_tflm:.2f}",
            f"{t_ours / t_lite:.2f}", "yes" if same else "NO"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--models", type=Path, default=CORPUS)
    ap.add_argument("--reference", action="store_true", help="edgecraft's reference kernels alone")
    args = ap.parse_args()
    models = sorted(args.models.glob("*.tflite")) if args.models.exists() else []
    entries = [(p.stem, p.read_bytes()) for p in models] or [("builtin_small_cnn", builtin_model())]
    rng = np.random.default_rng(0)
    kernels = "reference kernels alone" if args.reference else "default, with fast paths"
    table = Table(title=f"CPU ms per inference (median of {args.repeats}; edgecraft {kernels})",
                  title_justify="left")
    columns = ("model", "edgecraft", "TFLM", "LiteRT", "edgecraft/TFLM", "edgecraft/LiteRT", "exact")
    for col in columns:
        table.add_column(col, justify="left" if col == "model" else "right")
    for name, raw in entries:
        table.add_row(name, *measure(raw, name, rng, args.repeats, args.reference))
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
