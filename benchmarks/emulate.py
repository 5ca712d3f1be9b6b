"""The generated C on emulated Cortex-M4 and M7: instructions per inference, MACs per
instruction, flash and RAM, portable vs DSP kernels, next to MLPerf Tiny's published latencies.

Run: ``.venv/bin/python benchmarks/emulate.py [--models kws,micro] [--json]``

For each conformance model (../shared/conformance; the built-in synthetic CNN when it is
absent) on qemu-m4 and qemu-m7, with the portable and with the DSP kernels: the exact number of
instructions one inference executes (our QEMU plugin), MACs / instruction, the model's flash and
static RAM (ELF symbols) and peak stack (painted), and the flash beyond the weights (the model
part's flash less the bytes of the model's constant tensors: kernel code, quantization
parameters, re-laid-out filters' extra bytes, operator structs). Outputs are checked against
TFLM. TFLM's micro_speech architecture (not in the corpus) is built here with random weights.

Published figures (../shared/TOOLCHAIN.md, MLPerf Tiny v0.5-v1.3) sit beside our latency on the
same board: the instruction classes our plugin counts, priced by the cycle model
(``edgecraft.targets.cycles``: per-core cycles per class from the technical reference manuals,
flash wait states at the board's clock). Those published rows ran other kernels (TFLM 2.3 with
CMSIS-NN, X-CUBE-AI, Plumerai), ours run edgecraft's: the error column mixes the cycle model's
error with the kernels' difference. The cycle model alone is checked in ``benchmarks/kernels.py``
(CMSIS-NN's kernels counted and priced the same way against the TFLM + CMSIS-NN row).
Also printed: the host C library's time per inference against TFLM's Python package (same run).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel
from edgecraft.emulate import emulate
from edgecraft.formats import read_tflite, write_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.models.synthetic import small_cnn
from edgecraft.ops.registry import graph_macs
from edgecraft.reference import TflmRunner
from edgecraft.targets import get_board
from edgecraft.targets.cycles import estimate_cycles

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "conformance"
MODELS = {"kws_ref_model": "KWS", "vww_96_int8": "VWW", "pretrainedResnet_quant": "IC", "ad01_int8": "AD"}
#: (catalog board, system, {task: published latency ms}) per emulated core.
PUBLISHED = {
    "qemu-m4": [
        ("stm32l4r5-nucleo", "TFLM 2.3 + CMSIS-NN (v0.5)",
         {"KWS": 181.9, "VWW": 600.6, "IC": 704.2, "AD": 10.05}),
        ("stm32l4r5-nucleo", "X-CUBE-AI 10.2 (v1.3)", {"KWS": 43.4, "VWW": 89.4, "IC": 165.7, "AD": 4.79}),
    ],
    "qemu-m7": [
        ("stm32f746-disco", "Plumerai (v1.1)", {"KWS": 17.7, "VWW": 34.1, "IC": 62.9, "AD": 1.71}),
    ],
}


def micro_speech(seed: int = 0) -> Graph:
    """TFLM's micro_speech architecture (not in the corpus, so built here at its shapes with
    random weights): 49x40 features, one-channel CONV_2D 10x8 stride 2 SAME with 8 filters and
    ReLU, reshaped to 4,000 values, FULLY_CONNECTED to 4 classes, SOFTMAX."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("micro_speech")
    s_in = 0.1
    x = g.tensor("features", (1, 49, 40, 1), "int8", qparams(s_in, -128))
    ws = rng.uniform(0.002, 0.02, 8).astype(np.float32)
    w = g.const("conv_w", rng.integers(-127, 128, (8, 10, 8, 1)).astype(np.int8), qparams(ws, 0, 0))
    b = g.const("conv_b", rng.integers(-2000, 2000, 8).astype(np.int32), qparams(s_in * ws, 0))
    s_c = s_in * float(ws.mean()) * 127 * 9 / 4
    c = g.tensor("conv", (1, 25, 20, 8), "int8", qparams(s_c, -128))
    g.op("CONV_2D", [x, w, b], [c], padding="SAME", stride_h=2, stride_w=2, dilation_h_factor=1,
         dilation_w_factor=1, fused_activation_function="RELU")
    flat = g.tensor("flat", (1, 4000), "int8", qparams(s_c, -128))
    g.op("RESHAPE", [c, g.const("shape", np.array([1, 4000], np.int32))], [flat], new_shape=[1, 4000])
    fs = 0.004
    fw = g.const("fc_w", rng.integers(-127, 128, (4, 4000)).astype(np.int8), qparams(fs, 0))
    fb = g.const("fc_b", rng.integers(-2000, 2000, 4).astype(np.int32), qparams(s_c * fs, 0))
    logits = g.tensor("logits", (1, 4), "int8", qparams(s_c * fs * 127 * 63 / 16, 10))
    g.op("FULLY_CONNECTED", [flat, fw, fb], [logits], fused_activation_function="NONE", keep_num_dims=False)
    y = g.tensor("probabilities", (1, 4), "int8", qparams(1 / 256, -128))
    g.op("SOFTMAX", [logits], [y], beta=1.0)
    return g.build([x], [y])


def models() -> list[tuple[str, str | None, Graph]]:
    found = [(name, task, read_tflite(CORPUS / f"{name}.tflite")) for name, task in MODELS.items()
             if (CORPUS / f"{name}.tflite").exists()]
    found = found or [("small_cnn (synthetic twin)", None, small_cnn(seed=0))]
    return [*found, ("micro_speech (architecture, random weights)", None, micro_speech())]


