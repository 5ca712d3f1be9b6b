"""Simulation: a synthetic sensor task, small int8 classifiers for it, a swarm of agents, faults.

The task: 16 sensor features drawn from N(0, 1); the true class of a reading is the argmax of
``W @ x`` for a fixed 4x16 matrix ``W``. :func:`classifier_model` quantizes a weight matrix into
an int8 FULLY_CONNECTED model; with ``W`` itself it is accurate, with its rows permuted it is a
"bad version" that runs fine but gets about a quarter of readings right. A :class:`Swarm` runs
thousands of :class:`~edgecraft.fleet.agent.Agent` in one asyncio loop on a background thread.

Faults are injected here, never inside the agent: the simulator gives a device faulty hardware.
:class:`Faults` names them; pass one to :meth:`Swarm.power_cycle` (the device reboots with it)
or per device at start through ``Swarm.factory(..., faults=lambda i: Faults(...))``:

- ``power_loss="write"``: power fails halfway through writing the inactive slot (a torn write);
- ``power_loss="before_commit"``: power fails after the self-test, just before the commit;
- ``tamper=True``: a man in the middle flips the last bit of everything the device downloads.

A power loss stops the device (:class:`PowerLoss`; ``agent.dead`` says why); power it on again
with :meth:`Swarm.power_cycle`. :meth:`Swarm.power_off` turns a device off for good. Server and
broker faults (kill -9, restarts) need no help from here: the swarm reconnects and resends.
:meth:`Swarm.totals` counts messages made, not yet confirmed stored by the server, and dropped
from a full outbox; :meth:`Swarm.without_model`
lists devices that are stopped or have no intact model in their active slot.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import numpy as np

from edgecraft.fleet.agent import Agent, AgentConfig, Halt
from edgecraft.fleet.ota import Downloader, Fetch
from edgecraft.fleet.slots import Slots
from edgecraft.fleet.telemetry import ModelCache

FEATURES, CLASSES, BATCH = 16, 4, 32
IN_SCALE = 4.0 / 127  # readings are clipped to +-4 standard deviations
T = TypeVar("T")


def task_weights(seed: int = 0) -> np.ndarray:
    """The true class boundaries of the synthetic task (CLASSES x FEATURES)."""
    return np.random.default_rng(seed).standard_normal((CLASSES, FEATURES))


def classifier_model(weights: np.ndarray, batch: int = BATCH, hidden: int = 0) -> bytes:
    """An int8 .tflite classifier for the task: FULLY_CONNECTED (x ``weights``), optionally
    preceded by a ``hidden``-unit FULLY_CONNECTED + RELU layer (a bigger model; random first layer)."""
    from edgecraft.formats import write_tflite
    from edgecraft.ir import GraphBuilder, qparams

    rng = np.random.default_rng(1)
    b = GraphBuilder("fleet_classifier")
    x = b.tensor("x", [batch, FEATURES], "int8", qparams(IN_SCALE))
    cur, cur_scale, width = x, IN_SCALE, FEATURES
    if hidden:
        w1 = rng.standard_normal((hidden, FEATURES))
        s1 = float(np.abs(w1).max()) / 127
        h = b.tensor("h", [batch, hidden], "int8", qparams(0.1, -128))
        b.op(
            "FULLY_CONNECTED",
            [
                cur,
                b.const("w1", np.round(w1 / s1).astype(np.int8), qparams(s1)),
                b.const("b1", np.zeros(hidden, np.int32), qparams(cur_scale * s1)),
            ],
            [h],
            fused_activation_function="RELU",
            keep_num_dims=False,
        )
        weights = weights @ np.linalg.pinv(w1)  # the output layer carries the task's weights
        cur, cur_scale, width = h, 0.1, hidden
    ws = float(np.abs(weights).max()) / 127
    wq = np.round(weights / ws).astype(np.int8)
    out_scale = float(np.abs(weights).sum(axis=1).max()) * (cur_scale * 127 if hidden else 4.0) / 127 / 2
    y = b.tensor("logits", [batch, CLASSES], "int8", qparams(out_scale))
    b.op(
        "FULLY_CONNECTED",
        [
            cur,
            b.const("w", wq.reshape(CLASSES, width), qparams(ws)),
            b.const("bias", np.zeros(CLASSES, np.int32), qparams(cur_scale * ws)),
        ],
        [y],
        fused_activation_function="NONE",
        keep_num_dims=False,
    )
    return write_tflite(b.build([x], [y]))


def _readings(
    rng: np.random.Generator, weights: np.ndarray, batch: int, glitch: float
) -> tuple[np.ndarray, np.ndarray]:
    x = rng.standard_normal((batch, FEATURES))
    labels = (x @ weights.T).argmax(axis=1)
    q = np.clip(np.round(x / IN_SCALE), -127, 127).astype(np.int8)
    q[rng.random(batch) < glitch] = 127  # a stuck sensor reads full scale
    return q, labels


class Recording:
    """A fixed set of labeled batches that devices replay (``size`` batches of ``batch`` readings);
    ``glitch`` is the chance that a reading is stuck at full scale."""

    def __init__(
        self, weights: np.ndarray, size: int = 256, glitch: float = 0.0, batch: int = BATCH, seed: int = 0
    ) -> None:
        rng = np.random.default_rng(seed)
        self.batches = [_readings(rng, weights, batch, glitch) for _ in range(size)]
        self.name = uuid.uuid4().hex  # replay keys are unique to this recording


class SyntheticSensor:
    """One device's data source: replays a :class:`Recording` from its own random position, or
    (without one) draws fresh labeled readings every time."""

    def __init__(
        self,
        weights: np.ndarray,
        seed: int,
        glitch: float = 0.0,
        batch: int = BATCH,
        recording: Recording | None = None,
    ) -> None:
        self.weights, self.glitch, self.batch, self.recording = weights, glitch, batch, recording
        self.rng = np.random.default_rng(seed)

    def sample(self) -> tuple[list[np.ndarray], np.ndarray | None, Any]:
        if self.recording is not None:
            i = int(self.rng.integers(len(self.recording.batches)))
            q, labels = self.recording.batches[i]
            return [q], labels, (self.recording.name, i)
        q, labels = _readings(self.rng, self.weights, self.batch, self.glitch)
        return [q], labels, None


class PowerLoss(Halt):
    """A simulated power failure: the device stops mid-operation, with no clean-up."""


@dataclass(frozen=True)
class Faults:
    """Faults one simulated device suffers (see the module's docstring)."""

    power_loss: str | None = None  # None, "write" or "before_commit"
    tamper: bool = False

    def __post_init__(self) -> None:
        if self.power_loss not in (None, "write", "before_commit"):
            raise ValueError(f"power_loss must be None, 'write' or 'before_commit', not {self.power_loss!r}")

    @classmethod
    def of(cls, faults: Faults | Mapping[str, Any] | None) -> Faults:
        """``faults`` as a :class:`Faults` (a mapping gives its fields by name)."""
        if faults is None:
            return cls()
        return faults if isinstance(faults, Faults) else cls(**faults)


class FaultySlots(Slots):
    """A device's storage that loses power at the moment ``power_loss`` names."""

    def __init__(self, root: Path, power_loss: str | None) -> None:
        super().__init__(root)
        self.power_loss = power_loss

    def write_inactive(self, model: bytes) -> str:
        if self.power_loss != "write":
            return super().write_inactive(model)
        slot = self.clear_inactive()
        (self.root / slot).mkdir(parents=True, exist_ok=True)
        with open(self.root / slot / "model.tflite", "wb") as f:
            f.write(model[: len(model) // 2])
        raise PowerLoss(f"power lost writing slot {slot}")

    def commit(self, slot: str, version: str, model: bytes, version_seq: int = 0) -> None:
        if self.power_loss == "before_commit":
            raise PowerLoss("power lost before commit")
        super().commit(slot, version, model, version_seq)


class TamperingFetch:
    """A man in the middle: flips the last bit of every download that passes through."""

    def __init__(self, inner: Fetch) -> None:
        self.inner = inner

    async def get(self, urls: list[str], path: str, token: str) -> bytes:
        data = await self.inner.get(urls, path, token)
        return data[:-1] + bytes([data[-1] ^ 1]) if data else data


class Swarm:
    """Many agents in one asyncio loop on a background thread (one process, one core)."""

    def __init__(
        self, configs: list[AgentConfig], sources: list[Any], faults: list[Faults] | None = None
    ) -> None:
        self.configs, self.sources = configs, sources
        self.faults = faults or [Faults() for _ in configs]
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fleet-swarm", daemon=True)
        self.agents: list[Agent] = []
        self.cache = ModelCache()  # interpreters and replayed runs, shared by this swarm's agents
        self._misc: asyncio.Task[None] | None = None
        self.http: httpx.AsyncClient | None = None
        self.downloader: Downloader | None = None

    @classmethod
    def factory(
        cls,
        root: Path,
        devices: list[dict[str, Any]],
        config: dict[str, Any],
        model: bytes,
        version: str,
        server_urls: list[str],
        weights: np.ndarray,
        **agent_kw: Any,
    ) -> Swarm:
        """A swarm of freshly provisioned devices (the ``devices`` and ``config`` the provisioning API
        returned), each with ``model`` in slot A; agent options as keywords, or per device via
        ``agent_kw["per_device"](index) -> dict``; faults per device via
        ``agent_kw["faults"](index) -> Faults``."""
        per_device: Callable[[int], dict[str, Any]] = agent_kw.pop("per_device", lambda _i: {})
        faults: Callable[[int], Faults | Mapping[str, Any] | None] = agent_kw.pop("faults", lambda _i: None)
        glitch = agent_kw.pop("glitch", 0.0)
        configs, sources = [], []
        recording = Recording(weights, glitch=glitch)
        for i, d in enumerate(devices):
            Slots.factory(root / d["id"], version, model)
            kw = {**agent_kw, **per_device(i)}
            configs.append(
                AgentConfig(
                    d["id"],
                    d["token"],
                    root / d["id"],
                    server_urls,
                    config["mqtt_host"],
                    config["mqtt_port"],
                    config["public_key"],
                    **kw,
                )
            )
            sources.append(SyntheticSensor(weights, seed=i, recording=recording))
        return cls(configs, sources, [Faults.of(faults(i)) for i in range(len(devices))])

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        self.thread.start()
        self.call(self._start())

    def _agent(self, i: int) -> Agent:
        """Device ``i`` as it boots, with its faults: faulty storage, a tampering network."""
        assert self.downloader is not None
        faults, cfg = self.faults[i], self.configs[i]
        slots = FaultySlots(cfg.root, faults.power_loss) if faults.power_loss else None
        fetch: Fetch = TamperingFetch(self.downloader) if faults.tamper else self.downloader
        return Agent(cfg, self.sources[i], fetch, self.cache, slots)

    async def _start(self) -> None:
        self.http = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=32))
        self.downloader = Downloader(self.http)
        self.agents = [self._agent(i) for i in range(len(self.configs))]
        for a in self.agents:
            a.start()
        self._misc = asyncio.create_task(self._misc_loop())

    async def _misc_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            for a in self.agents:
                a.misc()

    def power_cycle(self, i: int, faults: Faults | Mapping[str, Any] | None = None) -> Agent:
        """Turn device ``i`` off and on again with ``faults`` (none when not given); it boots
        from its slots on disk. Returns the new agent."""

        async def cycle() -> Agent:
            await self.agents[i].stop()
            self.faults[i] = Faults.of(faults)
            self.agents[i] = self._agent(i)
            self.agents[i].start()
            return self.agents[i]

        return self.call(cycle())

    def power_off(self, i: int) -> None:
        """Turn device ``i`` off (until :meth:`power_cycle` turns it on again)."""
        self.call(self.agents[i].stop())

    def quiet(self) -> None:
        """Stop every agent's telemetry; buffered messages still go out."""

        async def _quiet() -> None:
            for a in self.agents:
                a.quiet()

        self.call(_quiet())

    def stop(self) -> None:
        async def _stop() -> None:
            if self._misc is not None:
                self._misc.cancel()
            for a in self.agents:  # cancel everything first, then wait once
                for t in a.tasks:
                    t.cancel()
            await asyncio.gather(*(a.stop() for a in self.agents))
            if self.http is not None:
                await self.http.aclose()

        if self.thread.is_alive():
            self.call(_stop(), timeout=300)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)

    def without_model(self) -> list[str]:
        """Devices that would not run a model if they booted now: stopped by a fault, or no
        intact committed model in their active slot (read from their slots on disk)."""
        out = []
        for a, cfg in zip(self.agents, self.configs, strict=True):
            slots = Slots(cfg.root)
            if a.dead is not None or slots.active is None or not slots.intact(slots.active):
                out.append(cfg.device_id)
        return out

    def totals(self) -> dict[str, int]:
        """Messages the agents created, by kind; ``unacked``: how many the server has not yet
        confirmed stored; ``dropped``: dropped from full outboxes (:class:`~edgecraft.fleet.agent.Outbox`)."""
        out = {"telemetry": 0, "anomaly": 0, "report": 0, "unacked": 0, "dropped": 0, "connected": 0}
        for a in self.agents:
            for k, v in a.sent.items():
                out[k] += v
            out["unacked"] += a.pending
            out["dropped"] += sum(a.dropped.values())
            out["connected"] += a.connected
        return out
