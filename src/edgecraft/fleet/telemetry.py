"""What a device measures and reports: runs of its active model, latency percentiles, anomalies.

:class:`Telemetry` belongs to one agent. Each :meth:`Telemetry.measure` runs the active model on
one batch from the device's data source and returns the messages to publish: a telemetry
message (readings, errors, confidence, class histogram, correct predictions when labels are
known, battery, and the latency mean, p50 and p95 over a window of the device's recent runs)
and, when readings look wrong, an anomaly message.

Interpreters, and the results of runs on replayed recordings, are kept in a :class:`ModelCache`
object that the owner of many simulated devices shares among them (a thousand devices running
one model on one recording cost what a few distinct runs cost); nothing is cached per process.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Any, Protocol

import numpy as np

from edgecraft.fleet import artifacts
from edgecraft.fleet.slots import Slots


class DataSource(Protocol):
    """Where a device's readings come from."""

    def sample(self) -> tuple[list[np.ndarray], np.ndarray | None, Any]:
        """Model inputs for one run, the true class of each row when known, and a replay key
        (equal keys mean equal inputs; None for live data)."""
        ...


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100) of ``values``: the smallest value with
    at least ``q`` percent of ``values`` at or below it. 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered) - 1e-9))
    return float(ordered[rank - 1])


class LatencyWindow:
    """The latencies of a device's most recent ``size`` model runs."""

    def __init__(self, size: int = 64) -> None:
        self.values: deque[float] = deque(maxlen=size)

    def add(self, ms: float) -> None:
        self.values.append(ms)

    def clear(self) -> None:
        self.values.clear()

    def stats(self) -> dict[str, float]:
        """``latency_mean_ms``, ``latency_p50_ms`` and ``latency_p95_ms`` over the window."""
        vals = list(self.values)
        return {
            "latency_mean_ms": float(sum(vals) / len(vals)) if vals else 0.0,
            "latency_p50_ms": percentile(vals, 50),
            "latency_p95_ms": percentile(vals, 95),
        }


class ModelCache:
    """Interpreters by model hash, and summaries of runs on replayed recordings, for the agents
    that share this object (one per simulator; an agent without one gets its own)."""

    def __init__(self) -> None:
        self._interpreters: dict[str, Any] = {}
        self._runs: dict[tuple[str, Any, float], dict[str, Any]] = {}

    def interpreter(self, model: bytes, sha: str | None = None) -> Any:
        """An Interpreter for ``model``, shared by everyone asking for the same bytes."""
        from edgecraft.formats import read_tflite_bytes
        from edgecraft.runtime import Interpreter

        key = sha or artifacts.sha256(model)
        if key not in self._interpreters:
            self._interpreters[key] = Interpreter(read_tflite_bytes(model))
        return self._interpreters[key]

    def summarize(
        self,
        model: bytes,
        sha: str,
        xs: list[np.ndarray],
        labels: np.ndarray | None,
        key: Any,
        low_confidence: float,
    ) -> dict[str, Any]:
        """Run ``model`` on one batch and summarize it: latency, confidence, class histogram,
        correct predictions (when labels are known), saturated readings and low-confidence ones.

        A run on a replayed recording (``key`` not None) is done once per cache: later devices get
        the same summary, with the latency measured for that run.
        """
        if key is not None and (sha, key, low_confidence) in self._runs:
            return self._runs[(sha, key, low_confidence)]
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
            interp = self.interpreter(model, sha)
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
            probs=p,  # per row, for the cascade (not sent)
        )
        if labels is not None:
            out.update(labeled=len(labels), correct=int((pred == labels).sum()))
        if key is not None:
            self._runs[(sha, key, low_confidence)] = out
        return out


class Telemetry:
    """One device's measurements: the active model on its data, a latency window, its battery."""

    def __init__(
        self,
        slots: Slots,
        source: DataSource,
        cache: ModelCache,
        low_confidence: float = 0.35,
        window: int = 64,
    ) -> None:
        self.slots, self.source, self.cache = slots, source, cache
        self.low_confidence = low_confidence
        self.latency = LatencyWindow(window)
        self.battery = 100.0
        self._loaded: tuple[tuple[str, str], bytes] | None = None  # ((slot, sha256), model bytes)
        self.last: tuple[list[np.ndarray], np.ndarray | None, dict[str, Any], bytes, str] | None = None

    def _model(self) -> tuple[bytes, str] | None:
        """The active slot's model and hash, read again only when the active slot changes."""
        slot = self.slots.active
        sha = self.slots.sha256(slot)
        if slot is None or sha is None:
            self._loaded = None
            return None
        if self._loaded is None or self._loaded[0] != (slot, sha):
            model = self.slots.model(slot)
            if model is None:
                return None
            self._loaded = ((slot, sha), model)
            self.latency.clear()  # percentiles describe the model that runs now
        return self._loaded[1], sha

    def measure(self) -> list[tuple[str, dict[str, Any]]]:
        """Run the active model on one batch; the messages to publish as ``(kind, body)``."""
        active = self._model()
        if active is None:
            return []
        model, sha = active
        xs, labels, key = self.source.sample()
        r = self.cache.summarize(model, sha, xs, labels, key, self.low_confidence)
        self.last = (xs, labels, r, model, sha)  # what the cascade escalates from
        if not r["errors"]:
            self.latency.add(r["latency_ms"])
        self.battery = max(0.0, self.battery - 0.01)
        version = self.slots.version(self.slots.active)
        out: list[tuple[str, dict[str, Any]]] = []
        if r["saturated"] or r["low"]:
            out.append(
                (
                    "anomaly",
                    {
                        "type": "sensor_saturated" if r["saturated"] else "low_confidence",
                        "version": version,
                        "score": 1 - r["min_confidence"],
                        "detail": f"{r['saturated']} saturated, {r['low']} low-confidence of {r['n']}",
                    },
                )
            )
        body = {
            "version": version,
            "n": r["n"],
            "errors": r["errors"],
            **self.latency.stats(),
            "battery": self.battery,
            "confidence": r["confidence"],
            "labeled": r["labeled"],
            "correct": r["correct"],
            "histogram": r["histogram"],
        }
        out.append(("telemetry", body))
        return out
