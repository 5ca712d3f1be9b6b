"""``edgecraft fleet serve``: the fleet server (HTTP API + dashboard, MQTT ingest, rollouts)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from edgecraft.cli.common import FORMAT_OPTION, Format, UserError, console, port_number, positive, print_json
from edgecraft.cli.fleet_common import STATE_OPTION


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
