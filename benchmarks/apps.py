"""Every application template trained at full size, offline: metrics, board cost and time.

Run: ``.venv/bin/python benchmarks/apps.py [--kinds sine,gesture,kws] [--out DIR]``

For each kind it runs ``edgecraft app new KIND OUT/KIND`` and ``edgecraft train OUT/KIND
--format json`` (the full-size spec of the template, not ``--quick``) and prints the int8 test
metrics, RAM/flash/latency on the template's board and the wall time. The numbers in the
README's application table come from one run of this script.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

KINDS = ("sine", "gesture", "kws", "wakeword", "anomaly", "person")
HEADLINE = (
    "accuracy",
    "mae",
    "max_abs_error",
    "false_accepts_per_hour",
    "hours",
    "demo_detected",
    "auc",
    "pauc",
)


def run(kind: str, out: Path) -> dict[str, object]:
    d = out / kind
    if not (d / "app.toml").exists():
        subprocess.run([sys.executable, "-m", "edgecraft", "app", "new", kind, str(d)], check=True)
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "edgecraft", "train", str(d), "--format", "json"],
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        return {"kind": kind, "error": proc.stderr.strip().splitlines()[-1:], "seconds": round(seconds, 1)}
    r = json.loads(proc.stdout)
    return {
        "kind": kind,
        "seconds": round(seconds, 1),
        **{k: r["metrics"][k] for k in HEADLINE if k in r["metrics"]},
        "ram_bytes": r["ram_bytes"],
        "flash_bytes": r["flash_bytes"],
        "latency_ms": r["latency_ms"],
        "board": r["board"],
        "epochs": r["training"]["epochs"],
        "report": r["report"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--out", type=Path, default=None, help="where the applications go (default: a temp dir)")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="edgecraft-apps-"))
    rows = [run(k, out) for k in args.kinds.split(",")]
    table = Table(title=f"applications at full size ({out})")
    keys = ["kind", *HEADLINE, "ram_bytes", "flash_bytes", "latency_ms", "board", "epochs", "seconds"]
    keys = [k for k in keys if any(k in r for r in rows)]
    for k in keys:
        table.add_column(k)
    for r in rows:
        table.add_row(*(str(r.get(k, "")) for k in keys))
    Console().print(table)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
