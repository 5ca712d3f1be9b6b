"""Arena and RAM per planning algorithm vs TFLM's own arena report and vs the lower bound.

Run: ``.venv/bin/python benchmarks/memory.py [--models DIR] [--device qemu-m4|none]``

For each int8 .tflite in the conformance corpus (../shared/conformance; the built-in synthetic
models when it is absent): TFLM's arena report (``print_allocations`` through
``reference.tflm_arena_report``: "head" = planned activations, "total" = head + persistent data
on this 64-bit host) measured in this run, the live-tensor lower bound (largest sum of tensors
alive at one step, graph order, no sharing), and for each algorithm edgecraft's arena, its own
bound (the same sum after that algorithm's in-place, reordering and overlap rules) and total
RAM (arena + modelled TFLM-like persistent data for a 32-bit device), with the ratios
arena/TFLM head and arena/live bound. Every plan is also executed by the arena runtime and its
outputs compared with TFLM's (``exact``).

Then (``--device``, default qemu-m4) it builds each model with ``edgecraft build`` for that
emulated board and prints its RAM as the sum of every part: the arena (kernel scratch planned
in it), the model objects' other .bss/.data, the peak stack of one inference painted and
measured on QEMU, and input/output buffers outside the arena (none: the caller uses them in
place in the arena); beside it TFLM's whole arena for the model (head + tail, as TFLM's
``print_allocations`` reports it in this run on this 64-bit host), the ratio (goal: at most 0.5),
and a bound no plan of the same buffers goes below (the plan's live bound + the measured stack);
and the flash beyond the weights (the linked image's model part, less the bytes of the model's
constant tensors: code, quantization tables, parameter blocks; goal on KWS: at most 8 KB).
Needs arm-none-eabi-gcc and qemu-system-arm.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from edgecraft.formats import read_tflite_bytes, write_tflite
from edgecraft.plan import ALGORITHMS, lower_bound, plan_memory
from edgecraft.plan.accounting import ram_parts
from edgecraft.reference import TflmRunner, tflm_arena_report
from edgecraft.runtime import Interpreter

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "conformance"


def builtin_models() -> list[tuple[str, bytes]]:
    from edgecraft.models.synthetic import small_cnn, tiny_mlp

    return [("builtin_small_cnn", write_tflite(small_cnn())), ("builtin_tiny_mlp", write_tflite(tiny_mlp()))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=CORPUS)
    ap.add_argument("--device", metavar="TARGET", default="qemu-m4",
                    help="build for this emulated board and itemize RAM (default qemu-m4; 'none' skips it)")
    ap.add_argument("--tflm-src", default=None,
                    help="a tflite-micro checkout (default $TFLM_SRC): also build TFLM for the board and "
                         "compare with its measured 32-bit whole arena (benchmarks/tflm_device.py)")
    args = ap.parse_args()
    paths = sorted(args.models.glob("*.tflite")) if args.models.exists() else []
    entries = [(p.stem, p.read_bytes()) for p in paths] or builtin_models()
    rng = np.random.default_rng(0)
    table = Table(title="arena bytes per algorithm vs TFLM (head = planned activations) and the lower bound",
                  title_justify="left")
    for col in ("model", "algorithm", "arena", "TFLM head", "arena/TFLM", "live bound", "arena/live",
                "own bound", "RAM (32-bit)", "TFLM total (host)", "exact"):
        table.add_column(col, justify="left" if col in ("model", "algorithm", "exact") else "right")
    verdicts = []
    for name, raw in entries:
        graph = read_tflite_bytes(raw, name)
        if graph.input_tensors()[0].dtype == "float32":
            continue  # TFLM refuses float conv models; the planner comparison is about int8 models
        report = tflm_arena_report(raw)
        bound = lower_bound(graph)
        xs = [rng.integers(-128, 128, t.shape, dtype=t.np_dtype) for t in graph.input_tensors()]
        want = TflmRunner(raw).run(xs)
        arenas = {}
        for a in ALGORITHMS:
            plan = plan_memory(graph, a)
            arenas[a] = plan.arena_bytes
            ram = sum(ram_parts(graph, plan).values())
            got = Interpreter(graph, plan=plan).run(xs)
            exact = all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))
            table.add_row(name if a == ALGORITHMS[0] else "", a, f"{plan.arena_bytes:,}",
                          f"{report['head']:,}",
                          f"{plan.arena_bytes / report['head']:.3f}", f"{bound:,}",
                          f"{plan.arena_bytes / bound:.3f}", f"{plan.lower_bound_bytes:,}", f"{ram:,}",
                          f"{report['total']:,}",
                          "yes" if exact else "NO")
        best = min(arenas.values())
        verdicts.append(f"{name}: greedy {'=' if arenas['greedy'] == report['head'] else '!='} TFLM head; "
                        f"best {best:,} B = {best / report['head']:.3f} x TFLM"
                        f"{' (never above)' if max(arenas.values()) <= report['head'] else ' (ABOVE TFLM)'}")
        table.add_section()
    console = Console(width=200)
    console.print(table)
    for v in verdicts:
        console.print(v)
    if args.device and args.device != "none":
        console.print(device_ram(entries, args.device, args.tflm_src))


def device_ram(entries: list[tuple[str, bytes]], target: str, tflm_src: str | None = None) -> Table | str:
    """RAM of each model built for ``target`` (edgecraft build, default planner), every part,
    against TFLM's whole arena: head + tail as TFLM's Python package (64-bit host) reports it,
    and, with a TFLM checkout, ``arena_used_bytes()`` of TFLM itself built for ``target``'s
    32-bit core (``benchmarks/tflm_device.py``), the figure a device has."""
    import shutil
    import sys
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from edgecraft.cli.build_cmd import build_project
    from edgecraft.emulate import emulate
    from edgecraft.plan import DEFAULT_ALGORITHM
    from tflm_device import TflmSourceError, run_tflm, tflm_source

    if not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")):
        return f"RAM on {target}: skipped (arm-none-eabi-gcc and qemu-system-arm are needed)"
    table = Table(title=f"RAM on {target}, every part (edgecraft build, planner '{DEFAULT_ALGORITHM}'; "
                  "stack painted and measured on QEMU) vs TFLM's whole arena", title_justify="left")
    try:
        src = tflm_source(tflm_src)
    except TflmSourceError as exc:
        src = None
        print(f"TFLM on {target}: not built ({exc}); the 64-bit host figures only")
    for col in ("model", "TFLM head", "TFLM tail", "TFLM whole", "arena (scratch in it)", "other .bss/.data",
                "peak stack", "I/O buffers", "total", "total/TFLM", "bound", "bound/TFLM", "goal 0.5",
                *((f"TFLM on {target} (32-bit)", "total/that", "goal 0.5") if src else ()),
                "flash beyond weights", "goal 8 KB (KWS)"):
        table.add_column(col, justify="left" if col == "model" else "right")
    with tempfile.TemporaryDirectory(prefix="edgecraft-memory-") as tmp:
        for name, raw in entries:
            graph = read_tflite_bytes(raw, name)
            if graph.input_tensors()[0].dtype == "float32":
                continue
            report = tflm_arena_report(raw)
            whole = report["head"] + report["tail"]
            model = Path(tmp) / f"{name}.tflite"
            model.write_bytes(raw)
            built = build_project(model, target, Path(tmp) / name, name, None, DEFAULT_ALGORITHM)
            ram = built["ram"]
            dsp, mve = built["dsp"], built["mve"]
            kernels = "mve" if mve else "dsp" if dsp else "portable"
            plan = plan_memory(graph, DEFAULT_ALGORITHM, kernels=kernels)
            # no plan of these buffers goes below their live bound; the stack is as measured
            bound = plan.lower_bound_bytes + ram["stack"]
            met = "met" if ram["total"] <= whole / 2 else "NOT met"
            device: tuple[str, ...] = ()
            if src is not None:
                xs = [np.zeros(t.shape, t.np_dtype) for t in graph.input_tensors()]
                arena = run_tflm(raw, target, xs, Path(tmp) / f"tflm-{name}", src).arena_used
                device = (f"{arena:,}", f"{ram['total'] / arena:.3f}",
                          "met" if ram["total"] <= arena / 2 else "NOT met")
            # flash as linked (unused kernel entries dropped), less the model's constant tensors
            zeros = [np.zeros((1, *t.shape), t.np_dtype) for t in graph.input_tensors()]
            linked = emulate(graph, target, zeros, name="model", dsp=dsp, mve=mve).flash_bytes
            beyond = linked - sum(t.nbytes for t in graph.tensors if t.data is not None)
            code_goal = ("met" if beyond <= 8192 else "NOT met") if name.startswith("kws") else ""
            table.add_row(name, f"{report['head']:,}", f"{report['tail']:,}", f"{whole:,}",
                          f"{ram['arena']:,}", f"{ram['persistent'] + ram['scratch']:,}", f"{ram['stack']:,}",
                          f"{ram['io_buffers']:,}", f"{ram['total']:,}", f"{ram['total'] / whole:.3f}",
                          f"{bound:,}", f"{bound / whole:.3f}", met, *device, f"{beyond:,}", code_goal)
    return table


if __name__ == "__main__":
    main()
