"""The fleet service: every operation the HTTP API offers, over the store, key, broker and bridge.

The HTTP layer (:mod:`edgecraft.fleet.server`) parses requests and calls this object only. What
several server instances must share lives in the database (devices, models, rollouts, command
counters, telemetry) or in the state directory (signing key, admin token, the broker's password
for the servers, the broker's files). The state directory is private (0700, files 0600).

Crash-only: nothing here needs a clean shutdown. A restarted server takes back its instance
name (so the broker's queued messages for its persistent session reach it), finds its broker's
port in the state directory, stops a broker left running by a killed predecessor and starts its
own on the same port, and resumes every rollout from the database. A supervisor thread restarts
the broker when it dies; :meth:`FleetService.health` says so meanwhile.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgecraft.fleet import artifacts, commands, names, rollouts
from edgecraft.fleet.messages import parse_message
from edgecraft.fleet.mqtt import Broker, BrokerBusy, ServerBridge, mosquitto_hash, write_auth_files
from edgecraft.fleet.publish import build_version
from edgecraft.fleet.records import (
    BadRequest,
    Conflict,
    Device,
    FleetStore,
    Message,
    NewDevice,
    NotFound,
    to_json,
)
from edgecraft.fleet.store import Store

MAX_ID = 2**63 - 1


@dataclass
class FleetConfig:
    """Where the state lives and which database and broker to use (None: SQLite file / local broker)."""

    state_dir: Path
    db_url: str | None = None
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int | None = None
    mqtt_listen_port: int = 0
    instance: str = ""
    tick_s: float = 1.0
    resend_s: float = 5.0
    stage_timeout_s: float = 300.0
    min_messages: int = 1
    supervise_s: float = 0.5
    cloud_model: str = ""  # the cascade's model for /api/infer: a .tflite, an int8 .onnx or MODEL.py:FACTORY
    cloud_weights: str = ""
    infer_rate: float = 20.0  # /api/infer requests per second per device


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def read_secret(path: Path) -> str:
    """The secret in ``path``, created (random, mode 0600) when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(32))
        except FileExistsError:
            pass  # another instance made it first
    os.chmod(path, 0o600)
    return path.read_text().strip()


