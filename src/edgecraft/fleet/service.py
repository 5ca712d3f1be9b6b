"""The fleet service: store, signing key, secrets, MQTT bridge and the rollout ticker in one object.

The HTTP layer (:mod:`edgecraft.fleet.server`) is a thin shell over :class:`FleetService`.
Everything several server instances must share lives in the database (devices, models,
rollouts, telemetry) or in the state directory (signing key, admin token, the broker's user
for the servers, and the broker's password and ACL files).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgecraft.fleet import artifacts, rollouts
from edgecraft.fleet.mqtt import Broker, ServerBridge, mosquitto_hash, write_auth_files
from edgecraft.fleet.store import Store


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


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def read_secret(path: Path) -> str:
    """The secret in ``path``, created (random, mode 0600) when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(32))
        except FileExistsError:
            pass  # another instance made it first
    return path.read_text().strip()


def _num(p: dict[str, Any], key: str, default: float | None = None) -> float:
    v = p.get(key, default)
    if not isinstance(v, int | float) or isinstance(v, bool):
        raise ValueError(key)
    return float(v)


def device_row(kind: str, device_id: str, p: dict[str, Any]) -> dict[str, Any]:
    """A store row from a device message; ValueError when a field is missing or has a bad type."""
    row: dict[str, Any] = {
        "device_id": device_id,
        "msg_id": int(_num(p, "msg_id")),
        "ts": _num(p, "ts"),
        "version": str(p["version"]) if p.get("version") is not None else None,
    }
    if kind == "telemetry":
        row.update(
            n=int(_num(p, "n")),
            errors=int(_num(p, "errors", 0)),
            latency_mean_ms=_num(p, "latency_mean_ms"),
            latency_p95_ms=_num(p, "latency_p95_ms"),
            confidence=_num(p, "confidence"),
            labeled=int(_num(p, "labeled", 0)),
            correct=int(_num(p, "correct", 0)),
            battery=_num(p, "battery", 0.0),
            histogram=[int(x) for x in p.get("histogram", [])],
        )
    elif kind == "anomaly":
        row.update(
            kind=str(p["type"])[:32], score=_num(p, "score", 0.0), detail=str(p.get("detail", ""))[:500]
        )
    else:
        rid = p.get("rollout_id")
        row.update(
            kind=str(p["type"])[:32],
            rollout_id=int(rid) if rid is not None else None,
            detail=str(p.get("detail", ""))[:500],
        )
    return row


