"""``edgecraft fleet publish / deploy / status / rollback``: model versions and their rollouts."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer

from edgecraft.cli.common import FORMAT_OPTION, Format, UserError, console, print_json, probability
from edgecraft.cli.fleet_common import NO_BOARDS, SERVER_OPTION, STATE_OPTION, client, table
from edgecraft.fleet import names


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
    res = client(state_dir, server).publish(blob, version, board, m, firmware, files)
    if fmt == Format.json:
        print_json(res)
    else:
        table(
            f"published {version}",
            ["version", "size", "sha256", "files", "deltas"],
            [[res["version"], res["size"], res["sha256"][:16], ", ".join(res["files"]), res["deltas"]]],
        )


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
    c = client(state_dir, server)
    r = c.deploy(version, to, canary, stages, gate, max_install_failures)
    while wait and r["state"] in ("running", "rolling_back"):
        time.sleep(1.0)
        r = c.rollout(r["id"])
    show_rollout(r, fmt)


def show_rollout(r: dict[str, Any], fmt: Format) -> None:
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
    table(
        f"rollout {r['id']}: {r['version']} to {r['group']} - {r['state']}",
        ["stage", "up to", "devices", "state", "devices by status"],
        rows,
    )
    if r["reason"]:
        console.print(f"reason: {r['reason']}")


def status(
    rollout_id: int = typer.Argument(None, help="Rollout id (default: the latest)."),
    state_dir: Path = STATE_OPTION,
    server: str = SERVER_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Show a rollout's progress by stage."""
    c = client(state_dir, server)
    if rollout_id is None:
        all_rollouts = c.rollouts()
        if not all_rollouts:
            raise UserError("no rollouts yet; start one with `edgecraft fleet deploy VERSION`")
        r = all_rollouts[-1]
    else:
        r = c.rollout(rollout_id)
    show_rollout(r, fmt)


def rollback(
    rollout_id: int = typer.Argument(None, help="Rollout id (default: the running one)."),
    state_dir: Path = STATE_OPTION,
    server: str = SERVER_OPTION,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Roll every device a running rollout touched back to its previous slot."""
    c = client(state_dir, server)
    if rollout_id is None:
        running = [r for r in c.rollouts() if r["state"] == "running"]
        if not running:
            raise UserError("no running rollout to roll back; pass a rollout id")
        rollout_id = running[-1]["id"]
    r = c.rollback(rollout_id)
    if not r["rollback_started"]:
        raise UserError(f"rollout {rollout_id} is {r['state']}, not running; nothing to roll back")
    show_rollout(r, fmt)
