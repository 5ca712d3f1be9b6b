"""Recordings the streaming loop runs on: audio from WAV files, motion from CSV files, and
labelled events (for tuning) from CSV files. Bad files raise :class:`StreamError`."""

from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np

from edgecraft.device.tuning import Event


class StreamError(ValueError):
    """A recording, an events file or a streaming option that cannot be used; the message says
    what to change."""


def read_wav(path: Path, channel: int, rate: int) -> np.ndarray:
    """One channel of a WAV file as int16 at ``rate`` Hz (resampled if the file differs)."""
    from scipy.io import wavfile
    from scipy.signal import resample_poly

    if not path.is_file():
        raise StreamError(f"WAV file {path} does not exist")
    try:
        sr, data = wavfile.read(path)
    except ValueError as e:
        raise StreamError(f"cannot read {path} as WAV: {e}") from None
    if data.ndim == 2:
        if not 0 <= channel < data.shape[1]:
            raise StreamError(f"{path} has {data.shape[1]} channels; the channel must be "
                              f"0..{data.shape[1] - 1}")
        data = data[:, channel]
    if data.dtype.kind == "f":
        x = data.astype(np.float64) * 32768.0
    else:
        bits = data.dtype.itemsize * 8
        x = data.astype(np.float64) * (2.0 ** (16 - bits)) if data.dtype.kind == "i" else \
            (data.astype(np.float64) - 128.0) * 256.0
    if sr != rate:
        g = gcd(sr, rate)
        x = resample_poly(x, rate // g, sr // g)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def read_csv(path: Path, axes: int, rate: float | None, default_rate: float) -> tuple[np.ndarray, float]:
    """``(samples, axes)`` floats and the sample rate from a CSV (header optional; a first
    column named t, time or timestamp in seconds gives the rate)."""
    if not path.is_file():
        raise StreamError(f"CSV file {path} does not exist")
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    header = lines[0].split(",") if lines and any(c.isalpha() for c in lines[0]) else None
    try:
        data = np.loadtxt(lines[1:] if header else lines, delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError as e:
        raise StreamError(f"cannot read {path} as numeric CSV: {e}") from None
    if header and header[0].strip().lower() in ("t", "time", "timestamp", "time_s"):
        if rate is None and len(data) > 1:
            rate = 1.0 / float(np.median(np.diff(data[:, 0])))
        data = data[:, 1:]
    if data.shape[1] != axes:
        raise StreamError(f"{path} has {data.shape[1]} data columns but the motion preset expects {axes}")
    return data.astype(np.float32), float(rate or default_rate)


def read_events(path: Path) -> list[Event]:
    """Labelled events from a CSV: ``start_s,end_s,label`` a line (a header line is skipped)."""
    if not path.is_file():
        raise StreamError(f"events file {path} does not exist")
    events = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        parts = [p.strip() for p in line.split(",")]
        if not line.strip() or (n == 1 and parts[0].lower() in ("start", "start_s")):
            continue
        try:
            events.append(Event(float(parts[0]), float(parts[1]), parts[2]))
        except (ValueError, IndexError):
            raise StreamError(f"{path}:{n}: expected start_s,end_s,label, got {line!r}") from None
    if not events:
        raise StreamError(f"{path} holds no events; write one start_s,end_s,label a line")
    return events
