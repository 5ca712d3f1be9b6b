"""``edgecraft fleet ...``: run the fleet server and operate it (publish, deploy, status, rollback).

Every command but ``serve`` talks to a running server through its JSON API; by default the one
whose state directory (``./edgecraft-fleet``) holds ``server.json`` and ``admin.token``.
Device tokens are written to a file (mode 0600), never printed. Names are checked here with
the server's own grammar (:mod:`edgecraft.fleet.names`) before anything is sent; the server's
refusals (:class:`~edgecraft.fleet.client.FleetError`) are user errors like any other: one
``error:`` line, exit code 2.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from edgecraft.cli.common import (
    FORMAT_OPTION,
    Format,
    UserError,
    at_least_one,
    console,
    non_negative,
    port_number,
    positive,
    print_json,
    probability,
)
from edgecraft.fleet import names
from edgecraft.fleet.client import DEFAULT_STATE_DIR

app = typer.Typer(
    name="fleet",
    help="Operate a fleet: serve, publish, deploy, status, rollback, devices.",
    no_args_is_help=True,
)

DEVICES_FILE = Path("devices.json")
DEVICES_ROOT = Path("edgecraft-fleet-devices")
NO_BOARDS: list[str] = []
STATE_OPTION = typer.Option(DEFAULT_STATE_DIR, "--state-dir", help="The server's state directory.")
SERVER_OPTION = typer.Option(None, "--server", help="Server URL (default: from the state directory).")


def _client(state_dir: Path, server: str | None) -> Any:
    from edgecraft.fleet.client import FleetClient

    return FleetClient.from_state(state_dir, url=server)


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    t = Table(title=title)
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    console.print(t)


@app.command("serve")
def serve(
    state_dir: Path = STATE_OPTION,
    db: str = typer.Option(
        None,
        "--db",
        help="Database URL, e.g. postgresql://user@host:5432/fleet "
        "(default: an SQLite file in the state directory).",
    ),
    mqtt: str = typer.Option(
        None, "--mqtt", help="External broker HOST:PORT (default: start a local mosquitto)."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8765, "--port", help="HTTP port (0: any free port).", callback=port_number),
    instance: str = typer.Option("", "--instance", help="Name of this server instance (default: random)."),
    stage_timeout: float = typer.Option(300.0, "--stage-timeout", help="Seconds a rollout stage may wait.",
                                         callback=positive),
    resend: float = typer.Option(5.0, "--resend", help="Seconds before an unanswered command is resent.",
                                callback=positive),
    cloud_model: str = typer.Option(
        "", "--cloud-model",
        help="The cascade's cloud model for /api/infer: a .tflite, an int8 .onnx or MODEL.py:FACTORY.",
    ),
    cloud_weights: str = typer.Option("", "--cloud-weights", help="State dict for a MODEL.py:FACTORY cloud."),
    infer_rate: float = typer.Option(20.0, "--infer-rate", help="/api/infer requests per second per device.",
                                     callback=positive),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Run the fleet server (HTTP API + dashboard, MQTT ingest, rollouts) until interrupted."""
    from edgecraft.fleet.mqtt import find_mosquitto
    from edgecraft.fleet.server import run
    from edgecraft.fleet.service import FleetConfig, FleetService

    mqtt_host, mqtt_port = "127.0.0.1", None
    if mqtt:
        h, _, p = mqtt.rpartition(":")
        if not h or not p.isdigit() or not 0 < int(p) < 65536:
            raise UserError(f"--mqtt must be HOST:PORT, got {mqtt!r}")
        mqtt_host, mqtt_port = h, int(p)
    elif find_mosquitto() is None:
        raise UserError(
            "mosquitto is not installed; install it with: sudo apt-get install mosquitto "
            "(or pass --mqtt HOST:PORT of a running broker)"
        )
    if cloud_model:  # refuse a bad cloud model before anything starts
        from edgecraft.device.cascade import CascadeError
        from edgecraft.fleet.infer import CloudModel

        try:
            CloudModel(cloud_model, Path(cloud_weights) if cloud_weights else None)
        except CascadeError as e:
            raise UserError(str(e)) from None
    cfg = FleetConfig(
        state_dir, db, mqtt_host, mqtt_port, instance=instance, stage_timeout_s=stage_timeout,
        resend_s=resend, cloud_model=cloud_model, cloud_weights=cloud_weights, infer_rate=infer_rate,
    )
    service = FleetService(cfg)

    def ready(url: str) -> None:
        info = {
            "url": url,
            "mqtt": f"{mqtt_host}:{service.mqtt_port}",
            "state_dir": str(state_dir),
            "db": "sqlite (state directory)" if db is None else db.split("@")[-1],
            "admin_token_file": str(state_dir / "admin.token"),
            "instance": service.instance,
        }
        path = Path(state_dir) / "server.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(info))
        os.chmod(path, 0o600)
        if fmt == Format.json:
            print_json(info)
        else:
            console.print(
                f"edgecraft fleet server on {url} (dashboard: {url}/#token=<contents of "
                f"{info['admin_token_file']}>), MQTT on {info['mqtt']}, database {info['db']}"
            )
        import sys

        sys.stdout.flush()

    try:
        run(service, host, port, on_ready=ready)
    except OSError as e:
        raise UserError(f"cannot listen on {host}:{port} ({e.strerror}); pick another --port") from None


