"""Tuning the post-processing on a labelled long recording: false accepts per hour vs false
reject rate, and an operating point.

The model runs once per window over the recording (:func:`score_recording`); the sweep then
replays only the cheap post-processing for every combination of threshold, smoothing window,
suppression and minimum count. A detection at time ``t`` (end of its window) matches a labelled
event of the same label when the window ``[t - window_s, t]`` overlaps it; each event matches
once. Unmatched detections are false accepts, unmatched events false rejects.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgecraft.device.postprocess import DEFAULT_IGNORE, Detection, PostProcessing, detect
from edgecraft.device.ring import Windower


@dataclass(frozen=True)
class Event:
    """A labelled stretch of a recording."""

    start_s: float
    end_s: float
    label: str


def synth_recording(clips: Sequence[tuple[str, np.ndarray]], sample_rate: int,
                    gap_s: tuple[float, float] = (1.0, 2.5), noise_rms: float = 30.0, seed: int = 0
                    ) -> tuple[np.ndarray, list[Event]]:
    """Concatenate int16 ``(label, clip)`` pairs with random gaps over Gaussian noise of
    ``noise_rms`` (int16 units). Returns the int16 recording and the events."""
    rng = np.random.default_rng(seed)
    parts: list[np.ndarray] = []
    events = []
    pos = 0
    for label, clip in clips:
        gap = int(rng.uniform(*gap_s) * sample_rate)
        parts += [np.zeros(gap), np.asarray(clip, np.float64)]
        events.append(Event((pos + gap) / sample_rate, (pos + gap + len(clip)) / sample_rate, label))
        pos += gap + len(clip)
    tail = int(gap_s[1] * sample_rate)
    parts.append(np.zeros(tail))
    audio = np.concatenate(parts) + rng.normal(0.0, noise_rms, pos + tail)
    return np.clip(np.round(audio), -32768, 32767).astype(np.int16), events


def score_recording(samples: np.ndarray, model: Callable[[np.ndarray], np.ndarray],
                    featurize: Callable[[np.ndarray], np.ndarray], window: int, stride: int,
                    sample_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Model scores for every window: ``times`` (window ends, s) and ``scores`` (n, classes)."""
    w = Windower(window, stride, 0 if np.ndim(samples) == 1 else np.shape(samples)[1], "float32")
    times, scores = [], []
    for end, win in w.feed(samples):
        times.append(end / sample_rate)
        scores.append(model(featurize(win)))
    return np.array(times), np.array(scores)


def match(detections: Sequence[Detection], events: Sequence[Event], window_s: float) -> tuple[int, int]:
    """``(false_accepts, false_rejects)`` of detections against labelled events."""
    used = [False] * len(events)
    fa = 0
    for d in detections:
        hit = next((i for i, e in enumerate(events) if not used[i] and e.label == d.label
                    and d.time_s - window_s < e.end_s and d.time_s > e.start_s), None)
        if hit is None:
            fa += 1
        else:
            used[hit] = True
    return fa, used.count(False)


def sweep(times: np.ndarray, scores: np.ndarray, labels: list[str], events: Sequence[Event],
          duration_s: float, window_s: float,
          thresholds: Sequence[float] = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
          smoothing_s: Sequence[float] = (0.0, 0.25, 0.5, 0.75),
          suppression_s: Sequence[float] = (0.5, 1.0, 1.5), min_counts: Sequence[int] = (1, 2),
          ignore: tuple[str, ...] = DEFAULT_IGNORE) -> list[dict[str, Any]]:
    """False accepts per hour and false reject rate for every combination of the knobs."""
    rows = []
    for th, sm, su, mc in itertools.product(thresholds, smoothing_s, suppression_s, min_counts):
        params = PostProcessing(th, sm, su, mc, ignore)
        fa, fr = match(detect(times, scores, labels, params), events, window_s)
        rows.append({"threshold": th, "smoothing_s": sm, "suppression_s": su, "min_count": mc,
                     "false_accepts": fa, "false_rejects": fr,
                     "fa_per_hour": round(fa * 3600.0 / duration_s, 3),
                     "frr": round(fr / max(1, len(events)), 4)})
    return rows


def operating_point(rows: Sequence[dict[str, Any]], max_fa_per_hour: float = 1.0) -> dict[str, Any]:
    """The row with the lowest false reject rate among those within ``max_fa_per_hour``
    (ties: fewer false accepts, then the higher threshold); if none is, the fewest false accepts."""
    ok = [r for r in rows if r["fa_per_hour"] <= max_fa_per_hour]
    if not ok:
        return min(rows, key=lambda r: (r["fa_per_hour"], r["frr"]))
    return min(ok, key=lambda r: (r["frr"], r["fa_per_hour"], -r["threshold"]))


def pareto(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows no other row beats on both false accepts per hour and false reject rate,
    sorted by false accepts per hour (the curve a user reads)."""
    front: list[dict[str, Any]] = []
    for r in sorted(rows, key=lambda r: (r["fa_per_hour"], r["frr"])):
        if not front or r["frr"] < front[-1]["frr"]:
            front.append(r)
    return front
