"""What a search shows while it runs, and when it stops.

Both are Tune callbacks, pickled with the experiment so that a restored run has them: the
budget's deadline is therefore read from ``budget.json`` beside the experiment, which each run,
first or resumed, writes anew, and the live display is kept out of the pickle.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from ray.tune import Callback

BUDGET = "budget.json"


class Budget(Callback):
    """Interrupts the experiment at the deadline in ``DIR/budget.json`` (no file or a null
    deadline: no budget) the way Ctrl-C does: Tune saves its state with the running and pending
    trials unfinished, so ``--resume`` (Tune's restore) trains them. (A Tune stopper would mark
    them terminated, and a restore would never train them.)"""

    def __init__(self, out: str) -> None:
        self.path = str(Path(out) / BUDGET)
        self._sent = False

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path, self._sent = state["path"], False

    @staticmethod
    def set(out: Path, minutes: float | None) -> None:
        """Start this run's budget of ``minutes`` (None: unlimited)."""
        deadline = None if minutes is None else time.time() + 60.0 * minutes
        out.mkdir(parents=True, exist_ok=True)
        (out / BUDGET).write_text(json.dumps({"deadline": deadline, "minutes": minutes, "expired": False}))

    @staticmethod
    def expired(out: Path) -> bool:
        """Whether the last run ended because its budget ran out."""
        try:
            return bool(json.loads((out / BUDGET).read_text()).get("expired"))
        except (OSError, ValueError):
            return False

    def on_step_begin(self, iteration: int, trials: list[Any], **info: Any) -> None:
        if self._sent:
            return
        try:
            state = json.loads(Path(self.path).read_text())
        except (OSError, ValueError):
            return
        if state.get("deadline") is not None and time.time() >= float(state["deadline"]):
            self._sent = True
            Path(self.path).write_text(json.dumps({**state, "expired": True}))
            os.kill(os.getpid(), signal.SIGINT)  # Tune's own handler: save, stop, resumable


class LiveProgress(Callback):
    """A rich progress bar: trials finished of all, the epoch each running trial is at, and
    the best int8 score so far."""

    #: set by the driver before a run (a restored experiment keeps its pickled callback)
    display = True

    def __init__(self, total: int) -> None:
        self.total = total
        self._bar: Any = None
        self._task: Any = None
        self._epochs: dict[str, int] = {}
        self._done = 0
        self._best: float | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"total": self.total}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["total"])  # type: ignore[misc]

    def _ensure(self) -> None:
        if self._bar is None and LiveProgress.display:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("search"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} trials"),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
            )
            self._bar.start()
            self._task = self._bar.add_task("search", total=self.total, info="")

    def _show(self) -> None:
        if self._bar is None:
            return
        running = ", ".join(f"{k} epoch {e}" for k, e in sorted(self._epochs.items()))
        best = f"best {self._best:.4f}; " if self._best is not None else ""
        self._bar.update(self._task, completed=self._done, info=best + running)

    def on_trial_result(
        self, iteration: int, trials: list[Any], trial: Any, result: dict[str, Any], **info: Any
    ) -> None:
        self._ensure()
        self._epochs[str(trial)] = int(result.get("epoch", 0))
        if result.get("final"):
            acc = float(result["accuracy"])
            self._best = acc if self._best is None else max(self._best, acc)
        self._show()

    def _finish(self, trial: Any) -> None:
        self._ensure()
        self._epochs.pop(str(trial), None)
        self._done += 1
        self._show()

    def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self._finish(trial)

    def on_trial_error(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self._finish(trial)

    def on_experiment_end(self, trials: list[Any], **info: Any) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
