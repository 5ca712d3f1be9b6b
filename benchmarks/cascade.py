"""The edge-cloud cascade measured on the kws and anomaly applications.

Run: ``.venv/bin/python benchmarks/cascade.py [--kinds kws,anomaly] [--quick] [--out DIR]
[--link ble] [--send features]``

For each kind it makes two applications from the same template, the device's (``size =
"small"``, as the template ships) and the cloud's (the same data, front end and training at
``CLOUD_SIZE``: kws at ``medium``, MLPerf Tiny's DS-CNN; anomaly at ``large``, a bigger
autoencoder), trains both (skipped when ``OUT`` holds
them trained already), then runs ``edgecraft cascade sweep OUT/KIND --edge OUT/KIND --cloud
OUT/KIND-SIZE`` on the application's test set and prints the accuracy at 0%, 10%, 20% and
100% escalation, relative to the cloud model alone, with bytes per hour, mean latency and
device energy on the link. kws escalates by top probability; anomaly escalates the scores
closest to the small detector's threshold. The README's cascade table comes from one run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

KINDS = ("kws", "anomaly")
#: the cloud's model size per kind: kws at MLPerf Tiny's DS-CNN size, anomaly's largest autoencoder
CLOUD_SIZE = {"kws": "medium", "anomaly": "large"}
AT = (0.0, 0.1, 0.2, 1.0)


def edgecraft(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edgecraft", *args], capture_output=True, text=True)


def train(kind: str, d: Path, size: str, quick: bool) -> float:
    """Make and train the application in ``d`` at model ``size``; seconds spent (0 if it was)."""
    build = d / ("build-quick" if quick else "build") / "trained.json"
    if build.exists():
        return 0.0
    if not (d / "app.toml").exists():
        edgecraft("app", "new", kind, str(d)).check_returncode()
        toml = (d / "app.toml").read_text()
        (d / "app.toml").write_text(toml.replace('size = "small"', f'size = "{size}"', 1))
    start = time.monotonic()
    r = edgecraft("train", str(d), "--format", "json", *(["--quick"] if quick else []))
    if r.returncode != 0:
        raise SystemExit(f"training {d} failed: {r.stderr.strip().splitlines()[-1:]}")
    return time.monotonic() - start


def at(points: list[dict[str, Any]], frac: float) -> dict[str, Any]:
    """The point whose escalated fraction is closest to ``frac``."""
    return min(points, key=lambda p: abs(p["escalated"] - frac))


def run(kind: str, out: Path, quick: bool, link: str, send: str) -> dict[str, Any]:
    size = CLOUD_SIZE.get(kind, "large")
    edge, cloud = out / kind, out / f"{kind}-{size}"
    seconds = train(kind, edge, "small", quick) + train(kind, cloud, size, quick)
    cmd = ["cascade", "sweep", str(edge), "--edge", str(edge), "--cloud", str(cloud), "--link", link,
           "--send", send, "--format", "json"]
    r = edgecraft(*cmd)
    if r.returncode != 0:
        raise SystemExit(f"sweep on {kind} failed: {r.stderr.strip()}")
    res = json.loads(r.stdout)
    res["train_seconds"] = round(seconds, 1)
    res["command"] = "edgecraft " + " ".join(cmd[:-2])
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--quick", action="store_true", help="the templates' [quick] sizes (a smoke run)")
    ap.add_argument("--out", type=Path, default=None, help="where the applications go (reused)")
    ap.add_argument("--link", default="ble")
    ap.add_argument("--send", default="features")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="edgecraft-cascade-"))
    console = Console(width=160)
    rows = []
    for kind in args.kinds.split(","):
        res = run(kind.strip(), out, args.quick, args.link, args.send)
        rows.append(res)
        (out / f"cascade-{kind}.json").write_text(json.dumps(res, indent=2))
    t = Table(title=f"cascade on {args.link}, sending {args.send}{' (quick sizes)' if args.quick else ''}")
    for c in ("app", "samples", "edge alone", "cloud alone", "escalated", "accuracy", "vs cloud", "bytes/h",
              "latency ms", "energy mJ"):
        t.add_column(c, justify="right")
    for res in rows:
        for frac in AT:
            p = at(res["points"], frac)
            t.add_row(
                res["app"], str(res["samples"]), f"{res['edge']['accuracy']:.4f}",
                f"{res['cloud']['accuracy']:.4f}", f"{p['escalated']:.1%}", f"{p['accuracy']:.4f}",
                f"{p['relative_to_cloud']:.3f}", f"{p['bytes_per_hour']:,.0f}", f"{p['latency_ms']:.1f}",
                f"{p['energy_mj']:.3f}",
            )
    console.print(t)
    for res in rows:
        console.print(f"{res['app']}: {res['command']}  (payload {res['payload_bytes']} B, "
                      f"{res['rate_per_s']:g} inferences/s, device {res['edge']['latency_ms']:.1f} ms on "
                      f"{res['edge']['board']}, cloud {res['cloud']['server_ms']:.2f} ms/input measured; "
                      f"training {res['train_seconds']} s)")
    console.print(f"applications and JSON in {out}")


if __name__ == "__main__":
    main()
