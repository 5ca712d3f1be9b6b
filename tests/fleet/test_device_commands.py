"""Devices under hostile commands, through a real mosquitto: replay of an old install, a forged
command, another device's command, an unsigned one, a downgrade; only a signed rollback goes back,
and the counter and the floor survive a reboot.

The test plays the server itself (its own Ed25519 key, its own broker user allowed to publish on
device command topics, a plain HTTP server for the signed artifacts), so it exercises the device
side alone: real agents, real broker, real artifacts and signatures.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fleet_support import wait_for

from edgecraft.fleet import artifacts
from edgecraft.fleet.agent import AgentConfig
from edgecraft.fleet.commands import sign
from edgecraft.fleet.mqtt import ACL_DEVICES, Broker, ack_body, ack_topic, cmd_topic, mosquitto_hash
from edgecraft.fleet.sim import Swarm, SyntheticSensor, classifier_model, task_weights
from edgecraft.fleet.slots import Slots

pytestmark = pytest.mark.broker

KEY = Ed25519PrivateKey.generate()
PUB = KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
DEVICES = {"dev-a": "token-a-0123456789", "dev-b": "token-b-0123456789"}
SEQ = {"1.0.0": 1, "1.1.0": 2, "1.2.0": 3}  # the server's publish numbers


class ArtifactServer:
    """Signed artifacts over plain HTTP, as the fleet server's ``/api/artifacts/<version>``."""

    def __init__(self, files: dict[str, bytes]) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("content-length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *_a: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


class Commander:
    """The test's broker client: publishes on device command topics, collects device reports and
    confirms them as the server does (else the devices would send them again)."""

    def __init__(self, port: int, password: str) -> None:
        self.reports: list[dict[str, Any]] = []
        self.seen: set[tuple[str, int]] = set()
        ready = threading.Event()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-commander")
        self.c.username_pw_set("commander", password)
        self.c.on_connect = lambda c, *_a: (c.subscribe("edgecraft/dev/+/up/report", qos=1), ready.set())
        self.c.on_message = self._on_report
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        assert ready.wait(10)

    def _on_report(self, client: mqtt.Client, _u: Any, m: mqtt.MQTTMessage) -> None:
        device, report = m.topic.split("/")[2], json.loads(m.payload)
        if (device, report["msg_id"]) not in self.seen:  # a resend: kept once, as the server does
            self.seen.add((device, report["msg_id"]))
            self.reports.append({"device": device, **report})
        client.publish(ack_topic(device), ack_body([report["msg_id"]]))

    def send(self, device: str, message: Any) -> None:
        self.c.publish(cmd_topic(device), json.dumps(message), qos=1).wait_for_publish(10)

    def next_report(self, device: str, after: int) -> dict[str, Any]:
        """The first answer of ``device`` beyond the first ``after`` reports received (a boot report,
        sent when a device starts, answers no command)."""
        got: dict[str, Any] = wait_for(
            lambda: next(
                (r for r in self.reports[after:] if r["device"] == device and r["type"] != "boot"), None
            ),
            20,
            f"a report from {device}",
            step=0.05,
        )
        return got

    def stop(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


@pytest.fixture
def setup(tmp_path: Path, broker: Broker) -> Iterator[tuple[Swarm, Commander, dict[str, Any]]]:
    password = "commander-secret"
    lines = [f"commander:{mosquitto_hash(password)}"] + [
        f"{d}:{mosquitto_hash(t)}" for d, t in DEVICES.items()
    ]
    (broker.directory / "passwords").write_text("\n".join(lines) + "\n")
    (broker.directory / "acl").write_text("user commander\ntopic readwrite edgecraft/#\n" + ACL_DEVICES)
    broker.reload()
    w = task_weights()
    models = {
        "1.0.0": classifier_model(w),
        "1.1.0": classifier_model(w * 1.05),
        "1.2.0": classifier_model(w * 1.1),
    }
    files, installs = {}, {}
    for version, model in models.items():
        blob, _manifest = artifacts.pack(model, version)
        files[f"/api/artifacts/{version}"] = blob
        installs[version] = {
            "cmd": "install",
            "rollout_id": SEQ[version],
            "version": version,
            "version_seq": SEQ[version],
            "url": f"/api/artifacts/{version}",
            "sha256": artifacts.sha256(blob),
            "signature": KEY.sign(blob).hex(),
            "delta": None,
        }
    web = ArtifactServer(files)
    configs = []
    for d, token in DEVICES.items():
        Slots.factory(tmp_path / d, "1.0.0", artifacts.canonical_model(models["1.0.0"])[0])
        configs.append(
            AgentConfig(
                d,
                token,
                tmp_path / d,
                [web.url],
                "127.0.0.1",
                broker.port,
                PUB,
                telemetry_s=0.5,
            )
        )
    swarm = Swarm(configs, [SyntheticSensor(w, seed=i) for i in range(len(configs))])
    commander = Commander(broker.port, password)  # first: it confirms every report from the start
    swarm.start()
    wait_for(lambda: all(a.subscribed for a in swarm.agents), 30, "the devices to subscribe")
    yield swarm, commander, installs
    commander.stop()
    swarm.stop()
    web.httpd.shutdown()


def test_replay_forgery_other_device_and_downgrade_are_refused(setup) -> None:  # type: ignore[no-untyped-def]
    swarm, cmd, installs = setup
    dev = swarm.agents[0]

    def exchange(message: Any, device: str = "dev-a") -> dict[str, Any]:
        n = len(cmd.reports)
        cmd.send(device, message)
        return cmd.next_report(device, n)

    def active() -> str | None:
        return swarm.agents[0].slots.version(swarm.agents[0].slots.active)

    first = sign(KEY, "dev-a", 1, installs["1.1.0"])
    assert exchange(first)["type"] == "installed" and active() == "1.1.0"
    assert exchange(sign(KEY, "dev-a", 2, installs["1.2.0"]))["type"] == "installed" and active() == "1.2.0"
    assert (dev.slots.last_seq, dev.slots.floor) == (2, 3)

    # 1. The old install command again, as recorded off the wire: a replay.
    r = exchange(first)
    assert (r["type"], r["rollout_id"]) == ("command_refused", None) and "replay" in r["detail"], r
    # 2. Forged: signed with a key that is not the server's, with a fresh counter.
    forged = sign(Ed25519PrivateKey.generate(), "dev-a", 50, installs["1.0.0"])
    assert "signature is invalid" in exchange(forged)["detail"]
    # ... or with the signature of another command pasted on.
    assert (
        "signature is invalid"
        in exchange({**sign(KEY, "dev-a", 51, installs["1.0.0"]), "sig": first["sig"]})["detail"]
    )
    # 3. Another device's command, validly signed for it, delivered to this one.
    for_b = sign(KEY, "dev-b", 1, installs["1.0.0"])
    assert "for device 'dev-b', not 'dev-a'" in exchange(for_b)["detail"]
    assert exchange(for_b, "dev-b")["type"] == "installed"  # it was genuine: dev-b takes it
    # 4. The old, unsigned format.
    assert exchange(installs["1.0.0"])["detail"] == "command is unsigned"
    assert active() == "1.2.0" and dev.slots.last_seq == 2  # nothing refused moved the counter

    # 5. A signed, fresh install of an older version: a downgrade, refused with the floor named.
    r = exchange(sign(KEY, "dev-a", 3, installs["1.1.0"]))
    assert (r["type"], r["rollout_id"], r["version"]) == ("refused", 2, "1.1.0")
    assert "below this device's floor #3" in r["detail"] and active() == "1.2.0"

    # 6. Only a signed rollback goes back; the floor follows it down.
    rollback = {
        "cmd": "rollback",
        "rollout_id": 3,
        "version": "1.2.0",
        "version_seq": 3,
        "to": "1.1.0",
        "to_seq": 2,
    }
    assert exchange(sign(KEY, "dev-a", 4, rollback))["type"] == "rolled_back" and active() == "1.1.0"
    assert dev.slots.floor == 2
    r = exchange(sign(KEY, "dev-a", 5, installs["1.0.0"]))
    assert r["type"] == "refused" and "floor #2" in r["detail"] and active() == "1.1.0"

    # 7. Counter and floor are on disk: after a reboot the rollback cannot be replayed either.
    state = json.loads((swarm.configs[0].root / "state.json").read_text())
    assert (state["last_seq"], state["floor"]) == (5, 2)
    swarm.power_cycle(0)
    wait_for(lambda: swarm.agents[0].subscribed, 20, "dev-a to reconnect and subscribe")
    r = exchange(sign(KEY, "dev-a", 4, rollback))
    assert r["type"] == "command_refused" and "replay" in r["detail"]
    assert exchange(sign(KEY, "dev-a", 6, installs["1.2.0"]))["type"] == "installed" and active() == "1.2.0"
