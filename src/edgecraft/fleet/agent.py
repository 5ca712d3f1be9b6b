"""The device agent: plays one device against the fleet server; many run in one asyncio loop.

An agent logs in to the broker with its id and token, listens on its own command topic, runs
its active model with edgecraft's runtime on a data source and publishes telemetry and anomaly
events with QoS 1. Messages carry ``msg_id`` = boot number * 10^6 + a counter, so the server
stores a resent message once. paho keeps unacknowledged messages and resends them after a
reconnect; the agent reconnects on its own after a broker restart and retries downloads while
the server is down.

An install downloads the artifact (a weights-only delta when offered and applicable), checks the
SHA-256 and Ed25519 signature and every file's hash, writes the inactive slot, runs the
manifest's self-test and a check on its own data, then commits (see :mod:`slots`). A tampered
or unsigned artifact is refused and reported. Commands are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import numpy as np
import paho.mqtt.client as mqtt

from edgecraft.fleet import artifacts
from edgecraft.fleet.mqtt import cmd_topic, up_topic
from edgecraft.fleet.slots import PowerLoss, Slots

_MODELS: dict[str, Any] = {}  # model sha256 -> Interpreter, shared by agents in one process
_RUNS: dict[tuple[str, Any, float], dict[str, Any]] = {}  # (model sha256, replay key, threshold) -> summary


def interpreter_for(model: bytes, sha: str | None = None) -> Any:
    """An Interpreter for ``model`` (cached by hash: a thousand devices share one)."""
    from edgecraft.formats import read_tflite_bytes
    from edgecraft.runtime import Interpreter

    key = sha or artifacts.sha256(model)
    if key not in _MODELS:
        _MODELS[key] = Interpreter(read_tflite_bytes(model))
    return _MODELS[key]


def summarize(
    model: bytes, sha: str, xs: list[np.ndarray], labels: np.ndarray | None, key: Any, low_confidence: float
) -> dict[str, Any]:
    """Run ``model`` on one batch and summarize it: latency, confidence, class histogram,
    correct predictions (when labels are known), saturated readings and low-confidence ones.

    Replayed recordings carry a ``key``: the same model on the same recording is run once per
    process and its summary shared, so a thousand simulated devices cost what a few distinct runs
    cost (the latency reported is the one measured for that run).
    """
    if key is not None and (sha, key, low_confidence) in _RUNS:
        return _RUNS[(sha, key, low_confidence)]
    n = len(xs[0])
    out: dict[str, Any] = {
        "n": n,
        "errors": 0,
        "latency_ms": 0.0,
        "confidence": 0.0,
        "histogram": [],
        "labeled": 0,
        "correct": 0,
        "saturated": 0,
        "low": 0,
        "min_confidence": 1.0,
    }
    try:
        interp = interpreter_for(model, sha)
        t0 = time.perf_counter()
        y = interp.run(xs)[0]
        out["latency_ms"] = (time.perf_counter() - t0) * 1000
    except Exception:
        out["errors"] = 1
        return out
    q = interp.graph.output_tensors()[0]
    z = ((y.astype(np.float64) - q.zero_point) * (q.scale or 1.0)).reshape(n, -1)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    pred, conf = p.argmax(axis=1), p.max(axis=1)
    out.update(
        confidence=float(conf.mean()),
        histogram=np.bincount(pred, minlength=z.shape[1]).tolist(),
        saturated=int((np.abs(xs[0].astype(np.int32)) >= 127).all(axis=-1).sum()),
        low=int((conf < low_confidence).sum()),
        min_confidence=float(conf.min()),
    )
    if labels is not None:
        out.update(labeled=len(labels), correct=int((pred == labels).sum()))
    if key is not None:
        _RUNS[(sha, key, low_confidence)] = out
    return out


_DOWNLOADS: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def _download_slots() -> asyncio.Semaphore:
    """At most 16 downloads at once per loop: a long queue inside httpx's pool costs quadratic time."""
    return _DOWNLOADS.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(16))


