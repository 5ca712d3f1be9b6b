"""``edgecraft fleet provision / devices / simulate / example-models``: devices, real or simulated."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import typer

from edgecraft.cli.common import (
    FORMAT_OPTION,
    Format,
    UserError,
    at_least_one,
    console,
    non_negative,
    positive,
    print_json,
    probability,
)
from edgecraft.cli.fleet_common import DEVICES_FILE, DEVICES_ROOT, SERVER_OPTION, STATE_OPTION, client, table
from edgecraft.fleet import names


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
    c = client(state_dir, server)
    res = c.provision(count, prefix, board, group)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({**res, "server_urls": [c.url]}, f)
    ids = [d["id"] for d in res["devices"]]
    if fmt == Format.json:
        print_json({"devices": ids, "credentials_file": str(out)})
    else:
        console.print(f"{len(ids)} devices ({ids[0]} .. {ids[-1]}); credentials in {out}")


def devices(
    group: str = typer.Option(None, "--group", help="Only this group."),
    state_dir: Path = STATE_OPTION,
    server: str = SERVER_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """List devices: board, model version, slots, health, last seen."""
    devs = client(state_dir, server).devices(group)
    if fmt == Format.json:
        print_json({"devices": devs})
        return
    now = time.time()
    table(
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
