"""Same model, same options: the same plan and byte-identical C, however busy the machine.

The placement search stops after a number of search steps, never after a time, so neither a
loaded CPU nor a slow clock can change the arena. The DS-CNN twin is a graph whose overlap
plan the search does not prove within its budget, so a time limit would show here.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time

import pytest

from edgecraft.codegen.emit import generate
from edgecraft.models.synthetic import ds_cnn
from edgecraft.plan import plan_memory
from edgecraft.plan.lifetimes import Item
from edgecraft.plan.placement import peak, search

BUSY_LOOP = "import time\nend = time.monotonic() + 60\nwhile time.monotonic() < end:\n    pass\n"


def _plan_and_build() -> tuple[object, dict[str, str]]:
    graph = ds_cnn()
    plan = plan_memory(graph)
    return plan, generate(graph, name="kws", dsp=True).files


def test_the_search_runs_out_of_steps_on_this_graph() -> None:
    plan = plan_memory(ds_cnn())
    assert not plan.optimal and plan.arena_bytes > plan.lower_bound_bytes


#: (size, first, last): eight buffers whose best placement (1408 bytes, the live bound) the
#: branch and bound reaches only after several hundred steps; the greedy orders give more.
SLOW_TO_PROVE = [(384, 1, 1), (272, 2, 4), (608, 3, 3), (416, 2, 5), (528, 5, 7), (32, 4, 4),
                 (336, 5, 7), (544, 6, 7)]


def _slow_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read of the clock jumps ten seconds: any wall-clock budget runs out at once."""
    ticks = itertools.count()
    for name in ("monotonic", "perf_counter", "time"):
        monkeypatch.setattr(time, name, lambda: 10.0 * next(ticks))


def test_the_search_counts_steps_not_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [Item((i,), size, first, last) for i, (size, first, last) in enumerate(SLOW_TO_PROVE)]
    offsets, proven = search(items)
    assert (peak(items, offsets), proven) == (1408, True)
    assert search(items, node_budget=200)[1] is False  # the steps are needed
    _slow_clock(monkeypatch)
    assert search(items) == (offsets, proven)


def test_a_slow_clock_changes_no_plan_and_no_c(monkeypatch: pytest.MonkeyPatch) -> None:
    before = _plan_and_build()
    _slow_clock(monkeypatch)
    assert _plan_and_build() == before


def test_plan_and_c_are_identical_under_cpu_load() -> None:
    quiet = _plan_and_build()
    hogs = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(2)]
    try:
        loaded = [_plan_and_build() for _ in range(2)]
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    for plan, files in loaded:
        assert plan == quiet[0]
        assert files.keys() == quiet[1].keys()
        for name, text in files.items():
            assert text.encode() == quiet[1][name].encode(), name