def weight_bytes(graph: Graph) -> int:
    """Bytes of the model's constant tensors as the file stores them (filters, biases, ...)."""
    return sum(t.nbytes for t in graph.tensors if t.data is not None)


def host_vs_tflm(graph: Graph, x: list[np.ndarray], repeats: int = 20) -> tuple[float, float]:
    """(host C ms, TFLM ms) per inference, medians."""
    host = HostModel(generate(graph, "bench"))
    tflm = TflmRunner(write_tflite(graph))

    def median(fn: Any) -> float:
        fn()
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        return statistics.median(times)

    return median(lambda: host.run(x)), median(lambda: tflm.run(x))


def run(only: list[str] | None = None) -> dict[str, Any]:
    rows, published, host = [], [], []
    for name, task, graph in models():
        if only and not any(name.startswith(m) for m in only):
            continue
        x = [np.random.default_rng(0).integers(-128, 128, (1, *t.shape)).astype(np.int8)
             for t in graph.input_tensors()]
        want = TflmRunner(write_tflite(graph)).run([a[0] for a in x])[0]
        work, weights = graph_macs(graph), weight_bytes(graph)
        host_ms, tflm_ms = host_vs_tflm(graph, [a[0] for a in x])
        host.append({"model": name, "host_c_ms": round(host_ms, 3), "tflm_ms": round(tflm_ms, 3),
                     "ratio": round(host_ms / tflm_ms, 3)})
        for target in ("qemu-m4", "qemu-m7"):
            counts: dict[bool, Any] = {}
            for dsp in (False, True):
                r = emulate(graph, target, x, name="bench", dsp=dsp)
                exact = bool(np.array_equal(r.outputs[0][0], want))
                counts[dsp] = r
                rows.append({"model": name, "target": target, "kernels": "dsp" if dsp else "portable",
                             "instructions": r.instructions, "macs": work,
                             "macs_per_instruction": round(work / r.instructions, 3),
                             "flash_bytes": r.flash_bytes, "ram_bytes": r.ram_bytes,
                             "beyond_weights_bytes": r.flash_bytes - weights,
                             "stack_bytes": r.stack_bytes, "exact_vs_tflm": exact})
            for slug, system, table in PUBLISHED[target]:
                if task is None:
                    continue
                board, ms = get_board(slug), table[task]
                est = estimate_cycles(counts[True].classes, board)
                published.append({
                    "model": name, "target": target, "board": slug, "clock_mhz": board.clock_mhz,
                    "system": system, "published_ms": ms, "ours_dsp_instructions": counts[True].instructions,
                    "ours_cycles": est.cycles, "ours_cpi": round(est.cycles_per_instruction, 3),
                    "ours_ms": round(est.latency_ms, 2), "ours_over_published": round(est.latency_ms / ms, 3),
                })
    return {"emulated": rows, "published": published, "host": host,
            "conversion": "ours_ms = instruction classes priced by the cycle model (targets/cycles.json) "
                          "at the board's clock and flash wait states; the published rows ran other kernels"}


def show(data: dict[str, Any]) -> None:
    console = Console(width=200)
    t = Table(title="Generated C on QEMU: one inference", title_justify="left")
    for col in ("model", "target", "kernels", "instructions", "MACs/instr", "flash B", "beyond weights B",
                "RAM B", "stack B", "exact"):
        t.add_column(col, justify="left" if col in ("model", "target", "kernels") else "right")
    for r in data["emulated"]:
        t.add_row(r["model"], r["target"], r["kernels"], f"{r['instructions']:,}",
                  f"{r['macs_per_instruction']:.3f}", f"{r['flash_bytes']:,}",
                  f"{r['beyond_weights_bytes']:,}",
                  f"{r['ram_bytes']:,}",
                  f"{r['stack_bytes']:,}", "yes" if r["exact_vs_tflm"] else "NO")
    console.print(t)
    if data["published"]:
        p = Table(title="MLPerf Tiny published latency (other kernels) vs ours priced by the cycle model",
                  title_justify="left")
        for col in ("model", "board", "system", "published ms", "our instr", "our cycles", "CPI", "our ms",
                    "ours / published"):
            p.add_column(col, justify="left" if col in ("model", "board", "system") else "right")
        for r in data["published"]:
            p.add_row(r["model"], f"{r['board']} {r['clock_mhz']:g} MHz", r["system"],
                      f"{r['published_ms']:g}",
                      f"{r['ours_dsp_instructions']:,}", f"{r['ours_cycles']:,}", f"{r['ours_cpi']:.2f}",
                      f"{r['ours_ms']:g}", f"{r['ours_over_published']:.2f}")
        console.print(p)
        console.print(f"[dim]{data['conversion']}[/dim]")
    h = Table(title="Host: generated C (gcc -O2, ctypes) vs TFLM Python package, ms per inference",
              title_justify="left")
    for col in ("model", "host C ms", "TFLM ms", "C / TFLM"):
        h.add_column(col, justify="left" if col == "model" else "right")
    for r in data["host"]:
        h.add_row(r["model"], f"{r['host_c_ms']:.3f}", f"{r['tflm_ms']:.3f}", f"{r['ratio']:.3f}")
    console.print(h)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--models", default="", help="comma-separated name prefixes to run (default: all)")
    args = parser.parse_args()
    data = run([m for m in args.models.split(",") if m])
    if args.json:
        print(json.dumps(data))
    else:
        show(data)


if __name__ == "__main__":
    main()
