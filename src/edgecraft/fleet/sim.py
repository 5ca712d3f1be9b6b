"""Simulation: a synthetic sensor task, small int8 classifiers for it, and a swarm of agents.

The task: 16 sensor features drawn from N(0, 1); the true class of a reading is the argmax of
``W @ x`` for a fixed 4x16 matrix ``W``. :func:`classifier_model` quantizes a weight matrix into
an int8 FULLY_CONNECTED model; with ``W`` itself it is accurate, with its rows permuted it is a
"bad version" that runs fine but gets about a quarter of readings right. A :class:`Swarm` runs
thousands of :class:`~edgecraft.fleet.agent.Agent` in one asyncio loop on a background thread.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
import numpy as np

from edgecraft.fleet.agent import Agent, AgentConfig
from edgecraft.fleet.slots import Slots

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


class Swarm:
    """Many agents in one asyncio loop on a background thread (one process, one core)."""

    def __init__(self, configs: list[AgentConfig], sources: list[Any]) -> None:
        self.configs, self.sources = configs, sources
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fleet-swarm", daemon=True)
        self.agents: list[Agent] = []
        self._misc: asyncio.Task[None] | None = None
        self.http: httpx.AsyncClient | None = None

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
        ``agent_kw["per_device"](index) -> dict``."""
        per_device: Callable[[int], dict[str, Any]] = agent_kw.pop("per_device", lambda _i: {})
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
        return cls(configs, sources)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        self.thread.start()
        self.call(self._start())

    async def _start(self) -> None:
        self.http = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=32))
        self.agents = [Agent(c, s, self.http) for c, s in zip(self.configs, self.sources, strict=True)]
        for a in self.agents:
            a.start()
        self._misc = asyncio.create_task(self._misc_loop())

    async def _misc_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            for a in self.agents:
                a.misc()

    def power_cycle(self, i: int, faults: dict[str, Any] | None = None) -> Agent:
        """Turn device ``i`` off and on again (it boots from its slots on disk)."""

        async def cycle() -> Agent:
            await self.agents[i].stop()
            self.configs[i].faults = dict(faults or {})
            assert self.http is not None
            self.agents[i] = Agent(self.configs[i], self.sources[i], self.http)
            self.agents[i].start()
            return self.agents[i]

        return self.call(cycle())

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

    def totals(self) -> dict[str, int]:
        """Messages the agents created, by kind, and how many still wait for the broker's ack."""
        out = {"telemetry": 0, "anomaly": 0, "report": 0, "unacked": 0, "connected": 0}
        for a in self.agents:
            for k, v in a.sent.items():
                out[k] += v
            out["unacked"] += len(a.unacked)
            out["connected"] += a.connected
        return out
