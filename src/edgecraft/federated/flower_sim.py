"""Run a work directory on Flower's simulation engine (Ray backend), in the Flower venv:
``python -m edgecraft.federated.flower_sim WORK``. One virtual SuperNode per client; each round
samples ``fraction`` of them, so thousands of clients cost only the sampled ones' training."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Entry point; returns the exit status."""
    work = Path(argv[1]).resolve()
    cfg = json.loads((work / "config.json").read_text())
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    from flwr.simulation import run_simulation

    if cfg.get("secagg"):
        from edgecraft.federated.flower_secagg import make_client_app, make_server_app
    else:
        from edgecraft.federated.flower_server import make_client_app, make_server_app  # type: ignore[assignment]
    cpus = int(cfg.get("cpus", 2))
    backend = {
        "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
        "init_args": {
            "num_cpus": cpus,
            "num_gpus": 0,
            "object_store_memory": 100 * 1024 * 1024,
            "logging_level": "ERROR",
            "log_to_driver": False,
        },
    }
    run_simulation(
        server_app=make_server_app(str(work)),
        client_app=make_client_app(str(work)),
        num_supernodes=int(cfg["clients"]),
        backend_config=backend,  # type: ignore[arg-type]
    )
    if not (work / "result.json").exists():
        print("error: the Flower simulation ended without a result (see flower.log)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
