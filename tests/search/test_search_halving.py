"""Successive halving decided in draw order (no Ray cluster: the scheduler is fed results by
hand): ASHA's rule, decisions that wait for earlier trials, and the same stops whatever order
the results arrive in."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("ray")

from ray.tune.schedulers import TrialScheduler

from edgecraft.search.halving import GO, STOP, WAIT, OrderedHalving, decide, milestones

ORDER = ["default", "c000", "c001", "c002", "mlperf"]
MARKS = [2, 4]
#: per-epoch scores (epoch 1..5) of each trial if nobody stopped it
CURVES = {
    "default": [0.5, 0.9, 0.9, 0.9, 0.9],
    "c000": [0.4, 0.5, 0.5, 0.5, 0.5],  # below the default at epoch 2: stopped there
    "c001": [0.6, 0.95, 0.96, 0.97, 0.97],  # above the median of (0.9, 0.5) at 2, of (0.9,) at 4
    "c002": [0.5, 0.6, 0.9, 0.95, 0.95],  # below the median of (0.9, 0.5, 0.95) at 2
    "mlperf": [0.1, 0.1, 0.1, 0.1, 0.1],  # a reference: never stopped, never compared with
}


def test_asha_rule_in_draw_order() -> None:
    assert milestones(2, 2, 6) == [2, 4] and milestones(13, 2, 41) == [13, 26]
    scores = {k: {m: v[m - 1] for m in MARKS} for k, v in CURVES.items()}
    fate = decide(ORDER, MARKS, 2, scores, set(ORDER), {"default", "mlperf"})
    assert fate == {
        "default": (GO, None),
        "c000": (STOP, 2),
        "c001": (GO, None),
        "c002": (STOP, 2),
        "mlperf": (GO, None),
    }
    # c001 at 2 waits while the default (earlier) may still reach 2
    early = {"c001": {2: 0.1}}
    assert decide(ORDER, MARKS, 2, early, set(), {"default", "mlperf"})["c001"] == (WAIT, 2)
    # ... and is compared with nothing once the default ended without reaching 2
    assert decide(ORDER, MARKS, 2, early, {"default", "c000"}, {"default", "mlperf"})["c001"] == (GO, None)


def _trial(cid: str) -> Any:
    return SimpleNamespace(config={"candidate": {"id": cid}})


def _replay(arrival: list[str]) -> tuple[dict[str, int], dict[str, tuple[str, Any]]]:
    """Feed the scheduler each trial's next epoch in ``arrival`` order (a trial stopped by the
    scheduler reports no more): the epoch each was stopped at, and the fates at the end."""
    s = OrderedHalving(ORDER, {"default", "mlperf"}, MARKS, 2)
    epoch = dict.fromkeys(ORDER, 0)
    stopped: dict[str, int] = {}
    for cid in arrival:
        if cid in stopped or epoch[cid] == len(CURVES[cid]):
            continue
        epoch[cid] += 1
        e = epoch[cid]
        t = _trial(cid)
        result = {"training_iteration": e, "score": CURVES[cid][e - 1]}
        if s.on_trial_result(None, t, result) == TrialScheduler.STOP:
            stopped[cid] = e
            s.on_trial_complete(None, t, result)
        elif e == len(CURVES[cid]):
            s.on_trial_result(None, t, {"training_iteration": e + 1, "final": True})
            s.on_trial_complete(None, t, result)
    return stopped, decide(ORDER, MARKS, 2, s.scores, set(ORDER), s.protected)


def test_the_same_stops_whatever_order_results_arrive_in() -> None:
    ends = set()
    orders = [
        [c for c in ORDER for _ in range(5)],  # one trial after the other
        [c for c in reversed(ORDER) for _ in range(5)],  # the last drawn first
        [c for _ in range(5) for c in ORDER],  # epoch by epoch
        [c for _ in range(5) for c in reversed(ORDER)],
        *[list(p) * 5 for p in itertools.islice(itertools.permutations(ORDER), 0, 120, 17)],
    ]
    for arrival in orders:
        stopped, fate = _replay(arrival)
        final = {k for k, (state, _) in fate.items() if state == STOP}
        assert set(stopped) <= final  # stopped online only when the rule is settled
        assert all(stopped[k] >= fate[k][1] for k in stopped)
        ends.add(frozenset(final))
    assert ends == {frozenset({"c000", "c002"})}


def test_rays_asha_stops_by_arrival_order() -> None:
    """Why the search does not use Ray's ASHA as is: the same curves, other stops."""
    from ray.tune.schedulers import ASHAScheduler

    outcomes = set()
    for arrival in ([c for c in ORDER for _ in range(5)], [c for c in reversed(ORDER) for _ in range(5)]):
        asha = ASHAScheduler(
            time_attr="training_iteration", metric="score", mode="max", max_t=6, grace_period=2
        )
        trials = {c: SimpleNamespace(trial_id=c, config={"candidate": {"id": c}}) for c in ORDER}
        for t in trials.values():
            asha.on_trial_add(None, t)
        epoch, stopped = dict.fromkeys(ORDER, 0), set()
        for cid in arrival:
            if cid in stopped or epoch[cid] == 5:
                continue
            epoch[cid] += 1
            r = {"training_iteration": epoch[cid], "score": CURVES[cid][epoch[cid] - 1]}
            if asha.on_trial_result(None, trials[cid], r) == TrialScheduler.STOP:
                stopped.add(cid)
        outcomes.add(frozenset(stopped - {"default", "mlperf"}))
    assert len(outcomes) == 2
