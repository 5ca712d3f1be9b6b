"""Predicted vs published MLPerf Tiny latency (and energy) for the cost model's calibration set.

Run: ``.venv/bin/python benchmarks/costmodel.py [--models DIR]``

The cost model (``edgecraft.targets.costmodel``) is a least-squares fit: cycles = k_run x W with
W = conv MACs + delta x depthwise MACs + phi x fully-connected MACs + other MACs. For each
published (run, model) figure this prints the fitted prediction (in sample) and the
leave-one-out prediction (fitted on the 19 other figures), with ratios, then the RMS errors the
profile command quotes. Model work comes from the reference models in the conformance corpus
when present (checked against the stored calibration features), else from the stored features.
Energy: predicted latency x the board's catalog active power, vs the published energy (note:
those boards' power figures come from the same MLPerf runs, so only the latency part is tested).

``--emulated`` re-measures the instruction counts behind the ``emulated`` core entries (needs
arm-none-eabi-gcc and qemu-system-arm): edgecraft's generated C for each workload on each QEMU
machine, the ratio to qemu-m4 next to the stored one, and the JSON block to store.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from rich.console import Console
from rich.table import Table

from edgecraft.formats import read_tflite
from edgecraft.targets import board_slugs, get_board
from edgecraft.targets.costmodel import FEATURES, calibration, calibration_data, percent, work_features

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "conformance"


def model_features(corpus: Path) -> tuple[dict[str, dict[str, int]], str]:
    data = calibration_data()
    feats: dict[str, dict[str, int]] = {}
    source = "computed from the conformance models"
    for key, m in data["models"].items():
        path = corpus / f"{m['file']}.tflite"
        if not path.exists():
            return {k: {f: v[f] for f in FEATURES} for k, v in data["models"].items()}, "stored features"
        got = work_features(read_tflite(path))
        if any(got[f] != m[f] for f in FEATURES):
            source += f" (WARNING: {key} differs from the stored calibration features)"
        feats[key] = got
    return feats, source


def measure_emulated(corpus: Path) -> None:
    import numpy as np

    from edgecraft.emulate.runner import emulate
    from edgecraft.models.synthetic import small_cnn

    stored = calibration_data()["emulated"]["instructions"]
    machines = ["qemu-m3", "qemu-m4", "qemu-m7", "qemu-m33", "qemu-m55"]
    graphs = {"small_cnn": small_cnn()}
    for key in ("kws", "ad"):
        path = corpus / f"{calibration_data()['models'][key]['file']}.tflite"
        if path.exists():
            graphs[key] = read_tflite(path)
    table = Table(title="instructions per inference under QEMU (ratio to qemu-m4: now / stored)",
                  title_justify="left")
    for col in ("workload", *machines):
        table.add_column(col, justify="left" if col == "workload" else "right")
    measured: dict[str, dict[str, int]] = {}
    for name, g in graphs.items():
        x = [np.zeros((1, *t.shape), t.np_dtype) for t in g.input_tensors()]
        measured[name] = {m: emulate(g, m, x).instructions for m in machines}
        cells = []
        for m in machines:
            now = measured[name][m] / measured[name]["qemu-m4"]
            old = stored.get(name, {})
            was = old[m] / old["qemu-m4"] if m in old else float("nan")
            cells.append(f"{measured[name][m]:,} ({now:.2f} / {was:.2f})")
        table.add_row(name, *cells)
    Console(width=170).print(table)
    print(json.dumps(measured))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=CORPUS)
    ap.add_argument("--emulated", action="store_true", help="re-measure the QEMU instruction counts")
    args = ap.parse_args()
    if args.emulated:
        measure_emulated(args.models)
        return
    feats, source = model_features(args.models)
    cal = calibration()
    fit = cal.fit
    table = Table(title=f"MLPerf Tiny latency (ms): published vs cost model ({source})", title_justify="left")
    for col in ("run", "model", "published", "fit", "fit/pub", "leave-one-out", "loo/pub", "energy pub uJ",
                "energy est uJ"):
        table.add_column(col, justify="left" if col in ("run", "model") else "right")
    for run in calibration_data()["runs"]:
        # NUCLEO-G0B1RE is calibration data only, not a catalog board
        board = get_board(run["board"]) if run["board"] in board_slugs() else None
        for m, published in run["latency_ms"].items():
            pred = fit.predict_ms(run, feats[m])
            loo = cal.loo_predictions[run["id"], m]
            e_pub = run.get("energy_uj", {}).get(m)
            e_est = pred * board.active_mw if board is not None and board.active_mw is not None else None
            table.add_row(run["id"] if m == "kws" else "", m, f"{published:,.2f}", f"{pred:,.2f}",
                          f"{pred / published:.2f}", f"{loo:,.2f}", f"{loo / published:.2f}",
                          "-" if e_pub is None else f"{e_pub:,}",
                          "-" if e_pub is None or e_est is None else f"{e_est:,.0f}")
        table.add_section()
    console = Console(width=150)
    console.print(table)
    console.print(f"shared weights: delta (depthwise MAC) = {fit.delta:.3f}, phi (fully connected MAC) = "
                  f"{fit.phi:.3f} conv-MAC equivalents")
    console.print("cycles per conv MAC by run: " + ", ".join(f"{k} {v:.2f}" for k, v in fit.k.items()))
    console.print(f"in-sample RMS log error {fit.rms_log_error:.3f} (+-{percent(fit.rms_log_error)}%); "
                  f"leave-one-out RMS log error {cal.loo_rms_log_error:.3f} "
                  f"(+-{percent(cal.loo_rms_log_error)}%, the error quoted for fitted cores)")
    worst = max(cal.loo_predictions.items(), key=lambda kv: abs(math.log(
        kv[1] / next(r for r in calibration_data()["runs"] if r["id"] == kv[0][0])["latency_ms"][kv[0][1]])))
    console.print(f"worst leave-one-out figure: {worst[0][0]} {worst[0][1]}")


if __name__ == "__main__":
    main()
