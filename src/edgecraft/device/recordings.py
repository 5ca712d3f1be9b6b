"""Recordings the streaming loop runs on: audio from WAV files, motion from CSV files, and
labelled events (for tuning) from CSV files. Bad files raise :class:`StreamError`.

The files are untrusted: a WAV with zero channels, a zero or absurd sample rate, a truncated
header or non-finite samples, and a CSV that is binary, holds NaN, or whose timestamps do not
strictly increase are refused with one message, never a parser's traceback.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np

from edgecraft.device.tuning import Event

#: Sample rates a recording may declare (Hz): 1 Hz motion logs to 384 kHz studio audio.
MAX_RATE_HZ = 384_000.0


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
    except Exception as e:  # scipy's parser fails in many ways on a hostile header
        reason = " ".join(str(e).split()) or type(e).__name__
        raise StreamError(f"cannot read {path} as WAV ({type(e).__name__}: {reason})") from None
    if not 1 <= sr <= MAX_RATE_HZ:
        raise StreamError(f"{path} declares a sample rate of {sr} Hz (expected 1 to {MAX_RATE_HZ:g})")
    if data.ndim == 2:
        if data.shape[1] == 0:
            raise StreamError(f"{path} has no channels")
        if not 0 <= channel < data.shape[1]:
            raise StreamError(f"{path} has {data.shape[1]} channels; the channel must be "
                              f"0..{data.shape[1] - 1}")
        data = data[:, channel]
    elif channel != 0:
        raise StreamError(f"{path} has 1 channel; the channel must be 0")
    if data.size == 0:
        raise StreamError(f"{path} holds no samples")
    if data.dtype.kind == "f":
        if not np.all(np.isfinite(data)):
            raise StreamError(f"{path} holds NaN or infinite samples")
        x = data.astype(np.float64) * 32768.0
    else:
        bits = data.dtype.itemsize * 8
        x = data.astype(np.float64) * (2.0 ** (16 - bits)) if data.dtype.kind == "i" else \
            (data.astype(np.float64) - 128.0) * 256.0
    if sr != rate:
        # exact for the usual rates (44100 -> 16000 is 160/441); an odd rate such as 44101 Hz
        # gets the nearest ratio with a denominator up to 1000 instead of a filter with millions of taps
        ratio = Fraction(rate, int(sr)).limit_denominator(1000)
        x = resample_poly(x, ratio.numerator, ratio.denominator)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def read_csv(path: Path, axes: int, rate: float | None, default_rate: float) -> tuple[np.ndarray, float]:
    """``(samples, axes)`` floats and the sample rate from a CSV (header optional; a first
    column named t, time or timestamp in seconds gives the rate, and its values must strictly
    increase)."""
    if not path.is_file():
        raise StreamError(f"CSV file {path} does not exist")
    if rate is not None and not (math.isfinite(rate) and 0 < rate <= MAX_RATE_HZ):
        raise StreamError(f"the CSV sample rate must be > 0 and at most {MAX_RATE_HZ:g} Hz, got {rate}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise StreamError(f"{path} is not a text CSV file (it holds binary data)") from None
    if "\0" in text:
        raise StreamError(f"{path} is not a text CSV file (it holds binary data)")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    header = lines[0].split(",") if lines and any(c.isalpha() for c in lines[0]) else None
    rows = lines[1:] if header else lines
    if not rows:
        raise StreamError(f"{path} holds no samples")
    try:
        data = np.loadtxt(rows, delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError as e:
        raise StreamError(f"cannot read {path} as numeric CSV: {' '.join(str(e).split())}") from None
    if not np.all(np.isfinite(data)):
        raise StreamError(f"{path} holds NaN or infinite values")
    if header and header[0].strip().lower() in ("t", "time", "timestamp", "time_s"):
        steps = np.diff(data[:, 0])
        if len(steps) and not np.all(steps > 0):
            k = int(np.argmax(steps <= 0))
            raise StreamError(f"{path}: timestamps must strictly increase, but row {k + 2} "
                              f"({data[k + 1, 0]:g} s) does not come after {data[k, 0]:g} s")
        if rate is None and len(steps):
            rate = 1.0 / float(np.median(steps))
            if not rate <= MAX_RATE_HZ:
                raise StreamError(f"{path}: timestamps {float(np.median(steps)):g} s apart give a "
                                  f"rate over {MAX_RATE_HZ:g} Hz; are they in seconds?")
        data = data[:, 1:]
    if data.shape[1] != axes:
        raise StreamError(f"{path} has {data.shape[1]} data columns but the motion preset expects {axes}")
    return data.astype(np.float32), float(rate or default_rate)


def read_events(path: Path) -> list[Event]:
    """Labelled events from a CSV: ``start_s,end_s,label`` a line (a header line is skipped)."""
    if not path.is_file():
        raise StreamError(f"events file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise StreamError(f"{path} is not a text CSV file (it holds binary data)") from None
    events = []
    for n, line in enumerate(text.splitlines(), 1):
        parts = [p.strip() for p in line.split(",")]
        if not line.strip() or (n == 1 and parts[0].lower() in ("start", "start_s")):
            continue
        try:
            start, end, label = float(parts[0]), float(parts[1]), parts[2]
        except (ValueError, IndexError):
            raise StreamError(f"{path}:{n}: expected start_s,end_s,label, got {line!r}") from None
        if not (math.isfinite(start) and math.isfinite(end) and 0 <= start <= end):
            raise StreamError(f"{path}:{n}: an event needs 0 <= start_s <= end_s (finite), got {line!r}")
        events.append(Event(start, end, label))
    if not events:
        raise StreamError(f"{path} holds no events; write one start_s,end_s,label a line")
    return events