@app.command("provision")
def provision(
    count: int = typer.Option(1, "--count", help="How many devices.", callback=at_least_one),
    prefix: str = typer.Option("dev", "--prefix", help="Device ids are PREFIX-00000, PREFIX-00001, ..."),
    board: str = typer.Option("sim", "--board"),
    group: str = typer.Option("default", "--group"),
    out: Path = typer.Option(DEVICES_FILE, "--out", help="Where to write the device tokens (mode 0600)."),
    state_dir: Path = STATE_OPTION,
    server: str = SERVER_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Create devices and write their credentials to a file (tokens are never printed)."""
    names.device_id(f"{prefix}-00000")
    names.group(group)
    names.board(board)
    c = _client(state_dir, server)
    res = c.provision(count, prefix, board, group)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({**res, "server_urls": [c.url]}, f)
    ids = [d["id"] for d in res["devices"]]
    if fmt == Format.json:
        print_json({"devices": ids, "credentials_file": str(out)})
    else:
        console.print(f"{len(ids)} devices ({ids[0]} .. {ids[-1]}); credentials in {out}")


@app.command("publish")
def publish(
    model: Path = typer.Argument(..., help="The .tflite or int8 .onnx model (devices get a .tflite)."),
    version: str = typer.Option(..., "--version", help="Version name, e.g. 1.2.0."),
    board: list[str] = typer.Option(NO_BOARDS, "--board", help="Target board (repeat); default: any."),
    metrics: str = typer.Option("{}", "--metrics", help='Model metrics as JSON, e.g. {"accuracy": 0.93}.'),
    firmware: Path = typer.Option(None, "--firmware", help="Directory of firmware files to ship too."),
    c_library: bool = typer.Option(
        False, "--c-library", help="Ship the C library edgecraft generates for the model (firmware devices)."
    ),
    state_dir: Path = STATE_OPTION,
    server: str = SERVER_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Pack, sign (server key) and record a model version."""
    names.version(version)
    try:
        m = json.loads(metrics)
    except ValueError:
        raise UserError(f"--metrics must be a JSON object, got {metrics!r}") from None
    if not isinstance(m, dict):
        raise UserError(f"--metrics must be a JSON object, got {metrics[:60]!r}")
    if firmware is not None and not firmware.is_dir():
        raise UserError(f"--firmware {firmware} is not a directory")
    from edgecraft.fleet.artifacts import model_file_bytes

    blob = model_file_bytes(model)
    files: dict[str, bytes] = {}
    if c_library:
        from edgecraft.codegen import CodegenError, generate
        from edgecraft.formats import read_tflite_bytes

        try:
            lib = generate(read_tflite_bytes(blob), "model")
        except CodegenError as e:
            raise UserError(f"cannot generate the C library: {e}") from None
        files = {name: text.encode() for name, text in lib.files.items()}
    res = _client(state_dir, server).publish(blob, version, board, m, firmware, files)
    if fmt == Format.json:
        print_json(res)
    else:
        _table(
            f"published {version}",
            ["version", "size", "sha256", "files", "deltas"],
            [[res["version"], res["size"], res["sha256"][:16], ", ".join(res["files"]), res["deltas"]]],
        )


@app.command("deploy")
def deploy(
    version: str = typer.Argument(..., help="A published version."),
    to: str = typer.Option("all", "--to", help="Group or tag of devices (all: every device)."),
    canary: str = typer.Option("5%", "--canary", help="First stage, percent of the group."),
    stages: str = typer.Option("25,50,100", "--stages", help="Following stages, cumulative percent."),
    gate: str = typer.Option(
        "error_rate<0.02,p95_latency_ms<50,accuracy_drop<0.03",
        "--gate",
        help="Conditions every stage's telemetry must meet: METRIC<NUMBER, METRIC one of error_rate, "
        "p95_latency_ms, accuracy_drop, escalation_rate (the cascade's share sent to the cloud).",
    ),
    max_install_failures: float = typer.Option(
        0.05, "--max-install-failures", help="Fraction of failed installs that triggers rollback.",
        callback=probability,
    ),
    wait: bool = typer.Option(False, "--wait", help="Wait until the rollout completes or rolls back."),
    state_dir: Path = STATE_OPTION,
    server: str = SERVER_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Start a staged rollout with gates and automatic rollback."""
    names.version(version)
    names.target(to)
    c = _client(state_dir, server)
    r = c.deploy(version, to, canary, stages, gate, max_install_failures)
    while wait and r["state"] in ("running", "rolling_back"):
        time.sleep(1.0)
        r = c.rollout(r["id"])
    _show_rollout(r, fmt)


def _show_rollout(r: dict[str, Any], fmt: Format) -> None:
    if fmt == Format.json:
        print_json(r)
        return
    rows = [
        [
            s["stage"],
            f"{s['percent']:g}%",
            s["devices"],
            s["state"],
            ", ".join(f"{k} {v}" for k, v in sorted(s["status"].items())),
        ]
        for s in r["stages"]
    ]
    _table(
        f"rollout {r['id']}: {r['version']} to {r['group']} - {r['state']}",
        ["stage", "up to", "devices", "state", "devices by status"],
        rows,
    )
    if r["reason"]:
        console.print(f"reason: {r['reason']}")


@app.command("status")
def status(
    rollout_id: int = typer.Argument(None, help="Rollout id (default: the latest)."),
    state_dir: Path = STATE_OPTION,
    server: str = SERVER_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Show a rollout's progress by stage."""
    c = _client(state_dir, server)
    if rollout_id is None:
        all_rollouts = c.rollouts()
        if not all_rollouts:
            raise UserError("no rollouts yet; start one with `edgecraft fleet deploy VERSION`")
        r = all_rollouts[-1]
    else:
        r = c.rollout(rollout_id)
    _show_rollout(r, fmt)


@app.command("rollback")
def rollback(
    rollout_id: int = typer.Argument(None, help="Rollout id (default: the running one)."),
    state_dir: Path = STATE_OPTION,
    server: str = SERVER_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Roll every device a running rollout touched back to its previous slot."""
    c = _client(state_dir, server)
    if rollout_id is None:
        running = [r for r in c.rollouts() if r["state"] == "running"]
        if not running:
            raise UserError("no running rollout to roll back; pass a rollout id")
        rollout_id = running[-1]["id"]
    r = c.rollback(rollout_id)
    if not r["rollback_started"]:
        raise UserError(f"rollout {rollout_id} is {r['state']}, not running; nothing to roll back")
    _show_rollout(r, fmt)


@app.command("devices")
def devices(
    group: str = typer.Option(None, "--group", help="Only this group."),
    state_dir: Path = STATE_OPTION,
    server: str = SERVER_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """List devices: board, model version, slots, health, last seen."""
    devs = _client(state_dir, server).devices(group)
    if fmt == Format.json:
        print_json({"devices": devs})
        return
    now = time.time()
    _table(
        f"{len(devs)} devices",
        ["id", "board", "group", "version", "slots (active)", "health", "seen"],
        [
            [
                d["id"],
                d["board"],
                d["group"],
                d["model_version"],
                f"A={d['slot_a']} B={d['slot_b']} ({d['active_slot']})",
                d["health"],
                f"{now - d['last_seen']:.0f}s ago" if d["last_seen"] else "never",
            ]
            for d in devs
        ],
    )


@app.command("simulate")
def simulate(
    model: Path = typer.Option(
        ..., "--model", help="The factory model every device starts with (.tflite or int8 .onnx)."
    ),
    version: str = typer.Option(..., "--version", help="Its version name."),
    credentials: Path = typer.Option(DEVICES_FILE, "--credentials", help="From `fleet provision`."),
    root: Path = typer.Option(DEVICES_ROOT, "--root", help="Where device slots live."),
    duration: float = typer.Option(0, "--duration", help="Seconds to run (0: until interrupted).",
                                  callback=non_negative),
    interval: float = typer.Option(2.0, "--interval", help="Seconds between telemetry messages.",
                                  callback=positive),
    cascade_threshold: float = typer.Option(
        None, "--cascade-threshold", callback=probability,
        help="Escalate readings below this confidence to the server's /api/infer (the cascade).",
    ),
    cascade_confidence: str = typer.Option("top", "--cascade-confidence", help="top, margin or entropy."),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Run simulated devices (agents) for provisioned credentials, on synthetic sensor data."""
    from edgecraft.fleet.artifacts import model_file_bytes
    from edgecraft.fleet.sim import Swarm, task_weights

    if not credentials.exists():
        raise UserError(f"{credentials} not found; create devices first with `edgecraft fleet provision`")
    creds = json.loads(credentials.read_text())
    cascade = None
    if cascade_threshold is not None:
        if cascade_confidence not in ("top", "margin", "entropy"):
            raise UserError(f"--cascade-confidence: top, margin or entropy, not {cascade_confidence!r}")
        cascade = {"threshold": cascade_threshold, "confidence": cascade_confidence, "deadline_s": 1.0}
    swarm = Swarm.factory(
        root,
        creds["devices"],
        creds,
        model_file_bytes(model),
        version,
        creds["server_urls"],
        task_weights(),
        telemetry_s=interval,
        glitch=0.01,
        cascade=cascade,
    )

    def _interrupt(_sig: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)  # kill PID stops the devices as Ctrl-C does
    swarm.start()
    if fmt == Format.table:
        console.print(f"{len(swarm.agents)} devices running; Ctrl-C to stop")
    t0 = time.time()
    try:
        while duration <= 0 or time.time() - t0 < duration:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    swarm.stop()
    totals = swarm.totals()
    if cascade is not None:
        for k in ("escalated", "remote", "fallbacks"):
            totals[k] = sum(a.cascade.counts[k] for a in swarm.agents if a.cascade is not None)
    if fmt == Format.json:
        print_json({"devices": len(swarm.agents), **totals})
    else:
        console.print(
            f"sent {totals['telemetry']} telemetry, {totals['anomaly']} anomaly and "
            f"{totals['report']} report messages"
            + (f"; escalated {totals['escalated']} readings, {totals['fallbacks']} answered locally "
               "when the server did not" if cascade is not None else "")
        )


@app.command("example-models")
def example_models(
    out: Path = typer.Argument(Path("."), help="Directory to write the models to."),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Write three int8 classifiers for `fleet simulate`'s sensor task: good, retrained, and bad."""
    from edgecraft.fleet.sim import classifier_model, task_weights

    w = task_weights()
    models = {"good.tflite": w, "retrained.tflite": w * 1.05, "bad.tflite": w[[1, 0, 3, 2]]}
    out.mkdir(parents=True, exist_ok=True)
    for name, weights in models.items():
        (out / name).write_bytes(classifier_model(weights))
    files = [str(out / name) for name in models]
    if fmt == Format.json:
        print_json({"files": files})
    else:
        console.print("wrote " + ", ".join(files) + " (bad.tflite swaps the classes: its accuracy collapses)")
