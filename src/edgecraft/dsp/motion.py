"""Motion front end: accelerometer / gyroscope windows with overlap, per-axis statistics and
spectral features.

A recording is ``(samples, axes)`` float (e.g. ax, ay, az, gx, gy, gz). A window of
``window_samples`` rows, moved by ``hop_samples``, becomes one feature vector, axis after axis::

    per axis: mean, std, min, max, rms, then |rfft(x - mean)| summed into ``fft_bins`` equal
              bands (DC excluded), then the ``peaks`` strongest bin frequencies in Hz
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

STAT_NAMES = ("mean", "std", "min", "max", "rms")


@dataclass(frozen=True)
class MotionFeatures:
    """Parameters of the motion front end. ``fft_size`` must be a power of two >= the window;
    the window is zero-padded to it."""

    sample_rate: float = 100.0
    window_samples: int = 128
    hop_samples: int = 64
    axes: int = 3
    fft_size: int = 128
    fft_bins: int = 8
    peaks: int = 2

    def __post_init__(self) -> None:
        if self.fft_size < self.window_samples or self.fft_size & (self.fft_size - 1):
            raise ValueError(f"fft_size must be a power of two >= window_samples, got {self.fft_size}")
        if not 0 < self.fft_bins <= self.fft_size // 2:
            raise ValueError(f"fft_bins must be in 1..{self.fft_size // 2}")
        if self.hop_samples <= 0 or self.window_samples <= 0 or self.axes <= 0:
            raise ValueError("window_samples, hop_samples and axes must be positive")

    @property
    def per_axis(self) -> int:
        """Features per axis."""
        return len(STAT_NAMES) + self.fft_bins + self.peaks

    @property
    def num_features(self) -> int:
        """Length of one window's feature vector."""
        return self.axes * self.per_axis

    def names(self) -> list[str]:
        """Feature names in output order, e.g. ``a0_mean``, ``a0_band3``, ``a0_peak1_hz``."""
        out = []
        for a in range(self.axes):
            out += [f"a{a}_{s}" for s in STAT_NAMES]
            out += [f"a{a}_band{b}" for b in range(self.fft_bins)]
            out += [f"a{a}_peak{p}_hz" for p in range(self.peaks)]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a plain dict."""
        return asdict(self)


IMU_DEFAULT = MotionFeatures()
"""3-axis accelerometer at 100 Hz, 1.28 s windows with 50 % overlap."""


def windows(data: np.ndarray, cfg: MotionFeatures) -> np.ndarray:
    """``(n, window_samples, axes)`` windows of a ``(samples, axes)`` recording; a tail shorter
    than one window is dropped."""
    x = np.asarray(data, np.float32)
    if x.ndim != 2 or x.shape[1] != cfg.axes:
        raise ValueError(f"motion data must be (samples, {cfg.axes}), got shape {list(x.shape)}")
    if len(x) < cfg.window_samples:
        return np.zeros((0, cfg.window_samples, cfg.axes), np.float32)
    count = 1 + (len(x) - cfg.window_samples) // cfg.hop_samples
    idx = np.arange(cfg.window_samples)[None, :] + cfg.hop_samples * np.arange(count)[:, None]
    return x[idx]


def window_features(w: np.ndarray, cfg: MotionFeatures) -> np.ndarray:
    """Features of one ``(window_samples, axes)`` window, float32 ``(num_features,)``."""
    w = np.asarray(w, np.float32)
    mean = w.mean(0)
    stats = np.stack([mean, w.std(0), w.min(0), w.max(0), np.sqrt((w * w).mean(0))], 1)
    mag = np.abs(np.fft.rfft(w - mean, n=cfg.fft_size, axis=0))[1:].astype(np.float32)
    width = (cfg.fft_size // 2) // cfg.fft_bins
    bands = mag[: width * cfg.fft_bins].reshape(cfg.fft_bins, width, cfg.axes).sum(1).T
    # strongest bins first; a stable sort so ties take the lower frequency, like the C twin
    order = np.argsort(-mag, axis=0, kind="stable")[: cfg.peaks].T
    peaks = (order + 1) * np.float32(cfg.sample_rate / cfg.fft_size)
    return np.concatenate([stats, bands, peaks.astype(np.float32)], 1).reshape(-1).astype(np.float32)


def motion_features(data: np.ndarray, cfg: MotionFeatures = IMU_DEFAULT) -> np.ndarray:
    """Features of every window of a recording: ``(n, num_features)`` float32."""
    ws = windows(data, cfg)
    return np.stack([window_features(w, cfg) for w in ws]) if len(ws) else \
        np.zeros((0, cfg.num_features), np.float32)


def magnitude(data: np.ndarray) -> np.ndarray:
    """Per-sample vector magnitude ``sqrt(sum(axis^2))`` (the cheap motion gate's signal)."""
    x = np.asarray(data, np.float32)
    return np.sqrt((x * x).sum(-1))
