"""Federated learning benchmark: Flower against centralized training on the same pooled data.

For one application (gesture by default) it makes N non-IID clients (one person each), trains
the app's model centrally on all their data pooled (Adam, early stopping on 15% of it, the app's
own training loop), then federated with Flower for R rounds in several configurations, and
prints for each: final and best accuracy on people never seen, the gap to centralized, the
first round within 2 points of it, upload bytes per client per round, and wall time.

Usage: ``.venv/bin/python benchmarks/federated.py [--clients 100 --rounds 30 --fraction 0.2]``
(needs ``.venv-flower``, made by scripts/setup.sh).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.apps.spec import load_spec
from edgecraft.apps.templates import new_app
from edgecraft.federated.partition import make_partitions
from edgecraft.federated.simulate import FlSettings, simulate


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def centralized(app: Path, clients: int, seed: int) -> float:
    """Accuracy on held-out people of the app's model trained on all clients' data pooled."""
    import torch

    from edgecraft.apps.training import train
    from edgecraft.federated.simulate import initial_model
    from edgecraft.optimize.train import logits_of

    spec = load_spec(app)
    parts = make_partitions(spec, clients, seed)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(parts.x))
    cut = int(0.85 * len(order))
    tr, va = order[:cut], order[cut:]
    model = initial_model(spec, parts, seed)
    train(model, parts.x[tr], parts.y[tr], parts.x[va], parts.y[va], spec.training, "classify",
          progress=False)
    with torch.no_grad():
        out = logits_of(model)(torch.as_tensor(parts.test_x))
    return float((out.argmax(1).numpy() == parts.test_y).mean())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--app", default="gesture")
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--fraction", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default="", help="comma-separated configuration names")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    base = FlSettings(clients=args.clients, rounds=args.rounds, fraction=args.fraction, seed=args.seed)
    configs: dict[str, FlSettings] = {
        "fedavg": base,
        "fedavg int8 updates": dataclasses.replace(base, update_bits=8),
        "fedprox (mu 0.01)": dataclasses.replace(base, strategy="fedprox"),
        "fedadam": dataclasses.replace(base, strategy="fedadam"),
        "fedavg + DP (z 0.3, C 2)": dataclasses.replace(base, dp_noise=0.3, dp_clip=2.0),
        "fedavg + SecAgg+": dataclasses.replace(base, secagg=True),
    }
    if args.only:
        keep = args.only.split(",")
        configs = {k: v for k, v in configs.items() if k.split(" ")[0] in keep or k in keep}
    with tempfile.TemporaryDirectory() as tmp:
        app = new_app(args.app, Path(tmp) / args.app).parent
        t = time.time()
        central = centralized(app, args.clients, args.seed)
        log(f"centralized on the pooled data: accuracy {central:.4f} ({time.time() - t:.0f} s)")
        rows: list[dict[str, Any]] = []
        for name, s in configs.items():
            log(f"{name}: {s.clients} clients, {s.sampled()} per round, {s.rounds} rounds")
            t = time.time()
            out = simulate(app, s, work=Path(tmp) / "work")
            acc = [r["accuracy"] for r in out["rounds"]]
            within = next((r["round"] for r in out["rounds"] if r["accuracy"] >= central - 0.02), None)
            row = {
                "config": name,
                "final_accuracy": acc[-1],
                "best_accuracy": max(acc),
                "mean_last5": float(np.mean(acc[-5:])),
                "gap_points": 100 * (central - acc[-1]),
                "round_within_2_points": within,
                "upload_bytes_per_client": out["bytes_per_round"]["upload_per_client"],
                "download_bytes_per_client": out["bytes_per_round"]["download_per_client"],
                "epsilon": out.get("privacy", {}).get("epsilon"),
                "wall_s": time.time() - t,
                "flower_s": out["time_s"],
            }
            rows.append(row)
            log(json.dumps(row))
    print(f"\n{args.app}: {args.clients} non-IID clients, {base.sampled()} per round, {args.rounds} rounds; "
          f"centralized (same pooled data) accuracy {central:.3f}\n")
    print("| configuration | final acc | best | mean last 5 | gap to central (points) "
          "| first round within 2 pts | upload B/client/round | epsilon | Flower time s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        eps = f"{r['epsilon']:.1f}" if r["epsilon"] is not None else "-"
        up = f"{r['upload_bytes_per_client']:,}" if r["upload_bytes_per_client"] else "(masked)"
        print(f"| {r['config']} | {r['final_accuracy']:.3f} | {r['best_accuracy']:.3f} "
              f"| {r['mean_last5']:.3f} "
              f"| {r['gap_points']:+.1f} | {r['round_within_2_points'] or 'not reached'} | {up} | {eps} "
              f"| {r['flower_s']:.0f} |")
    if args.json:
        args.json.write_text(json.dumps({"centralized": central, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
