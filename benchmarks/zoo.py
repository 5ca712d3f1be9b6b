"""The front door's model zoo at real size: PyTorch -> full int8 -> TFLM-exact -> MCU.

Run: ``.venv/bin/python benchmarks/zoo.py [--families a,b] [--qemu-max-macs N] [--json OUT]``

For every family of ``edgecraft.models.zoo`` (random seeded weights, 32 random calibration
inputs, 8 held out): ``check`` and ``quantize`` wall time, whether the result is full int8 (int8
input and output, no float op, no DEQUANTIZE; an int8 -> int8 QUANTIZE, TFLM's requantize, is
counted apart), int8 op count, parameters, MACs, int8 weight bytes, the
arena of TFLM's own planner (``greedy``, equal to TFLM's) and of edgecraft's default
(``overlap``), RAM and flash on the Nano 33 BLE (nRF52840) from the profiler, which MCU boards
it fits, edgecraft runtime == TFLM on the held-out inputs, float/int8 top-1 agreement and the
largest output error (random weights: the autoencoder's top-1 means nothing), and the
instructions of one inference on qemu-m4 and on qemu-m7 (DSP kernels; only when the MACs are
below ``--qemu-max-macs`` and the model fits the machine: each emulated run is also checked
against TFLM). Prints a markdown table (the README's).

The model is converted once: ``check`` calibrated on the 32 calibration inputs makes exactly the
conversion ``quantize`` makes (export, PT2E, litert-torch, finish, rewrite: about 85% of a
family's time, measured with cProfile on mnasnet0_5), so ``check s`` is that conversion and
``quantize s`` adds quantize's report (float vs int8 on the held-out inputs, 2 per-layer
samples). Each row also records where its seconds went (``seconds``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

MCU_BOARDS = ("nano33ble", "pico", "sparkfun-edge", "stm32l4r5-nucleo", "stm32f746-disco", "esp32s3")


def measure(name: str, qemu_max_macs: int, full: bool = True) -> dict[str, Any]:
    """Every number of one family (see the module text)."""
    import torch

    from edgecraft.formats import write_tflite
    from edgecraft.models.zoo import FAMILIES, build
    from edgecraft.ops.registry import graph_macs
    from edgecraft.optimize import check, float_ops
    from edgecraft.optimize.ptq import QuantizedModel, evaluate
    from edgecraft.optimize.substitute import substitute
    from edgecraft.plan import plan_memory
    from edgecraft.reference import TflmRunner
    from edgecraft.runtime import Interpreter
    from edgecraft.targets import profile

    model, shape = build(name, full=full)
    x = torch.randn(40, *shape, generator=torch.Generator().manual_seed(1))
    row: dict[str, Any] = {"family": name, "source": FAMILIES[name].source, "note": FAMILIES[name].note,
                           "params": int(sum(p.numel() for p in model.parameters()))}
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    # one conversion serves both: check calibrated on the 32 calibration inputs converts exactly
    # as quantize does (export, PT2E, litert-torch, finish, rewrite; ~85% of the time)
    report = check(model, x[:1], calibration=x[:32])
    row["check_s"] = seconds["convert"] = round(time.perf_counter() - t, 1)
    row["check_ok"] = report.ok
    if report.graph is None:  # a family that does not convert is a result, not a crash
        row["error"] = (report.error or "; ".join(f"{i.layer or '-'}: {i.op}: {i.problem}"
                                                  for i in report.issues))[:200]
        return row
    g = report.graph
    t = time.perf_counter()
    qm = QuantizedModel(g, write_tflite(g))
    qm.report = evaluate(qm, substitute(model.eval()), x[32:], layer_samples=2)
    seconds["report"] = round(time.perf_counter() - t, 1)
    row["quantize_s"] = round(row["check_s"] + seconds["report"], 1)
    t = time.perf_counter()
    types = [op.type for op in g.operators]
    row["full_int8"] = not float_ops(g) and "DEQUANTIZE" not in types \
        and g.input_tensors()[0].dtype == "int8" and g.output_tensors()[0].dtype == "int8"
    row["requantize"] = types.count("QUANTIZE")  # int8 -> int8 (TFLM's requantize), not float
    row["ops"] = len(types)
    row["macs"] = int(graph_macs(g))
    row["weights_bytes"] = int(sum(t.data.nbytes for t in g.tensors if t.data is not None))
    row["arena_greedy"] = plan_memory(g, "greedy").arena_bytes
    row["arena_overlap"] = plan_memory(g, "overlap").arena_bytes
    profiles = {b: profile(g, b) for b in ("nano33ble", *MCU_BOARDS, "qemu-m4", "qemu-m7")}
    nano = profiles["nano33ble"]
    row["ram_bytes"], row["flash_bytes"] = nano["ram_bytes"], nano["flash_bytes"]
    row["fits"] = [b for b in MCU_BOARDS if profiles[b]["fits"]]
    seconds["plan_profile"] = round(time.perf_counter() - t, 1)
    row["agreement"] = qm.report.agreement
    row["max_abs_error"] = round(qm.report.max_abs_error, 4)
    t = time.perf_counter()
    inputs = [qm.input_int8(s) for s in x[32:].numpy()]
    runner, interp = TflmRunner(qm.tflite), Interpreter(g)
    want = [runner.run([q])[0] for q in inputs]
    row["tflm_exact"] = all(np.array_equal(interp.run([q])[0], w) for q, w in zip(inputs, want, strict=True))
    seconds["tflm"] = round(time.perf_counter() - t, 1)
    for machine in ("qemu-m4", "qemu-m7"):
        key = machine.replace("-", "_")
        row[f"{key}_insns"] = None
        if row["macs"] > qemu_max_macs or not profiles[machine]["fits"]:
            continue
        from edgecraft.emulate import emulate

        t = time.perf_counter()
        run = emulate(g, machine, [np.stack(inputs[:1])], name=name)
        row[f"{key}_insns"] = int(run.instructions)
        exact = bool(np.array_equal(run.outputs[0][0].reshape(want[0].shape), want[0]))
        row["qemu_exact"] = row.get("qemu_exact", True) and exact
        seconds[key] = round(time.perf_counter() - t, 1)
    row["seconds"] = seconds
    return row


def _k(n: int) -> str:
    return f"{n / 1e6:.2f} M" if n >= 1e6 else f"{n / 1e3:.1f} k"


def _full(r: dict[str, Any]) -> str:
    if not r["full_int8"]:
        return "no"
    n = r.get("requantize", 0)
    return f"yes ({n} int8 requantize)" if n else "yes"


def markdown(rows: list[dict[str, Any]]) -> str:
    """The README table."""
    head = ("| family | source | check s | quantize s | full int8 | int8 ops | params | MACs | weights | "
            "arena greedy (= TFLM) | arena overlap | RAM / flash (Nano 33 BLE) | fits | TFLM-exact | "
            "agreement (max abs error) | qemu-m4 / qemu-m7 instructions |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['family']} | {r['source']} | {r['check_s']} | - | no: {r['error']} |"
                         + " |" * 11)
            continue
        insns = " / ".join(f"{r[k]:,}" if r.get(k) is not None else "-"
                           for k in ("qemu_m4_insns", "qemu_m7_insns"))
        insns = "-" if insns == "- / -" else insns + ("" if r.get("qemu_exact", True) else " (NOT exact)")
        lines.append(
            f"| {r['family']} ({r['note']}) | {r['source']} | {r['check_s']} | {r['quantize_s']} | "
            f"{_full(r)} | {r['ops']} | {_k(r['params'])} | {_k(r['macs'])} | "
            f"{r['weights_bytes']:,} | {r['arena_greedy']:,} | {r['arena_overlap']:,} | "
            f"{r['ram_bytes']:,} / {r['flash_bytes']:,} | {', '.join(r['fits']) or 'none'} | "
            f"{'yes' if r['tflm_exact'] else 'NO'} | {r['agreement']:.2f} ({r['max_abs_error']}) | {insns} |")
    return "\n".join(lines)


def main() -> None:
    from edgecraft.models.zoo import FAMILIES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default=",".join(FAMILIES), help="comma-separated (default: all)")
    ap.add_argument("--qemu-max-macs", type=int, default=30_000_000,
                    help="emulate on qemu-m4 only models with at most this many MACs")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON")
    ap.add_argument("--tiny", action="store_true", help="the tests' tiny sizes (a quick smoke run)")
    args = ap.parse_args()
    rows = []
    for name in args.families.split(","):
        rows.append(measure(name, args.qemu_max_macs, full=not args.tiny))
        print(json.dumps(rows[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print(markdown(rows))


if __name__ == "__main__":
    main()
