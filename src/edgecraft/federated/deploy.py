"""``edgecraft fl run DIR --fleet STATE``: Flower's deployment engine on the fleet's devices.

Real processes on this machine: a SuperLink beside the fleet server (its files under
``STATE/flower``: TLS, the SuperLink database, keys, logs), one SuperNode per fleet device that
can train, and the run started with ``flwr run``. Devices that can train are the Linux-class
boards of the catalog (Cortex-A: ``rpi4``, ``coral-devboard``, ``jetson-nano``);
microcontrollers only run inference and are listed as skipped. Each SuperNode authenticates
with a P-384 key derived from its device's fleet token (:mod:`.identity`); the SuperLink runs
with ``--enable-supernode-auth`` over TLS and knows only the keys edgecraft registered for the
fleet's devices, so a node with any other key is refused. Each device's directory holds only its
own data; the server's holds only the held-out test set.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edgecraft.apps.spec import load_spec
from edgecraft.federated.bundle import read_result, write_work
from edgecraft.federated.identity import write_device_key, write_tls
from edgecraft.federated.partition import make_partitions
from edgecraft.federated.runner import flower_env, flower_venv, follow, stop, tail
from edgecraft.federated.simulate import FlSettings, initial_model, summarize

APP_TOML = """[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "edgecraft-fl"
version = "1.0.0"
description = "edgecraft federated training (ServerApp and ClientApp from edgecraft.federated)"
license = "Apache-2.0"
dependencies = []

[tool.flwr.app]
publisher = "edgecraft"

[tool.flwr.app.components]
serverapp = "edgecraft_flapp:server"
clientapp = "edgecraft_flapp:client"

[tool.flwr.app.config]
work = ""
"""
APP_PY = '''"""edgecraft's Flower app: the ServerApp and ClientApp of edgecraft.federated.flower_server."""
from edgecraft.federated.flower_server import make_client_app, make_server_app

server = make_server_app()
client = make_client_app()
'''


def can_train(board: str) -> bool:
    """Whether a device on ``board`` trains (a Linux-class Cortex-A board of the catalog)."""
    from edgecraft.targets import UnknownBoardError, get_board

    try:
        return get_board(board).core.startswith("cortex-a")
    except UnknownBoardError:
        return False


def fleet_devices(state: Path, credentials: list[Path]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The fleet's devices that can train and have credentials (id, board, token), and the rest
    (id, board, why)."""
    from edgecraft.fleet.client import FleetClient

    tokens: dict[str, str] = {}
    for c in credentials:
        for d in json.loads(c.read_text())["devices"]:
            tokens[d["id"]] = d["token"]
    fc = FleetClient.from_state(state)
    try:
        devices = fc.devices()
    finally:
        fc.close()
    train, skip = [], []
    for d in sorted(devices, key=lambda d: d["id"]):
        board = str(d.get("board") or "")
        if not can_train(board):
            skip.append({"id": d["id"], "board": board, "why": "microcontroller: inference only"})
        elif d["id"] not in tokens:
            skip.append({"id": d["id"], "board": board, "why": "no credentials given"})
        else:
            train.append({"id": d["id"], "board": board, "token": tokens[d["id"]]})
    return train, skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Deployment:
    """A SuperLink and its SuperNodes under ``base``; :meth:`close` stops every process."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.tls = write_tls(base / "tls")
        self.home = base / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "config.toml").write_text(
            f'[superlink]\ndefault = "fleet"\n\n[superlink.fleet]\naddress = "127.0.0.1:{self.port}"\n'
            f'root-certificates = "{self.tls["ca"]}"\n'
        )
        self.env = flower_env({"FLWR_HOME": str(self.home)})
        self.bin = flower_venv() / "bin"
        self.procs: list[tuple[str, subprocess.Popen[Any], Any]] = []

    def start(self, name: str, args: list[str]) -> subprocess.Popen[Any]:
        """Start ``bin/<args[0]>`` with its output in ``base/logs/<name>.log``."""
        (self.base / "logs").mkdir(exist_ok=True)
        log = open(self.base / "logs" / f"{name}.log", "w")  # noqa: SIM115 (closed in close())
        proc = subprocess.Popen([str(self.bin / args[0]), *args[1:]], env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, cwd=str(self.base), start_new_session=True)
        self.procs.append((name, proc, log))
        return proc

    def superlink(self) -> None:
        """Start the SuperLink (TLS, SuperNode authentication, state in ``superlink.db``)."""
        db = self.base / "superlink.db"
        for p in self.base.glob("superlink.db*"):
            p.unlink()
        self.start("superlink", [
            "flower-superlink", "--ssl-certfile", str(self.tls["cert"]),
            "--ssl-keyfile", str(self.tls["key"]),
            "--ssl-ca-certfile", str(self.tls["ca"]), "--enable-supernode-auth", "--host", "127.0.0.1",
            "--port", str(self.port), "--database", str(db), "--disable-runtime-dependency-installation",
        ])

    def flwr(self, *args: str, timeout: float = 120) -> dict[str, Any]:
        """``flwr ARGS --format json`` against this SuperLink; its JSON answer."""
        r = subprocess.run([str(self.bin / "flwr"), *args, "--format", "json"], env=self.env,
                           capture_output=True, text=True, timeout=timeout, cwd=str(self.base))
        try:
            out: dict[str, Any] = json.loads(r.stdout[r.stdout.index("{"):])
        except ValueError:
            out = {"success": False, "error-message": (r.stdout + r.stderr)[-500:]}
        return out

    def register(self, public_key: Path, timeout: float = 90) -> int:
        """Register a SuperNode's public key (retried while the SuperLink starts); its node id."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.flwr("supernode", "register", str(public_key), "fleet")
            if out.get("success"):
                return int(out["node-id"])
            if time.monotonic() > deadline:
                raise RuntimeError(f"could not register {public_key.name}: {out.get('error-message')}; "
                                   f"{tail(self.base / 'logs' / 'superlink.log', 5)}")
            time.sleep(1.0)

    def supernode(self, name: str, private_key: Path, work: Path) -> subprocess.Popen[Any]:
        """Start a SuperNode for one device: its key, its data directory."""
        return self.start(name, [
            "flower-supernode", "--superlink", f"127.0.0.1:{self.port}", "--root-certificates",
            str(self.tls["ca"]), "--auth-supernode-private-key", str(private_key),
            "--node-config", f'work="{work}" partition-id=0', "--port", str(free_port()),
        ])

    def close(self) -> None:
        """Stop SuperNodes first, then the SuperLink."""
        for _name, proc, log in reversed(self.procs):
            stop(proc, grace=5)
            log.close()
        self.procs.clear()


def run_fleet(root: str | Path, state: Path, credentials: list[Path], s: FlSettings,
              on_row: Callable[[dict[str, Any]], None] | None = None,
              timeout: float = 1800) -> dict[str, Any]:
    """Train ``root``'s model on the fleet's Linux-class devices through Flower's deployment engine."""
    from edgecraft.optimize.train import logits_of

    train, skipped = fleet_devices(state, credentials)
    if len(train) < 2:
        raise ValueError(f"fl run needs at least 2 Linux-class devices with credentials in the fleet, found "
                         f"{len(train)} (microcontrollers only run inference)")
    s.clients = len(train)
    s.min_clients = min(s.min_clients, len(train))
    s.check()
    spec = load_spec(root)
    parts = make_partitions(spec, len(train), s.seed, s.alpha)
    logits = logits_of(initial_model(spec, parts, s.seed))
    base = state.resolve() / "flower"  # Flower runs in another cwd
    cfg = {**s.flower_config(), "population": len(train)}
    server_work = write_work(base / "server", parts, logits, cfg, clients=[])
    dep = Deployment(base)
    app = base / "app"
    app.mkdir(parents=True, exist_ok=True)
    (app / "pyproject.toml").write_text(APP_TOML)
    (app / "edgecraft_flapp.py").write_text(APP_PY)
    nodes: dict[str, int] = {}
    try:
        dep.superlink()
        for i, d in enumerate(train):
            priv, pub = write_device_key(d["token"], d["id"], base / "keys")
            nodes[d["id"]] = dep.register(pub)
            work = write_work(base / "devices" / d["id"], parts, logits, cfg, clients=[i])
            dep.supernode(d["id"], priv, work)
        run = dep.flwr("run", str(app), "fleet", "--run-config", f'work="{server_work}"', timeout=300)
        if not run.get("success", "run-id" in run) or "run-id" not in run:
            raise RuntimeError(f"flwr run failed: {run.get('error-message', run)}")
        seen, deadline = 0, time.monotonic() + timeout
        while not (server_work / "result.json").exists():
            seen = follow(server_work, seen, on_row)
            if time.monotonic() > deadline:
                raise RuntimeError(f"the federated run did not finish in {timeout:.0f} s")
            if dep.procs[0][1].poll() is not None:
                raise RuntimeError(f"the SuperLink stopped: {tail(base / 'logs' / 'superlink.log')}")
            time.sleep(0.5)
        follow(server_work, seen, on_row)
    finally:
        dep.close()
    out = summarize(read_result(server_work), s, parts, server_work)
    out.update({"run_id": str(run["run-id"]), "devices": [{"id": d["id"], "board": d["board"],
                                                          "node_id": nodes[d["id"]]} for d in train],
                "skipped": skipped, "superlink": f"127.0.0.1:{dep.port}", "logs": str(base / "logs")})
    return out