def _claim_instance(state_dir: Path, wanted: str) -> tuple[str, int]:
    """An instance name and the open lock file that holds it for this process's lifetime.

    Without ``wanted``, the first name no live process holds is taken back (its broker session
    has our queued messages), else a new one is made.
    """
    import fcntl

    d = state_dir / "instances"
    d.mkdir(exist_ok=True, mode=0o700)
    candidates = [wanted] if wanted else sorted(p.stem for p in d.glob("*.lock"))
    if not wanted:
        candidates.append(f"s{secrets.token_hex(4)}")
    for name in candidates:
        fd = os.open(d / f"{names.instance(name)}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return name, fd
        except OSError:
            os.close(fd)
    raise BadRequest(f"server instance {wanted!r} is running already; pick another --instance")


class FleetService:
    """One server instance's working parts. ``start`` connects them; ``stop`` takes them down."""

    def __init__(self, cfg: FleetConfig) -> None:
        self.cfg = cfg
        self.state_dir = Path(cfg.state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.state_dir, 0o700)
        self.instance, self._instance_lock = _claim_instance(self.state_dir, cfg.instance)
        self.store: FleetStore = Store(cfg.db_url or f"sqlite:///{self.state_dir / 'fleet.db'}")
        self.signer = artifacts.Signer.load_or_create(self.state_dir / "signing-key.pem")
        self.admin_token_hash = token_hash(read_secret(self.state_dir / "admin.token"))
        self.mqtt_password = read_secret(self.state_dir / "mqtt-server.secret")
        self.broker_dir = self.state_dir / "mosquitto"
        self.broker: Broker | None = None
        self.bridge: ServerBridge | None = None
        self._artifacts: dict[str, bytes] = {}  # published artifacts never change: cache them
        self._deltas: dict[tuple[str, str], bytes] = {}
        self._tokens: dict[str, tuple[Device, float]] = {}
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._tick_loop, name="fleet-rollouts", daemon=True),
            threading.Thread(target=self._supervise, name="fleet-broker", daemon=True),
        ]
        self.rejected = 0
        self.broker_deaths = 0
        self.broker_down_since: float | None = None

    @property
    def mqtt_port(self) -> int:
        if self.cfg.mqtt_port:
            return self.cfg.mqtt_port
        if self.broker is not None:
            return self.broker.port
        return int((self.broker_dir / "port").read_text())

    def start(self) -> None:
        self.write_auth()
        if self.cfg.mqtt_port is None:
            broker = Broker(self.broker_dir, self.cfg.mqtt_listen_port)
            try:
                broker.start()
                self.broker = broker
            except BrokerBusy:
                pass  # another live instance sharing this state directory runs it: use it
        self.bridge = ServerBridge(
            self.cfg.mqtt_host, self.mqtt_port, self.mqtt_password, self.instance, self.ingest
        )
        self.bridge.start()
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            if t.is_alive():
                t.join(5)
        if self.bridge is not None:
            self.bridge.stop()
        if self.broker is not None:
            self.broker.stop()
        self.store.close()
        os.close(self._instance_lock)

    def _tick_loop(self) -> None:
        while not self._stop.wait(self.cfg.tick_s):
            try:
                rollouts.tick(
                    self.store, self.send, self.cfg.resend_s, self.cfg.stage_timeout_s, self.cfg.min_messages
                )
            except Exception as e:
                print(f"fleet: rollout tick failed: {type(e).__name__}", flush=True)

    def _supervise(self) -> None:
        """Restart the local broker whenever it dies (on the same port, with its saved state)."""
        while not self._stop.wait(self.cfg.supervise_s):
            if self.broker is None and self.cfg.mqtt_port is None:
                self._take_over_broker()
            b = self.broker
            if b is None or b.alive():
                continue
            if self.broker_down_since is None:
                self.broker_deaths += 1
                self.broker_down_since = time.time()
                code = b.proc.returncode if b.proc is not None else None
                print(f"fleet: the MQTT broker exited (code {code}); restarting it", flush=True)
            try:
                b.start()
                self.broker_down_since = None
            except Exception as e:
                print(f"fleet: restarting the broker failed ({type(e).__name__}: {e})", flush=True)

    def _take_over_broker(self) -> None:
        """Another instance ran the local broker: if it died (its lock is free), run it here."""
        broker = Broker(self.broker_dir, self.cfg.mqtt_listen_port)
        try:
            broker.start()
        except BrokerBusy:
            return
        except Exception as e:
            broker.stop()  # releases the lock for the next try
            print(f"fleet: taking over the broker failed ({type(e).__name__}: {e})", flush=True)
            return
        self.broker = broker
        print("fleet: the instance that ran the broker is gone; this one runs it now", flush=True)

    def broker_status(self) -> dict[str, Any]:
        """``up`` or ``down`` (the bridge is not connected), restarts, whether we run it."""
        up = self.bridge is not None and self.bridge.connected.is_set() and self.broker_down_since is None
        return {
            "state": "up" if up else "down",
            "local": self.broker is not None,
            "deaths": self.broker_deaths,
            "down_since": self.broker_down_since,
        }

    def health(self) -> dict[str, Any]:
        """What an unauthenticated caller may know: whether the server works (nothing about who)."""
        try:
            self.store.counts()
            db = "up"
        except Exception:
            db = "down"
        broker = self.broker_status()["state"]
        return {"ok": db == "up" and broker == "up", "broker": broker, "database": db}

    # credentials ---------------------------------------------------------------------------
    def write_auth(self) -> None:
        """Write the broker's password and ACL files from the database; make the broker reload them."""
        known = sorted(p.stem for p in (self.state_dir / "instances").glob("*.lock"))
        write_auth_files(
            self.broker_dir, self.store.mqtt_credentials(), mosquitto_hash(self.mqtt_password), known
        )
        pid_file = self.broker_dir / "broker.pid"
        if self.broker is not None:
            self.broker.reload()
        elif pid_file.exists() and pid_file.read_text().strip():
            try:  # a broker started by another instance sharing this state directory
                os.kill(int(pid_file.read_text()), signal.SIGHUP)
                time.sleep(0.2)
            except (ProcessLookupError, PermissionError, ValueError):
                pass

    def is_admin(self, token: str) -> bool:
        return secrets.compare_digest(token_hash(token), self.admin_token_hash)

    def device_for_token(self, token: str) -> Device | None:
        """The device with this token; remembered for a minute (downloads come in bursts)."""
        h = token_hash(token)
        hit = self._tokens.get(h)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        d = self.store.device_by_token(h)
        if d is not None:
            self._tokens[h] = (d, time.monotonic() + 60)
        return d

    # devices -------------------------------------------------------------------------------
    def provision(self, specs: list[dict[str, Any]]) -> dict[str, Any]:
        """Create devices (``{id, board, group, tags}`` each); returns their tokens (shown once,
        stored only hashed) and what a device needs to connect."""
        if not 1 <= len(specs) <= 10_000:
            raise BadRequest(f"provision 1 to 10000 devices at a time, not {len(specs)}")
        new, out = [], []
        for s in specs:
            token = secrets.token_urlsafe(24)
            tags = s.get("tags", [])
            if not isinstance(tags, list):
                raise BadRequest("tags must be a list of names")
            new.append(
                NewDevice(
                    names.device_id(s.get("id")),
                    token_hash(token),
                    mosquitto_hash(token),
                    board=names.board(s.get("board") or ""),
                    group=names.group(s.get("group", "default")),
                    tags=[names.group(t) for t in tags],
                )
            )
            out.append({"id": new[-1].id, "token": token})
        if len({d.id for d in new}) < len(new):
            raise BadRequest("the request names a device id twice")
        self.store.add_devices(new)
        self.write_auth()
        return {"devices": out, **self.device_config()}

    def provision_range(
        self, count: int, prefix: str, start: int, board: str, group: str, tags: list[str]
    ) -> dict[str, Any]:
        """Create ``count`` devices named ``PREFIX-00000`` on from ``start``."""
        if not 1 <= count <= 10_000 or not 0 <= start <= 10**9:
            raise BadRequest("count must be 1 to 10000 and start 0 to 10^9")
        ids = [f"{prefix}-{i:05d}" for i in range(start, start + count)]
        return self.provision([{"id": i, "board": board, "group": group, "tags": tags} for i in ids])

    def devices(self, group: str | None = None) -> list[dict[str, Any]]:
        return [to_json(d) for d in self.store.devices(names.group(group) if group else None)]

    def register(self, device: Device, board: str, firmware: str, runtime: str) -> dict[str, Any]:
        """A device says what it runs; it gets the broker address and the server's public key."""
        self.store.register_device(device.id, board[:64], firmware[:64], runtime[:64])
        return {"id": device.id, **self.device_config()}

    def device_config(self) -> dict[str, Any]:
        """What a device needs besides its token: broker address and the server's public key."""
        return {
            "mqtt_host": self.cfg.mqtt_host,
            "mqtt_port": self.mqtt_port,
            "public_key": self.signer.public_key_hex,
        }

    # models --------------------------------------------------------------------------------
    def publish(
        self,
        model: bytes,
        version: str,
        boards: list[str],
        metrics: dict[str, Any],
        firmware: dict[str, bytes] | None = None,
    ) -> dict[str, Any]:
        """Pack, sign and record ``version`` with its deltas from older versions, all or nothing."""
        names.version(version)
        boards = [names.group(b) for b in boards]
        if self.store.model(version) is not None:
            raise Conflict(f"version {version!r} exists already; publish under a new version")
        row, deltas = build_version(
            self.signer, self.store, self.artifact, model, version, boards, metrics, firmware
        )
        stored = self.store.add_model(row, deltas)
        return {
            "version": stored.version,
            "seq": stored.seq,
            "sha256": stored.sha256,
            "signature": stored.signature,
            "size": stored.size,
            "boards": stored.boards,
            "metrics": stored.metrics,
            "model_sha256": stored.model_sha256,
            "files": sorted(row.manifest["files"]),
            "deltas": len(deltas),
        }

    def models(self) -> list[dict[str, Any]]:
        return [to_json(m) for m in self.store.models()]

    def artifact(self, version: str) -> bytes | None:
        if version not in self._artifacts:
            m = self.store.model(version, artifact=True)
            if m is None:
                return None
            self._artifacts[version] = m.artifact
        return self._artifacts[version]

    def delta(self, base: str, target: str) -> bytes | None:
        if (base, target) not in self._deltas:
            d = self.store.delta(base, target)
            if d is None:
                return None
            self._deltas[(base, target)] = d.artifact
        return self._deltas[(base, target)]

    # rollouts ------------------------------------------------------------------------------
    def deploy(
        self, version: str, group: str, canary: str, stages: str, gate: str, max_install_failures: float
    ) -> dict[str, Any]:
        """Start a staged rollout; returns its summary."""
        rid = rollouts.create(
            self.store,
            names.version(version),
            names.target(group),
            rollouts.parse_stages(canary, stages),
            rollouts.parse_gate(gate),
            max_install_failures,
        )
        return self.rollout(rid)

    def rollouts(self) -> list[dict[str, Any]]:
        return [rollouts.summary(self.store, r) for r in self.store.rollouts()]

    def rollout(self, rollout_id: int) -> dict[str, Any]:
        r = self.store.rollout(rollout_id) if 0 < rollout_id <= MAX_ID else None
        if r is None:
            raise NotFound(f"no rollout {rollout_id}")
        return rollouts.summary(self.store, r)

    def rollback(self, rollout_id: int) -> dict[str, Any]:
        self.rollout(rollout_id)  # 404 first
        started = rollouts.request_rollback(self.store, rollout_id)
        return {"rollback_started": started, **self.rollout(rollout_id)}

    def send(self, batch: list[tuple[str, dict[str, Any]]] | Any) -> None:
        """Sign each command for its device with the device's next command number, and send it."""
        if not batch or self.bridge is None:
            return
        seqs = self.store.next_command_seqs([d for d, _ in batch])
        for device_id, body in batch:
            if device_id in seqs:
                self.bridge.send(device_id, commands.sign(self.signer.key, device_id, seqs[device_id], body))

    # device messages -----------------------------------------------------------------------
    def ingest(self, batch: list[tuple[str, str, Any]]) -> None:
        """Store a batch of device messages (malformed ones are counted and dropped)."""
        messages: list[Message] = []
        for device_id, kind, payload in batch:
            try:
                messages.append(parse_message(kind, device_id, payload))
            except (KeyError, ValueError, TypeError, OverflowError):
                self.rejected += 1
        if messages:
            self.store.ingest(messages)

    def stats(self) -> dict[str, Any]:
        return {
            "counts": self.store.counts(),
            "ingested": self.bridge.ingested if self.bridge else 0,
            "rejected": self.rejected + (self.bridge.rejected if self.bridge else 0),
            "instance": self.instance,
            "broker": self.broker_status(),
        }

    def dashboard(self) -> dict[str, Any]:
        """Everything the dashboard shows, as one JSON object."""
        now = time.time()
        devs = self.devices()
        for d in devs:
            d["online"] = d["last_seen"] is not None and now - d["last_seen"] < 30
        return {
            "time": now,
            "devices": devs,
            "models": self.models(),
            "rollouts": self.rollouts()[-10:],
            "series": self.store.telemetry_series(bucket_s=5.0),
            "anomalies": [to_json(a) for a in self.store.anomalies(50)],
            "counts": self.store.counts(),
            "broker": self.broker_status(),
        }


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
