"""Data for applications: built-in generators (made on the machine, nothing downloads) and
folders of labelled files.

Every source returns a :class:`Dataset` of raw samples (audio clips, motion windows, images, or
plain vectors) split into train, validation and test; the front end turns them into features.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: generator name -> module under edgecraft.apps.data
GENERATORS = {
    "sine": "sine",
    "gesture": "gesture",
    "kws": "kws",
    "anomaly": "anomaly",
    "person": "person",
    "wakeword": "wakeword",
}


class DataError(ValueError):
    """Data that cannot be made or read; the message says what to change."""


@dataclass
class Split:
    """Raw samples ``x`` (N, ...) and their targets ``y`` (class index, value, or 0/1 anomaly)."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.x)


@dataclass
class Recording:
    """A long recording for the streaming loop: ``samples`` (int16 audio, or (n, axes) motion)
    at ``rate`` Hz, and the labelled events in it (start_s, end_s, label)."""

    samples: np.ndarray
    rate: float
    events: list[tuple[float, float, str]] = field(default_factory=list)


@dataclass
class Dataset:
    """Everything a generator or a folder gives: labels (class names; for regression the output
    names), the three splits, what was held out for the test, and a demo recording."""

    labels: list[str]
    train: Split
    val: Split
    test: Split
    held_out: str = ""
    recording: Recording | None = None
    info: dict[str, Any] = field(default_factory=dict)
    negatives: Recording | None = None  # no target events: false accepts per hour are measured on it
    #: training speakers only: labelled events and other speech, to tune the post-processing on
    tuning: Recording | None = None


def join(recordings: list[Recording]) -> Recording:
    """Recordings of one rate back to back, their events shifted to match."""
    events, offset = [], 0.0
    for r in recordings:
        events += [(a + offset, b + offset, lab) for a, b, lab in r.events]
        offset += len(r.samples) / r.rate
    return Recording(np.concatenate([r.samples for r in recordings]), recordings[0].rate, events)


def generate(name: str, params: dict[str, Any], seed: int) -> Dataset:
    """Run the built-in generator ``name`` with ``params``; unknown params are an error."""
    if name not in GENERATORS:
        raise DataError(f"no built-in generator {name!r}; known: {', '.join(GENERATORS)}")
    module = importlib.import_module(f"edgecraft.apps.data.{GENERATORS[name]}")
    known = module.PARAMS
    extra = sorted(set(params) - set(known))
    if extra:
        raise DataError(
            f"data.params.{extra[0]} is not a parameter of the {name} generator; known: {', '.join(known)}"
        )
    merged = {**known, **params}
    for k, v in merged.items():
        if type(v) is not type(known[k]) and not (isinstance(known[k], float) and isinstance(v, int)):
            raise DataError(f"data.params.{k} must be a {type(known[k]).__name__}, got {v!r}")
    data: Dataset = module.generate(seed=seed, **merged)
    return data


def generator_rate(name: str) -> int | None:
    """The sample rate (Hz) of the audio the built-in generator ``name`` makes; None when it
    makes no audio (or is unknown)."""
    if name not in GENERATORS:
        return None
    rate = getattr(importlib.import_module(f"edgecraft.apps.data.{GENERATORS[name]}"), "RATE", None)
    return int(rate) if rate is not None else None


def split_indices(n: int, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random ``(1 - fraction, fraction)`` split of ``range(n)``."""
    order = rng.permutation(n)
    k = max(1, round(n * fraction))
    return np.sort(order[k:]), np.sort(order[:k])


def load_folder(path: Path) -> tuple[list[str], list[tuple[Path, int]]]:
    """Labels (sub-folder names, sorted) and ``(file, label index)`` pairs of a folder laid out
    as ``path/<label>/<file>``."""
    labels = sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not labels:
        raise DataError(f"{path} has no label folders; lay it out as {path}/<label>/<files>")
    files = [(f, i) for i, lab in enumerate(labels) for f in sorted((path / lab).iterdir()) if f.is_file()]
    if not files:
        raise DataError(f"{path} has label folders but no files in them")
    return labels, files
