"""Does the search find a model that dominates the template's default on nano33ble?

Run: ``.venv/bin/python benchmarks/search.py [--kinds gesture,anomaly,kws] [--trials 8]
[--budget-minutes M] [--out DIR]``

For each kind it runs ``edgecraft app new KIND OUT/KIND`` and ``edgecraft search OUT/KIND
--target nano33ble --trials N [--budget-minutes M] --format json`` (full-size data, a local Ray
on this machine's cores; the stated budget is wall time on them). The default model is trained
in the same search by the same pipeline (candidate ``default``). A found model is chosen
without looking at the test split: among the Pareto front's models with no more latency and
RAM than the default, the one with the best int8 validation score. It dominates when its
held-out int8 test score (accuracy; ROC AUC for anomaly) is higher than the default's. The
plots are copied to ``OUT/search-KIND-*.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BOARD = "nano33ble"


def run(kind: str, out: Path, trials: int, budget: float | None) -> dict[str, Any]:
    d = out / kind
    if not (d / "app.toml").exists():
        subprocess.run([sys.executable, "-m", "edgecraft", "app", "new", kind, str(d)], check=True)
    cmd = [sys.executable, "-m", "edgecraft", "search", str(d), "--target", BOARD, "--trials", str(trials)]
    if budget is not None:
        cmd += ["--budget-minutes", str(budget)]
    start = time.monotonic()
    proc = subprocess.run([*cmd, "--format", "json"], capture_output=True, text=True)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        return {"kind": kind, "error": proc.stderr.strip().splitlines()[:1], "seconds": round(seconds)}
    summary = json.loads(proc.stdout)
    results = {
        p.parent.name: json.loads(p.read_text()) for p in (d / "search" / "models").glob("*/result.json")
    }
    ref = results.get("default")
    front_ids = [p["config"]["id"] for p in summary["pareto"]]
    row: dict[str, Any] = {
        "kind": kind,
        "seconds": round(seconds),
        "trials": summary["trials"],
        "pruned_before_training": summary["pruned_before_training"],
        "front": len(front_ids),
    }
    if ref is None:
        return {**row, "error": "the default did not finish"}
    row["default"] = _brief(ref)
    eligible = [
        results[i]
        for i in front_ids
        if i != "default"
        and results[i]["latency_ms"] <= ref["latency_ms"]
        and results[i]["ram_bytes"] <= ref["ram_bytes"]
    ]
    if eligible:
        best = max(eligible, key=lambda r: (r["accuracy"], -r["latency_ms"]))
        row["found"] = _brief(best)
        row["dominates"] = best["test_accuracy"] > ref["test_accuracy"]
    else:
        row["found"], row["dominates"] = None, False
    for png in ("accuracy_latency.png", "accuracy_ram.png"):
        if (d / "search" / png).exists():
            shutil.copy(d / "search" / png, out / f"search-{kind}-{png}")
    return row


def _brief(r: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "accuracy", "test_accuracy", "latency_ms", "ram_bytes", "flash_bytes", "energy_uj")
    c = r["config"]
    return {
        **{k: r[k] for k in keys},
        "config": {
            **c["front_end"],
            **c["arch"],
            "method": c["method"],
            "pruning": c["pruning"],
            "lr": c["lr"],
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kinds", default="gesture,anomaly,kws")
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--budget-minutes", type=float, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="edgecraft-search-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"search on {BOARD}, {os.cpu_count()} cores, {args.trials} trials"
        + (f", budget {args.budget_minutes} min" if args.budget_minutes else "")
        + f"; in {out}"
    )
    for kind in args.kinds.split(","):
        row = run(kind, out, args.trials, args.budget_minutes)
        print(json.dumps(row, indent=1))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