class DataSource(Protocol):
    def sample(self) -> tuple[list[np.ndarray], np.ndarray | None, Any]:
        """Model inputs for one run, the true class of each row when known, and a replay key
        (equal keys mean equal inputs; None for live data)."""
        ...


@dataclass
class AgentConfig:
    """Who the device is and where it reports to."""

    device_id: str
    token: str
    root: Path
    server_urls: list[str]
    mqtt_host: str
    mqtt_port: int
    public_key: str
    board: str = "sim"
    firmware: str = "1.0.0"
    runtime: str = "edgecraft-0.1"
    telemetry_s: float = 1.0
    model_budget_bytes: int = 1 << 20
    low_confidence: float = 0.35
    faults: dict[str, Any] = field(default_factory=dict)


class Agent:
    """One device. Use :meth:`start` inside a running asyncio loop; :meth:`stop` to power off."""

    def __init__(self, cfg: AgentConfig, source: DataSource, http: httpx.AsyncClient) -> None:
        self.cfg, self.source, self.http = cfg, source, http
        self.slots = Slots(cfg.root)
        self.boot_no = 0
        self.seq = 0
        self.sent: dict[str, int] = {"telemetry": 0, "anomaly": 0, "report": 0}
        self.unacked: set[int] = set()
        self.received = 0
        self.fetched_via = ""
        self.connected = False
        self.auth_failed = False
        self.commands: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.tasks: list[asyncio.Task[Any]] = []
        self.battery = 100.0
        self._active: tuple[str | None, bytes, str] | None = None  # (slot, model bytes, sha256)
        self.dead: BaseException | None = None
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=cfg.device_id, clean_session=False
        )
        self.client.username_pw_set(cfg.device_id, cfg.token)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish

    # life cycle ----------------------------------------------------------------------------
    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.boot_no = self.slots.boot()
        c = self.client

        # paho on this asyncio loop: it says when its socket needs reading or writing.
        def on_close(_c: Any, _u: Any, s: Any) -> None:
            loop.remove_reader(s)

        def on_unregister_write(_c: Any, _u: Any, s: Any) -> None:
            loop.remove_writer(s)

        c.on_socket_open = lambda _c, _u, s: loop.add_reader(s, c.loop_read)
        c.on_socket_close = on_close
        c.on_socket_register_write = lambda _c, _u, s: loop.add_writer(s, c.loop_write)
        c.on_socket_unregister_write = on_unregister_write
        self.online = asyncio.Event()
        self.report("boot", None, "")
        self.tasks = [
            asyncio.create_task(t)
            for t in (self._connect_loop(), self._command_loop(), self._telemetry_loop())
        ]

    async def stop(self) -> None:
        """Power off: stop the tasks and drop the connection (buffered messages are lost)."""
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.client.socket() is not None:
            self.client.disconnect()

    def quiet(self) -> None:
        """Stop sending telemetry (the device stays connected and still takes commands)."""
        self.tasks[2].cancel()

    def misc(self) -> None:
        """Keep-alive and timeouts; the owner of the loop calls this about once a second."""
        if self.connected:
            self.client.loop_misc()

    async def _connect_loop(self) -> None:
        loop, delay = asyncio.get_running_loop(), 0.2
        while True:
            if not self.connected and self.client.socket() is None:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                try:
                    await asyncio.wait_for(
                        loop.sock_connect(sock, (self.cfg.mqtt_host, self.cfg.mqtt_port)), 5
                    )
                    # paho's own connect blocks the loop; hand it the socket connected above.
                    setattr(self.client, "_create_socket_connection", lambda s=sock: s)  # noqa: B010
                    self.client.connect(self.cfg.mqtt_host, self.cfg.mqtt_port, keepalive=15)
                    delay = 0.2
                except (TimeoutError, OSError):
                    sock.close()
                    delay = min(delay * 2, 2.0)
            await asyncio.sleep((1.0 if self.connected else delay) * (0.5 + random.random()))

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            self.auth_failed = True
            return
        self.connected = True
        self.online.set()
        client.subscribe(cmd_topic(self.cfg.device_id), qos=1)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, _rc: Any, _p: Any) -> None:
        self.connected = False

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, _rc: Any, _p: Any) -> None:
        self.unacked.discard(mid)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self.received += 1
        with contextlib.suppress(ValueError):
            self.commands.put_nowait(json.loads(msg.payload))

    # messages ------------------------------------------------------------------------------
    def _publish(self, kind: str, body: dict[str, Any]) -> None:
        self.seq += 1
        body = {"msg_id": self.boot_no * 1_000_000 + self.seq, "ts": time.time(), **body}
        info = self.client.publish(up_topic(self.cfg.device_id, kind), json.dumps(body), qos=1)
        self.unacked.add(info.mid)
        self.sent[kind] += 1

    def state(self) -> dict[str, Any]:
        health = "ok" if self.slots.active and self.slots.intact(self.slots.active) else "no-model"
        return {
            **self.slots.summary(),
            "health": health,
            "board": self.cfg.board,
            "firmware": self.cfg.firmware,
            "runtime": self.cfg.runtime,
        }

    def report(self, kind: str, rollout_id: int | None, detail: str, version: str | None = None) -> None:
        self._publish(
            "report",
            {
                "type": kind,
                "rollout_id": rollout_id,
                "detail": detail,
                "version": version or self.slots.version(self.slots.active),
                "state": self.state(),
            },
        )

    # inference and telemetry ---------------------------------------------------------------
    async def _telemetry_loop(self) -> None:
        await self.online.wait()  # from then on, messages are buffered across disconnections
        await asyncio.sleep(random.random() * self.cfg.telemetry_s)
        while True:
            self.telemetry_once()
            await asyncio.sleep(self.cfg.telemetry_s)

    def telemetry_once(self) -> None:
        """Run the active model on one batch from the data source and publish what happened."""
        if self._active is None or self._active[0] != self.slots.active:
            model = self.slots.model()
            self._active = None if model is None else (self.slots.active, model, artifacts.sha256(model))
        if self._active is None:
            return
        _slot, model, sha = self._active
        xs, labels, key = self.source.sample()
        r = summarize(model, sha, xs, labels, key, self.cfg.low_confidence)
        self.battery = max(0.0, self.battery - 0.01)
        version = self.slots.version(self.slots.active)
        body = {
            "version": version,
            "n": r["n"],
            "errors": r["errors"],
            "latency_mean_ms": r["latency_ms"],
            "latency_p95_ms": r["latency_ms"],
            "battery": self.battery,
            "confidence": r["confidence"],
            "labeled": r["labeled"],
            "correct": r["correct"],
            "histogram": r["histogram"],
        }
        if r["saturated"] or r["low"]:
            self._publish(
                "anomaly",
                {
                    "type": "sensor_saturated" if r["saturated"] else "low_confidence",
                    "version": version,
                    "score": 1 - r["min_confidence"],
                    "detail": f"{r['saturated']} saturated, {r['low']} low-confidence of {r['n']}",
                },
            )
        self._publish("telemetry", body)

    # commands ------------------------------------------------------------------------------
    async def _command_loop(self) -> None:
        while True:
            cmd = await self.commands.get()
            try:
                if cmd.get("cmd") == "install":
                    await self.install(cmd)
                elif cmd.get("cmd") == "rollback":
                    self.rollback(cmd)
            except PowerLoss as e:
                self.dead = e
                self.client.disconnect()
                for t in self.tasks:
                    if t is not asyncio.current_task():
                        t.cancel()
                return

    async def _get(self, path: str) -> bytes:
        last: Exception | None = None
        for attempt in range(30):
            for base in self.cfg.server_urls:
                try:
                    async with _download_slots():
                        r = await self.http.get(
                            base + path, headers={"authorization": f"Bearer {self.cfg.token}"}
                        )
                    r.raise_for_status()
                    if self.cfg.faults.get("tamper"):  # fault injection: one bit flipped on the way
                        return r.content[:-1] + bytes([r.content[-1] ^ 1])
                    return r.content
                except httpx.HTTPStatusError:
                    raise
                except (OSError, httpx.TransportError) as e:  # server restarting: try again
                    last = e
            await asyncio.sleep(min(0.2 * (attempt + 1), 2.0))
        raise ConnectionError(f"server unreachable: {last}")

    async def _fetch(self, cmd: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        """The verified manifest and model bytes for an install command (delta first, then full)."""
        delta, current = cmd.get("delta"), self.slots.model()
        if delta and current is not None and delta["base"] == self.slots.version(self.slots.active):
            try:
                blob = await self._get(delta["url"])
                artifacts.verify(blob, delta.get("sha256"), delta.get("signature"), self.cfg.public_key)
                manifest, files = artifacts.open_artifact(blob)
                model = artifacts.apply_delta(current, manifest, files)
                self.fetched_via = "delta"
                return manifest, model
            except (artifacts.ArtifactError, httpx.HTTPStatusError):
                pass  # fall back to the full artifact
        blob = await self._get(cmd["url"])
        artifacts.verify(blob, cmd.get("sha256"), cmd.get("signature"), self.cfg.public_key)
        manifest, files = artifacts.open_artifact(blob)
        self.fetched_via = "full artifact"
        return manifest, files["model.tflite"]

    def self_test(self, manifest: dict[str, Any], model: bytes) -> str:
        """Empty when ``model`` passes: fits the slot, loads, reproduces the manifest's outputs."""
        if artifacts.sha256(model) != manifest["model_sha256"]:
            return "model hash does not match the manifest"
        if len(model) > self.cfg.model_budget_bytes:
            return f"model needs {len(model)} bytes; this board's slot holds {self.cfg.model_budget_bytes}"
        try:
            interp = interpreter_for(model, manifest["model_sha256"])
            for case in manifest["selftest"]:
                xs = [
                    np.asarray(x, dtype=t.np_dtype)
                    for x, t in zip(case["inputs"], interp.graph.input_tensors(), strict=True)
                ]
                ys = interp.run(xs)
                if any(
                    not np.array_equal(y, np.asarray(e)) for y, e in zip(ys, case["outputs"], strict=True)
                ):
                    return "self-test outputs differ from the published ones"
            interp.run(self.source.sample()[0])  # and on this device's own data
        except Exception as e:
            return f"self-test failed: {type(e).__name__}: {e}"
        return ""

    async def install(self, cmd: dict[str, Any]) -> None:
        rid, version = cmd.get("rollout_id"), cmd["version"]
        if self.slots.version(self.slots.active) == version:
            self.report("installed", rid, "already active")
            return
        try:
            manifest, model = await self._fetch(cmd)
        except (artifacts.ArtifactError, httpx.HTTPStatusError, ConnectionError) as e:
            self.report("refused", rid, str(e).split("\n")[0], version)
            return
        if manifest["version"] != version:
            self.report("refused", rid, "artifact is for another version", version)
            return
        # Slot writes fsync: run them off the loop so a thousand devices need not wait in turn.
        power_loss = self.cfg.faults.get("power_loss") == "write"
        slot = await asyncio.to_thread(self.slots.write_inactive, model, power_loss)
        problem = self.self_test(manifest, model)
        if problem:
            self.report("install_failed", rid, problem, version)
            return
        if self.cfg.faults.get("power_loss") == "before_commit":
            raise PowerLoss("power lost before commit")
        await asyncio.to_thread(self.slots.commit, slot, version, model)
        self._active = None
        self.report("installed", rid, f"slot {slot} via {self.fetched_via}")

    def rollback(self, cmd: dict[str, Any]) -> None:
        rid, bad = cmd.get("rollout_id"), cmd.get("version")
        if self.slots.version(self.slots.active) == bad:
            self._active = None
            if not self.slots.switch_back():
                self.report("rollback_failed", rid, "the other slot holds no intact model", bad)
                return
        self.report("rolled_back", rid, f"active {self.slots.version(self.slots.active)}", bad)
