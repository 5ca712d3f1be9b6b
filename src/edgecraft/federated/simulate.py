"""``edgecraft fl simulate DIR``: federated training of an application's model on Flower's
simulation engine, with non-IID clients made from the application's generator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.apps.spec import AppSpec, load_spec
from edgecraft.federated.bundle import read_final, read_result, write_work
from edgecraft.federated.partition import Partitions, make_partitions
from edgecraft.federated.runner import run_simulation

STRATEGIES = ("fedavg", "fedprox", "fedadam")


@dataclass
class FlSettings:
    """One federated run's settings (the CLI's options)."""

    clients: int = 100
    rounds: int = 10
    strategy: str = "fedavg"
    fraction: float = 0.1
    seed: int = 0
    local_epochs: int = 2
    lr: float = 0.05
    batch_size: int = 16
    mu: float = 0.01  # FedProx's proximal weight
    server_lr: float = 0.03  # FedAdam's server step
    min_clients: int = 2
    round_timeout: float = 120.0
    dropout: float = 0.0  # probability a sampled client fails its round (simulation)
    straggle: float = 0.0  # probability a sampled client answers after the timeout (simulation)
    dp_noise: float | None = None  # Gaussian noise multiplier (None: no DP)
    dp_clip: float = 1.0
    dp_delta: float = 1e-5
    secagg: bool = False
    update_bits: int = 32  # 8: int8-quantized updates
    alpha: float = 0.5  # Dirichlet label-skew concentration
    cpus: int = 2
    extra: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        """Raise ``ValueError`` with one clear line for a bad setting."""
        if self.clients < 2:
            raise ValueError(f"--clients must be at least 2, got {self.clients}")
        if self.rounds < 1:
            raise ValueError(f"--rounds must be at least 1, got {self.rounds}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        if not 0 < self.fraction <= 1:
            raise ValueError(f"--fraction must be in (0, 1], got {self.fraction}")
        if not 0 <= self.dropout < 1 or not 0 <= self.straggle < 1:
            raise ValueError("--dropout and --straggle must be in [0, 1)")
        if self.dp_noise is not None and (self.dp_noise <= 0 or self.dp_clip <= 0):
            raise ValueError("--dp-noise and --dp-clip must be positive")
        if self.dp_noise is not None and self.secagg:
            raise ValueError("--dp-noise and --secagg do not combine here: with SecAgg+ the server "
                             "cannot clip single updates")
        if self.dp_noise is not None and self.strategy == "fedadam":
            raise ValueError("--dp-noise works with fedavg or fedprox "
                             "(Flower's accountant needs FedAvg's aggregation)")
        if self.update_bits not in (8, 32):
            raise ValueError(f"--update-bits must be 8 or 32, got {self.update_bits}")
        if self.update_bits == 8 and self.secagg:
            raise ValueError("--update-bits 8 and --secagg do not combine (SecAgg+ quantizes itself)")
        if self.round_timeout <= 0:
            raise ValueError("--round-timeout must be positive")

    def sampled(self) -> int:
        """Clients sampled per round."""
        return max(int(self.clients * self.fraction), self.min_clients)

    def flower_config(self) -> dict[str, Any]:
        """The ``config.json`` the Flower side reads."""
        cfg = {k: v for k, v in asdict(self).items() if not k.startswith("dp_") and k != "extra"}
        cfg["min_available"] = self.min_clients
        if self.dp_noise is not None:
            cfg["dp"] = {"noise": self.dp_noise, "clip": self.dp_clip, "delta": self.dp_delta}
        if self.secagg:
            # SecAgg+ pairs each client with (shares - 1) / 2 neighbours on each side: odd
            shares = min(self.sampled(), 7)
            cfg["secagg_shares"] = max(3, shares if shares % 2 else shares - 1)
            cfg["secagg_threshold"] = max(2, (cfg["secagg_shares"] * 2) // 3)
        cfg.update(self.extra)
        return cfg


def initial_model(spec: AppSpec, parts: Partitions, seed: int) -> Any:
    """The application's model, seeded (same seed, same initial weights)."""
    from edgecraft.apps.features import front_end
    from edgecraft.apps.models import build_model
    from edgecraft.optimize.train import seed_everything

    seed_everything(seed)
    return build_model(spec, parts.x.shape[1:], len(parts.labels), front_end(spec))


def summarize(result: dict[str, Any], s: FlSettings, parts: Partitions, work: Path) -> dict[str, Any]:
    """The command's JSON: final metrics, per-round rows, bytes per round."""
    rows = result["rounds"]
    last = rows[-1]
    trained = [r for r in rows if r["round"] > 0]
    up = [r.get("upload_bytes_per_client", 0) for r in trained]
    down = [r.get("download_bytes_per_client", 0) for r in trained]
    res = [r.get("results", 0) for r in trained]
    out: dict[str, Any] = {
        "metrics": {"accuracy": last["accuracy"], "loss": last["loss"],
                    "initial_accuracy": rows[0]["accuracy"],
                    "best_accuracy": max(r["accuracy"] for r in rows)},
        "rounds": rows,
        "bytes_per_round": {
            "upload_per_client": int(np.mean(up)) if up else 0,
            "download_per_client": int(np.mean(down)) if down else 0,
            "total": int(np.mean([(u + d) * n for u, d, n in zip(up, down, res, strict=True)])) if up else 0,
            "update_bits": s.update_bits,
        },
        "strategy": s.strategy,
        "clients": s.clients,
        "sampled_per_round": s.sampled(),
        "partitions": parts.summary(),
        "secagg": s.secagg,
        "time_s": round(float(result["time_s"]), 2),
        "work": str(work),
        "weights": str(work / "final.npz"),
    }
    if "privacy" in result:
        out["privacy"] = {**result["privacy"], "noise_multiplier": s.dp_noise, "clip": s.dp_clip}
    return out


def simulate(root: str | Path, s: FlSettings, work: Path | None = None,
             on_row: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Partition, write the work directory, run Flower's simulation, read the results back."""
    from edgecraft.optimize.train import logits_of

    s.check()
    spec = load_spec(root)
    parts = make_partitions(spec, s.clients, s.seed, s.alpha)
    model = initial_model(spec, parts, s.seed)
    work = (work or spec.out / "federated" / "simulate").resolve()  # Flower runs in another cwd
    write_work(work, parts, logits_of(model), s.flower_config())
    run_simulation(work, on_row, timeout=max(600.0, s.rounds * (s.round_timeout + 60)))
    out = summarize(read_result(work), s, parts, work)
    read_final(work)  # the weights are there and readable
    return out
