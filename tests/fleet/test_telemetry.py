"""Device telemetry (fleet/telemetry.py): real latency percentiles over a window of recent runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.fleet.sim import Recording, SyntheticSensor, classifier_model, task_weights
from edgecraft.fleet.slots import Slots
from edgecraft.fleet.telemetry import LatencyWindow, ModelCache, Telemetry, percentile


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 100 .. 1, unsorted on purpose
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 100)) == (50.0, 95.0, 100.0)
    assert percentile([7.0], 95) == 7.0 and percentile([], 95) == 0.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 95) == 10.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0


def test_the_window_keeps_the_recent_runs_and_is_not_the_mean() -> None:
    w = LatencyWindow(size=20)
    for v in [1000.0] * 5 + [1.0] * 18 + [10.0, 20.0]:  # the 1000s fall out of the window
        w.add(v)
    assert w.stats() == {"latency_mean_ms": 2.4, "latency_p50_ms": 1.0, "latency_p95_ms": 10.0}
    w.add(50.0)  # one slow run in 20: p95 is the 19th of 20 sorted values
    assert w.stats()["latency_p95_ms"] == 20.0
    assert w.stats()["latency_p50_ms"] == 1.0


class _Timed(ModelCache):
    """A cache whose runs report the latencies given (the measurement is replaced, not the math)."""

    def __init__(self, latencies: list[float]) -> None:
        super().__init__()
        self.latencies = iter(latencies)

    def summarize(self, *args: Any) -> dict[str, Any]:
        return {**super().summarize(*args), "latency_ms": next(self.latencies)}


def test_telemetry_sends_p50_and_p95_of_its_window(tmp_path: Path) -> None:
    w = task_weights()
    Slots.factory(tmp_path, "1.0.0", classifier_model(w))
    lat = [5.0, 1.0, 2.0, 3.0, 4.0, 100.0, 6.0, 7.0, 8.0, 9.0]
    t = Telemetry(Slots(tmp_path), SyntheticSensor(w, seed=0), _Timed(lat), window=8)
    bodies = [dict(t.measure())["telemetry"] for _ in lat]
    last = bodies[-1]  # the window holds the last 8: 2, 3, 4, 100, 6, 7, 8, 9
    assert (last["latency_p50_ms"], last["latency_p95_ms"]) == (6.0, 100.0)
    assert last["latency_mean_ms"] == np.mean([2, 3, 4, 100, 6, 7, 8, 9])
    assert bodies[0]["latency_p95_ms"] == 5.0 and bodies[4]["latency_p95_ms"] == 5.0
    assert last["n"] == 32 and last["version"] == "1.0.0" and sum(last["histogram"]) == 32


def test_replayed_runs_are_shared_through_the_cache_object(tmp_path: Path) -> None:
    w = task_weights()
    rec = Recording(w, size=1)
    cache = ModelCache()
    devices = []
    for i in range(3):
        Slots.factory(tmp_path / str(i), "1.0.0", classifier_model(w))
        devices.append(Telemetry(Slots(tmp_path / str(i)), SyntheticSensor(w, i, recording=rec), cache))
    first = [dict(d.measure())["telemetry"] for d in devices]
    assert len(cache._interpreters) == 1 and len(cache._runs) == 1
    assert len({f["latency_p95_ms"] for f in first}) == 1  # one measured run, three devices
    assert ModelCache()._runs == {}  # nothing is kept per process