class FleetService:
    """One server instance's working parts. ``start`` connects them; ``stop`` takes them down."""

    def __init__(self, cfg: FleetConfig) -> None:
        self.cfg = cfg
        self.state_dir = Path(cfg.state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.instance = cfg.instance or uuid.uuid4().hex[:8]
        self.store = Store(cfg.db_url or f"sqlite:///{self.state_dir / 'fleet.db'}")
        self.signer = artifacts.Signer.load_or_create(self.state_dir / "signing-key.pem")
        self.admin_token_hash = token_hash(read_secret(self.state_dir / "admin.token"))
        self.mqtt_password = read_secret(self.state_dir / "mqtt-server.secret")
        self.broker_dir = self.state_dir / "mosquitto"
        self.broker: Broker | None = None
        self.bridge: ServerBridge | None = None
        self._artifacts: dict[str, bytes] = {}  # published artifacts never change: cache them
        self._deltas: dict[tuple[str, str], bytes] = {}
        self._tokens: dict[str, tuple[dict[str, Any], float]] = {}
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick_loop, name="fleet-rollouts", daemon=True)
        self.rejected = 0

    @property
    def mqtt_port(self) -> int:
        if self.cfg.mqtt_port:
            return self.cfg.mqtt_port
        assert self.broker is not None
        return self.broker.port

    def start(self) -> None:
        self.write_auth()
        if self.cfg.mqtt_port is None:
            self.broker = Broker(self.broker_dir, self.cfg.mqtt_listen_port)
            self.broker.start()
        self.bridge = ServerBridge(
            self.cfg.mqtt_host, self.mqtt_port, self.mqtt_password, self.instance, self.ingest
        )
        self.bridge.start()
        self._ticker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._ticker.is_alive():
            self._ticker.join(5)
        if self.bridge is not None:
            self.bridge.stop()
        if self.broker is not None:
            self.broker.stop()
        self.store.close()

    def _tick_loop(self) -> None:
        while not self._stop.wait(self.cfg.tick_s):
            try:
                assert self.bridge is not None
                rollouts.tick(
                    self.store,
                    self.bridge.send,
                    self.cfg.resend_s,
                    self.cfg.stage_timeout_s,
                    self.cfg.min_messages,
                )
            except Exception as e:
                print(f"fleet: rollout tick failed: {type(e).__name__}: {e}", flush=True)

    # credentials ---------------------------------------------------------------------------
    def write_auth(self) -> None:
        """Write the broker's password and ACL files from the database; make the broker reload them."""
        write_auth_files(self.broker_dir, self.store.mqtt_credentials(), mosquitto_hash(self.mqtt_password))
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

    def provision(self, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create devices; returns each id with its new token (shown once, stored only hashed)."""
        rows, out = [], []
        for s in specs:
            token = secrets.token_urlsafe(24)
            rows.append(
                {
                    "id": s["id"],
                    "board": s.get("board", ""),
                    "grp": s.get("group", "default"),
                    "tags": list(s.get("tags", [])),
                    "token_hash": token_hash(token),
                    "mqtt_hash": mosquitto_hash(token),
                }
            )
            out.append({"id": s["id"], "token": token})
        self.store.add_devices(rows)
        self.write_auth()
        return out

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
        """Pack, sign and record ``version``; also records weights-only deltas from older versions."""
        import tempfile

        if self.store.model(version) is not None:
            raise rollouts.RolloutError(f"version {version!r} exists already; publish under a new version")
        with tempfile.TemporaryDirectory() as tmp:
            fw_dir = None
            if firmware:
                fw_dir = Path(tmp)
                for name, data in firmware.items():
                    p = (fw_dir / name).resolve()
                    if not p.is_relative_to(fw_dir.resolve()):
                        raise ValueError(f"bad firmware file name {name!r}")
                    p.parent.mkdir(parents=True, exist_ok=True)
                    p.write_bytes(data)
            blob, manifest = artifacts.pack(model, version, boards, metrics, fw_dir)
        row = {
            "version": version,
            "sha256": artifacts.sha256(blob),
            "model_sha256": manifest["model_sha256"],
            "signature": self.signer.sign(blob),
            "size": len(blob),
            "boards": manifest["boards"],
            "metrics": manifest["metrics"],
            "manifest": manifest,
            "structure": manifest["structure"],
            "artifact": blob,
        }
        self.store.add_model(row)
        deltas = 0
        for old in self.store.models():
            if old["version"] == version or old["structure"] != manifest["structure"]:
                continue
            base = self.artifact(old["version"])
            assert base is not None
            delta = artifacts.make_delta(artifacts.open_artifact(base)[1]["model.tflite"], blob)
            if delta is not None:
                self.store.add_delta(
                    {
                        "base": old["version"],
                        "target": version,
                        "sha256": artifacts.sha256(delta),
                        "signature": self.signer.sign(delta),
                        "size": len(delta),
                        "artifact": delta,
                    }
                )
                deltas += 1
        return {k: row[k] for k in ("version", "sha256", "signature", "size", "boards", "metrics")} | {
            "model_sha256": manifest["model_sha256"],
            "files": sorted(manifest["files"]),
            "deltas": deltas,
        }

    def device_for_token(self, token_hash: str) -> dict[str, Any] | None:
        """The device with this token hash; remembered for a minute (downloads come in bursts)."""
        hit = self._tokens.get(token_hash)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        d = self.store.device_by_token(token_hash)
        if d is not None:
            self._tokens[token_hash] = (d, time.monotonic() + 60)
        return d

    def delta(self, base: str, target: str) -> bytes | None:
        if (base, target) not in self._deltas:
            d = self.store.delta(base, target)
            if d is None:
                return None
            self._deltas[(base, target)] = d["artifact"]
        return self._deltas[(base, target)]

    def artifact(self, version: str) -> bytes | None:
        if version not in self._artifacts:
            m = self.store.model(version, artifact=True)
            if m is None:
                return None
            self._artifacts[version] = m["artifact"]
        return self._artifacts[version]

    # device messages -----------------------------------------------------------------------
    def ingest(self, batch: list[tuple[str, str, dict[str, Any]]]) -> None:
        messages = []
        for device_id, kind, payload in batch:
            try:
                state = payload.get("state") if kind == "report" else None
                messages.append(
                    {
                        "kind": kind,
                        "row": device_row(kind, device_id, payload),
                        "state": state if isinstance(state, dict) else None,
                    }
                )
            except (KeyError, ValueError, TypeError):
                self.rejected += 1
        if messages:
            self.store.ingest(messages)

    def dashboard(self) -> dict[str, Any]:
        """Everything the dashboard shows, as one JSON object."""
        now = time.time()
        devs = self.store.devices()
        for d in devs:
            d["online"] = d["last_seen"] is not None and now - d["last_seen"] < 30
        return {
            "time": now,
            "devices": devs,
            "models": self.store.models(),
            "rollouts": [rollouts.summary(self.store, r) for r in self.store.rollouts()][-10:],
            "series": self.store.telemetry_series(bucket_s=5.0),
            "anomalies": self.store.anomalies(50),
            "counts": self.store.counts(),
        }


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
