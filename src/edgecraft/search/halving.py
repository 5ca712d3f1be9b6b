"""Early stopping that does not depend on timing: asynchronous successive halving (ASHA's
rule) decided in the candidates' draw order instead of the order their results arrive.

ASHA stops a trial at a milestone (an epoch count) when its score there is below the
``1 - 1/reduction_factor`` quantile of the scores recorded there before it. Which scores were
"before" is wall-clock order in Ray's ASHA, so two runs of the same seed can stop different
trials. Here "before" means "earlier in the grid" (the default first, then the draw): trial
``i`` at milestone ``m`` is compared with the trials ``j < i`` that reached ``m`` and were not
stopped before it. When an earlier trial has not yet reached ``m`` (and may still), the
decision waits: trial ``i`` keeps training and is stopped at a later result if the rule says so.
A trial that finishes while its decision waits is judged when the search ends
(:func:`decide` on every trial's recorded scores): the same scores give the same stops, so a
seed gives one set of finished trials and one front. Protected trials (the default, the
reference models, and candidates that train exactly as the default and differ only after
training) are never stopped; all but the default are not compared with.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ray.tune.schedulers import FIFOScheduler, TrialScheduler

GO, STOP, WAIT = "go", "stop", "wait"


def milestones(grace: int, reduction_factor: int, max_t: int) -> list[int]:
    """ASHA's milestones: ``grace * rf**k`` below ``max_t``, ascending."""
    out, m = [], grace
    while m < max_t:
        out.append(m)
        m *= reduction_factor
    return out


def decide(
    order: list[str],
    marks: list[int],
    reduction_factor: int,
    scores: dict[str, dict[int, float]],
    done: set[str],
    protected: set[str],
) -> dict[str, tuple[str, int | None]]:
    """Each trial's fate ``(GO, None)``, ``(STOP, m)`` or ``(WAIT, m)`` from the ``scores``
    recorded at each milestone (``done``: trials that will report no more; ``protected``:
    never stopped and not compared with, except the first of ``order``, the default, which is
    compared with)."""
    fate: dict[str, tuple[str, int | None]] = {}
    q = (1 - 1 / reduction_factor) * 100
    for i, cid in enumerate(order):
        fate[cid] = (GO, None)
        own = scores.get(cid, {})
        if i > 0 and cid in protected:
            continue
        for m in marks:
            if m not in own:
                break
            if i == 0:
                continue
            recorded, wait = [], False
            for j in order[:i]:
                if j in protected and j != order[0]:
                    continue
                state, at = fate[j]
                if at is not None and at < m:
                    if state == STOP:
                        continue  # stopped before m: not there
                    wait = True  # WAIT below m: whether it is there is not known yet
                    break
                if m in scores.get(j, {}):
                    recorded.append(scores[j][m])
                elif j not in done:
                    wait = True  # may still reach m
                    break
            if wait:
                fate[cid] = (WAIT, m)
                break
            if recorded and own[m] < float(np.nanpercentile(recorded, q)):
                fate[cid] = (STOP, m)
                break
    return fate


class OrderedHalving(FIFOScheduler):  # type: ignore[misc]
    """The Tune scheduler of :func:`decide`: records each trial's score at each milestone and
    stops a trial as soon as its fate is known to be STOP."""

    def __init__(
        self, order: list[str], protected: set[str], marks: list[int], reduction_factor: int
    ) -> None:
        super().__init__()
        self.order, self.protected, self.marks, self.rf = order, protected, marks, reduction_factor
        self.scores: dict[str, dict[int, float]] = {}
        self.done: set[str] = set()

    @staticmethod
    def _id(trial: Any) -> str:
        return str(trial.config["candidate"]["id"])

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> str:
        cid, it = self._id(trial), int(result.get("training_iteration", 0))
        if result.get("final"):
            return str(TrialScheduler.CONTINUE)
        if it in self.marks and "score" in result:
            self.scores.setdefault(cid, {})[it] = float(result["score"])
        state, _ = decide(self.order, self.marks, self.rf, self.scores, self.done, self.protected)[cid]
        return str(TrialScheduler.STOP if state == STOP else TrialScheduler.CONTINUE)

    def on_trial_complete(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> None:
        self.done.add(self._id(trial))

    def on_trial_error(self, tune_controller: Any, trial: Any) -> None:
        self.done.add(self._id(trial))

    def on_trial_remove(self, tune_controller: Any, trial: Any) -> None:
        self.done.add(self._id(trial))


def recorded_scores(rows: list[dict[str, Any]], marks: list[int]) -> dict[int, float]:
    """A trial's scores at the milestones from its reported results (non-final ones)."""
    return {
        int(r["training_iteration"]): float(r["score"])
        for r in rows
        if not r.get("final") and int(r.get("training_iteration", 0)) in marks and r.get("score") is not None
    }
