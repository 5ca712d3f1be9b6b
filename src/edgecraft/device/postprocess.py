"""Keyword-spotting style post-processing of a stream of class scores.

Per inference: average the scores over the last ``smoothing_s`` seconds, take the best label
that is not ignored (silence, unknown); it counts as a hit when its averaged score reaches
``threshold``. A detection fires after ``min_count`` consecutive hits of the same label, unless
the previous detection (of any label) is less than ``suppression_s`` ago.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

DEFAULT_IGNORE = ("silence", "unknown", "_silence_", "_unknown_", "background", "noise")


@dataclass(frozen=True)
class Detection:
    """One detection: when (end of the window, seconds from the start), what, how sure."""

    time_s: float
    label: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        """``{time_s, label, score}`` rounded for printing."""
        d = asdict(self)
        d["time_s"] = round(self.time_s, 4)
        d["score"] = round(self.score, 4)
        return d


class PosteriorSmoother:
    """Mean of the score vectors of the last ``length`` inferences (fewer at the start)."""

    def __init__(self, length: int) -> None:
        self.length = max(1, int(length))
        self.history: deque[np.ndarray] = deque(maxlen=self.length)

    def update(self, scores: np.ndarray) -> np.ndarray:
        """Add one score vector; returns the current average: the float64 sum, oldest first, over
        the count (an order the C twin, ``device/c/ec_stream.c``, repeats exactly)."""
        self.history.append(np.asarray(scores, np.float64))
        total = np.zeros_like(self.history[0])
        for h in self.history:
            total = total + h
        return total / len(self.history)

    def reset(self) -> None:
        """Forget the history (after a gap in the stream)."""
        self.history.clear()


@dataclass(frozen=True)
class PostProcessing:
    """The knobs a user tunes: threshold, smoothing window, suppression, minimum count."""

    threshold: float = 0.6
    smoothing_s: float = 0.5
    suppression_s: float = 1.0
    min_count: int = 1
    ignore: tuple[str, ...] = DEFAULT_IGNORE

    def to_dict(self) -> dict[str, Any]:
        """The knobs as a plain dict."""
        return asdict(self)


class Detector:
    """Turns per-inference scores into :class:`Detection` events (see the module docstring).

    ``stride_s`` is the time between inferences; the smoothing window holds
    ``round(smoothing_s / stride_s)`` of them (at least one).
    """

    def __init__(self, labels: list[str], stride_s: float, params: PostProcessing | None = None) -> None:
        self.labels = list(labels)
        self.params = params or PostProcessing()
        self.smoother = PosteriorSmoother(round(self.params.smoothing_s / stride_s))
        ignored = {s.lower() for s in self.params.ignore}
        self.candidates = np.array([lbl.lower() not in ignored for lbl in self.labels])
        if not self.candidates.any():
            raise ValueError("every label is ignored; nothing could be detected")
        self.last_time = -np.inf
        self.run_label = -1
        self.run_count = 0

    def update(self, time_s: float, scores: np.ndarray) -> Detection | None:
        """Feed one inference's scores (one per label); returns a detection or None."""
        scores = np.asarray(scores, np.float64).reshape(-1)
        if len(scores) != len(self.labels):
            raise ValueError(f"the model gives {len(scores)} scores but {len(self.labels)} labels "
                             "were given")
        avg = self.smoother.update(scores)
        masked = np.where(self.candidates, avg, -np.inf)
        best = int(np.argmax(masked))
        if avg[best] < self.params.threshold:
            self.run_label, self.run_count = -1, 0
            return None
        self.run_count = self.run_count + 1 if best == self.run_label else 1
        self.run_label = best
        if self.run_count < self.params.min_count:
            return None
        if time_s - self.last_time < self.params.suppression_s:
            return None
        self.last_time = time_s
        return Detection(float(time_s), self.labels[best], float(avg[best]))


def detect(times: np.ndarray, scores: np.ndarray, labels: list[str], params: PostProcessing
           ) -> list[Detection]:
    """Run the post-processing over a whole score sequence ``(n, labels)`` at ``times``."""
    stride = float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    det = Detector(labels, stride, params)
    out = [det.update(t, s) for t, s in zip(times, scores, strict=True)]
    return [d for d in out if d is not None]
