"""Fault benchmark: a fleet under a staged rollout while its server is killed (kill -9) and
restarted three times and its broker killed once.

Starts ``edgecraft fleet serve`` (local mosquitto, SQLite) as a child process on a fixed port,
runs N simulated device agents in this process, publishes two versions and rolls the second
out (canary 5%, then 25/50/100%). During the rollout it kills the server with SIGKILL and starts
it again, three times, and kills the broker once (``kill -9``, SIGKILL by default: mosquitto
forgets what it took in since its last save; the server's supervisor restarts it). Then it stops
telemetry, waits until the server has confirmed every message to its device (a device keeps a
message in its outbox until then, and resends it after a reconnect or a timeout), and prints:

* telemetry sent vs stored (goal: equal; every message stored once; none dropped from outboxes),
* devices without a working model (goal: 0),
* time to recover after each fault (until health is ok and every device is connected again),
* the rollout's final state.

Usage: ``.venv/bin/python benchmarks/faults.py --devices 1000``
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from edgecraft.fleet.client import FleetClient
from edgecraft.fleet.mqtt import free_port
from edgecraft.fleet.sim import Swarm, classifier_model, task_weights

GATE = "error_rate<0.02,p95_latency_ms<50,accuracy_drop<0.03"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def wait(pred: Any, timeout: float, what: str, step: float = 0.25) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            got = pred()
        except (httpx.HTTPError, OSError, ValueError):
            got = None  # the server is restarting
        if got:
            return got
        time.sleep(step)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s")


def serve(state: Path, port: int) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "edgecraft.cli.app", "fleet", "serve", "--state-dir", str(state)]
    cmd += ["--port", str(port), "--format", "json", "--resend", "15"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    assert proc.stdout is not None
    json.loads(proc.stdout.readline())
    return proc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument(
        "--interval", type=float, default=4.0, help="seconds between telemetry messages per device"
    )
    ap.add_argument("--server-kills", type=int, default=3)
    ap.add_argument("--gap", type=float, default=8.0, help="seconds between faults")
    ap.add_argument(
        "--broker-signal",
        type=lambda s: signal.Signals[f"SIG{s.upper()}"],
        default=signal.SIGKILL,
        help="KILL (kill -9: the broker loses what it took in since its last save, every 5 s; the "
        "devices' outboxes resend it) or TERM (kill PID: mosquitto saves everything first)",
    )
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="edgecraft-faults-"))
    state, port = tmp / "state", free_port()
    url = f"http://127.0.0.1:{port}"
    server = serve(state, port)
    swarm = None
    health = httpx.Client(base_url=url, timeout=5)
    try:
        c = FleetClient.from_state(state)
        w = task_weights()
        c.publish(classifier_model(w), "1.0.0")
        c.publish(classifier_model(w * 1.05), "1.1.0")
        prov = c.provision(args.devices, "f")
        swarm = Swarm.factory(
            tmp / "devices", prov["devices"], prov, classifier_model(w), "1.0.0", [url], w,
            telemetry_s=args.interval, glitch=0.002,
        )  # fmt: skip
        swarm.start()
        wait(lambda: swarm.totals()["connected"] == args.devices, 180, "devices to connect")
        wait(lambda: all(d["model_version"] == "1.0.0" for d in c.devices()), 120, "boot reports")
        log(f"{args.devices} devices up")

        def recovered(t_fault: float, what: str) -> float:
            wait(lambda: health.get("/api/health").status_code == 200, 120, f"health after {what}")
            wait(lambda: swarm.totals()["connected"] == args.devices, 180, f"devices after {what}")
            dt = time.time() - t_fault
            log(f"{what}: recovered in {dt:.1f} s")
            return dt

        t0 = time.time()
        r = c.deploy("1.1.0", "all", "5%", "25,50,100", GATE)
        recovery: dict[str, list[float]] = {"server": [], "broker": []}
        faults = ["server"] * args.server_kills
        faults.insert(min(2, len(faults)), "broker")
        during: list[str] = []  # the rollout's state and stage when each fault hit
        for fault in faults:
            time.sleep(args.gap)
            now = c.rollout(r["id"])
            during.append(f"{fault}: {now['state']} stage {now['stage']}")
            t_fault = time.time()
            if fault == "server":
                server.send_signal(signal.SIGKILL)
                server.wait()
                server = serve(state, port)
                c.close()
                c = FleetClient.from_state(state)
            else:
                os.kill(int((state / "mosquitto" / "broker.pid").read_text()), args.broker_signal)
                wait(lambda: health.get("/api/health").status_code == 503, 30, "health to see it")
            recovery[fault].append(recovered(t_fault, f"{fault} kill"))
        final = wait(
            lambda: (x := c.rollout(r["id"]))["state"] in ("completed", "rolled_back") and x,
            900,
            "the rollout",
        )
        t_rollout = time.time() - t0
        log(f"rollout {final['state']} after {t_rollout:.1f} s {final['reason']}")

        swarm.quiet()
        try:
            wait(lambda: swarm.totals()["unacked"] == 0, 180, "the server to confirm everything")
        except TimeoutError:
            log("some messages were never confirmed; counting what is stored")
        sent = swarm.totals()
        stored = c.stats()["counts"]
        devices = c.devices()
        result = {
            "devices": args.devices,
            "server_kills": args.server_kills,
            "broker_kills": 1,
            "broker_signal": args.broker_signal.name,
            "telemetry_sent": sent["telemetry"],
            "telemetry_stored": stored["telemetry"],
            "telemetry_dropped_from_full_outboxes": sent["dropped"],
            "reports_sent": sent["report"],
            "reports_stored": stored["reports"],
            "unconfirmed_at_end": sent["unacked"],
            "devices_without_working_model": len(swarm.without_model()),
            "devices_on_new_version": sum(d["model_version"] == "1.1.0" for d in devices),
            "rollout": final["state"],
            "rollout_s": round(t_rollout, 1),
            "recover_server_s": [round(x, 1) for x in recovery["server"]],
            "recover_broker_s": [round(x, 1) for x in recovery["broker"]],
            "faults_hit": during,
        }
        print(json.dumps(result, indent=1))
    finally:
        if swarm is not None:
            swarm.stop()
        health.close()
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
