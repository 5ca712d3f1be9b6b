"""Real parts for the fleet tests: mosquitto, a throwaway PostgreSQL cluster, server processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fleet_support import wait_for

from edgecraft.fleet.client import FleetClient
from edgecraft.fleet.mqtt import Broker, find_mosquitto, free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A real mosquitto on a free port, with auth files in ``tmp_path/state/mosquitto``."""
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    b = Broker(tmp_path / "state" / "mosquitto")
    b.start()
    yield b
    b.stop()


class ServerProc:
    """``edgecraft fleet serve`` running in a child process; its output is kept for inspection."""

    def __init__(self, state_dir: Path, *args: str) -> None:
        self.state_dir = state_dir
        self.log = state_dir.parent / f"server-{time.time_ns()}.log"
        state_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "edgecraft.cli.app",
            "fleet",
            "serve",
            "--state-dir",
            str(state_dir),
            "--format",
            "json",
            *args,
        ]
        self.out = open(self.log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=self.out,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(10)
            raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")
        self.info: dict[str, Any] = json.loads(line)
        self.url: str = self.info["url"]
        self.client = FleetClient(self.url, (state_dir / "admin.token").read_text().strip())

    def stop(self, kill: bool = False) -> str:
        """Stop the server (SIGKILL with ``kill``); returns everything it printed."""
        if self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            self.proc.wait(20)
        assert self.proc.stdout is not None
        rest = self.proc.stdout.read()
        self.out.close()
        self.client.close()
        return json.dumps(self.info) + "\n" + rest + self.log.read_text()


@pytest.fixture
def server_factory() -> Iterator[Callable[..., ServerProc]]:
    started: list[ServerProc] = []

    def start(state_dir: Path, *args: str) -> ServerProc:
        s = ServerProc(state_dir, *args)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def _pg_cmd(args: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *args] if user else args


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL 15 cluster (Debian's binaries) on a free port; yields its URL."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL 15 is not installed (apt-get install postgresql)")
    user = "postgres" if os.geteuid() == 0 else None  # postgres refuses to run as root
    if user and shutil.which("runuser") is None:
        pytest.skip("running as root needs runuser to start PostgreSQL as the postgres user")
    root = Path(tempfile.mkdtemp(prefix="edgecraft-pg-"))
    data = root / "data"
    if user:
        shutil.chown(root, user)
    subprocess.run(
        _pg_cmd([str(PG_BIN / "initdb"), "-D", str(data), "-U", "fleet", "--auth=trust", "-E", "UTF8"], user),
        check=True,
        capture_output=True,
    )
    for attempt in range(5):  # a free port can be taken by another program before the server binds it
        port = free_port()
        opts = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} -c fsync=off"
        started = subprocess.run(
            _pg_cmd(
                [str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start"],
                user,
            ),
            capture_output=True,
        )
        if started.returncode == 0:
            break
        if attempt == 4:
            shutil.rmtree(root, ignore_errors=True)
            started.check_returncode()
    try:
        subprocess.run(
            _pg_cmd(
                [
                    str(PG_BIN.parent / "bin" / "createdb"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    "fleet",
                    "fleet",
                ],
                user,
            ),
            check=True,
            capture_output=True,
        )
        yield f"postgresql://fleet@127.0.0.1:{port}/fleet"
    finally:
        subprocess.run(
            _pg_cmd([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], user),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def fresh_postgres(postgres_url: str) -> str:
    """The session's PostgreSQL with every fleet table emptied."""
    from sqlalchemy import text

    from edgecraft.fleet.store import make_engine, metadata

    engine = make_engine(postgres_url)
    metadata.create_all(engine)
    with engine.begin() as c:
        c.execute(text("TRUNCATE " + ", ".join(t.name for t in metadata.sorted_tables) + " RESTART IDENTITY"))
    engine.dispose()
    return postgres_url


class Fleet:
    """A running server (local broker), published versions and a swarm of provisioned agents."""

    def __init__(self, server: ServerProc, swarm: Any, devices: list[dict[str, Any]], weights: Any) -> None:
        self.server, self.swarm, self.devices, self.weights = server, swarm, devices, weights
        self.client = server.client

    def wait_rollout(self, rollout_id: int, timeout: float = 60) -> dict[str, Any]:
        """Wait until the rollout completes or is rolled back; returns its final summary."""
        return wait_for(
            lambda: (r := self.client.rollout(rollout_id))["state"] in ("completed", "rolled_back") and r,
            timeout,
            f"rollout {rollout_id} to finish",
        )

    def versions(self) -> dict[str, str | None]:
        return {d["id"]: d["model_version"] for d in self.client.devices()}


async def _each_has_stored_telemetry(swarm: Any) -> bool:
    """Whether the server confirmed at least one telemetry message of every agent (run on the
    swarm's loop, which owns the outboxes)."""
    return all(
        a.sent["telemetry"] > sum(m.kind == "telemetry" for m in a.outbox.items.values())
        for a in swarm.agents
    )


@pytest.fixture
def fleet_factory(
    tmp_path: Path, server_factory: Callable[..., ServerProc]
) -> Iterator[Callable[..., Fleet]]:
    """``make(n, models={version: bytes}, factory_version=..., **agent options)`` -> :class:`Fleet`."""
    from edgecraft.fleet.sim import Swarm, classifier_model, task_weights

    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    swarms: list[Any] = []

    def make(
        n: int,
        models: dict[str, bytes] | None = None,
        server_args: tuple[str, ...] = ("--resend", "1"),
        boards: Callable[[int], str] | None = None,
        **agent_kw: Any,
    ) -> Fleet:
        w = task_weights()
        models = models or {"1.0.0": classifier_model(w)}
        server = server_factory(tmp_path / "state", "--port", "0", *server_args)
        for version, model in models.items():
            server.client.publish(model, version)
        specs = [{"id": f"dev-{i:04d}", "board": boards(i) if boards else "sim"} for i in range(n)]
        prov = server.client.provision_specs(specs)
        first = next(iter(models))
        agent_kw.setdefault("telemetry_s", 0.3)
        # A confirmation lost with a killed broker costs a resend after this long (default 20 s).
        agent_kw.setdefault("ack_timeout_s", 3.0)
        swarm = Swarm.factory(
            tmp_path / "devices", prov["devices"], prov, models[first], first, [server.url], w, **agent_kw
        )
        swarms.append(swarm)
        swarm.start()
        wait_for(lambda: swarm.totals()["connected"] == n, 60, "every device to connect")
        wait_for(
            lambda: all(d["model_version"] == first for d in server.client.devices()),
            30,
            "every device to report its factory model",
        )
        # Gates compare with accuracy before a rollout: every device has some stored by then.
        wait_for(lambda: swarm.call(_each_has_stored_telemetry(swarm)), 30, "telemetry from every device")
        return Fleet(server, swarm, prov["devices"], w)

    yield make
    for s in swarms:
        s.stop()
