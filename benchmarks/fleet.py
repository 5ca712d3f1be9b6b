"""Fleet benchmark: staged rollouts and telemetry ingest with many simulated devices on one machine.

Starts a real mosquitto and an ``edgecraft fleet serve`` process (SQLite by default, or
``--db postgresql://...``), runs N device agents in this process, and measures:

* a good rollout (canary 5%, then 25/50/100%) to every device: devices updated per second;
* a bad rollout (rows of the classifier permuted: accuracy collapses): the gate stops it and
  every touched device is back on the good version;
* telemetry ingest: messages per second stored with zero loss (sent == stored, each once),
  with the broker restarted once in the middle.

Usage: ``.venv/bin/python benchmarks/fleet.py --devices 1000``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from edgecraft.fleet.client import FleetClient
from edgecraft.fleet.mqtt import Broker
from edgecraft.fleet.sim import Swarm, classifier_model, task_weights

GATE = "error_rate<0.02,p95_latency_ms<50,accuracy_drop<0.03"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def wait(pred, timeout: float, step: float = 0.25):  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(step)
    raise TimeoutError("condition not met in time")


def rollout(c: FleetClient, version: str, timeout: float) -> tuple[dict, float]:  # type: ignore[type-arg]
    t0 = time.time()
    r = c.deploy(version, "all", "5%", "25,50,100", GATE)
    r = wait(lambda: (x := c.rollout(r["id"]))["state"] not in ("running", "rolling_back") and x, timeout)
    return r, time.time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument(
        "--interval", type=float, default=1.0, help="seconds between telemetry messages per device"
    )
    ap.add_argument("--ingest-seconds", type=float, default=20.0)
    ap.add_argument("--outage", type=float, default=10.0, help="seconds the broker is down")
    ap.add_argument("--db", default=None, help="postgresql://... (default: SQLite file)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="edgecraft-fleet-bench-"))
    state = tmp / "state"
    broker = Broker(state / "mosquitto")
    broker.start()
    cmd = [
        sys.executable,
        "-m",
        "edgecraft.cli.app",
        "fleet",
        "serve",
        "--state-dir",
        str(state),
        "--port",
        "0",
        "--mqtt",
        f"127.0.0.1:{broker.port}",
        "--format",
        "json",
        "--resend",
        "10",
    ]
    if args.db:
        cmd += ["--db", args.db]
    server = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    swarm = None
    try:
        json.loads(server.stdout.readline())  # type: ignore[union-attr]
        c = FleetClient.from_state(state)
        w = task_weights()
        good = classifier_model(w)
        c.publish(good, "1.0.0")
        c.publish(classifier_model(w * 1.05), "1.1.0")
        c.publish(classifier_model(w[[1, 0, 3, 2]]), "1.2.0-bad")
        t0 = time.time()
        prov = c.provision(args.devices, "bench")
        broker.reload()
        t_prov = time.time() - t0
        swarm = Swarm.factory(
            tmp / "devices",
            prov["devices"],
            prov,
            good,
            "1.0.0",
            [c.url],
            w,
            telemetry_s=args.interval,
            glitch=0.002,
        )
        t0 = time.time()
        swarm.start()
        wait(lambda: swarm.totals()["connected"] == args.devices, 120)
        t_conn = time.time() - t0
        log(f"{args.devices} devices connected in {t_conn:.1f} s")
        wait(lambda: all(d["model_version"] == "1.0.0" for d in c.devices()), 60)

        good_r, t_good = rollout(c, "1.1.0", 600)
        log(f"good rollout {good_r['state']} in {t_good:.1f} s")
        bad_r, t_bad = rollout(c, "1.2.0-bad", 600)
        log(f"bad rollout {bad_r['state']} in {t_bad:.1f} s: {bad_r['reason']}")
        devs = c.devices()
        on_good = sum(d["model_version"] == "1.1.0" and d["health"] == "ok" for d in devs)

        # Ingest: telemetry for a while, then the broker goes down for --outage seconds (devices
        # buffer), comes back, and the backlog drains: the drain rate is the server's ingest rate.
        before = c.stats()["counts"]["telemetry"]
        t0 = time.time()
        time.sleep(args.ingest_seconds / 2)
        broker.stop()
        time.sleep(args.outage)
        backlog_from = c.stats()["counts"]["telemetry"]
        broker.start()
        t_up, peak, last = time.time(), 0.0, (time.time(), backlog_from)
        while time.time() - t_up < args.ingest_seconds / 2:
            time.sleep(1.0)
            now = (time.time(), c.stats()["counts"]["telemetry"])
            peak = max(peak, (now[1] - last[1]) / (now[0] - last[0]))
            last = now
        swarm.quiet()
        log("telemetry window over; waiting for the server to store everything")
        wait(lambda: swarm.totals()["unacked"] == 0, 120)
        total = swarm.totals()["telemetry"]  # every telemetry message of the run, all phases
        stored_total = wait(lambda: (n := c.stats()["counts"]["telemetry"]) >= total and n, 120)
        t_ingest = time.time() - t0
        stored = stored_total - before
        result = {
            "devices": args.devices,
            "db": "postgresql" if args.db else "sqlite",
            "provision_s": round(t_prov, 2),
            "connect_s": round(t_conn, 2),
            "good_rollout": {
                "state": good_r["state"],
                "seconds": round(t_good, 2),
                "devices_updated_per_s": round(args.devices / t_good, 1),
            },
            "bad_rollout": {
                "state": bad_r["state"],
                "reason": bad_r["reason"],
                "seconds": round(t_bad, 2),
                "devices_touched": sum(s["devices"] for s in bad_r["stages"] if s["state"] != "waiting"),
            },
            "devices_on_good_version_after": on_good,
            "ingest": {
                "stored_in_window": stored,
                "sent_whole_run": total,
                "stored_whole_run": stored_total,
                "lost": total - stored_total,
                "seconds": round(t_ingest, 2),
                "messages_per_s": round(stored / t_ingest, 1),
                "peak_messages_per_s_after_restart": round(peak, 1),
                "broker_restarts": 1,
                "broker_down_s": args.outage,
            },
        }
        print(json.dumps(result, indent=2))
    finally:
        if swarm is not None:
            swarm.stop()
        server.terminate()
        server.wait(20)
        broker.stop()


if __name__ == "__main__":
    main()
