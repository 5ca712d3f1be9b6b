"""Log-mel filterbank energies as MLPerf Tiny's streaming wake word model (str_ww) was trained
with (mlcommons/tiny, ``benchmark/training/streaming_wakeword/get_dataset.py``,
``get_lfbe_func``; flags from ``str_ww_util.py``). TensorFlow's ``tf.signal`` pipeline::

    x = int16 / 32768 (the long-recording evaluation scales so; no normalization)
    pre-emphasis: y[n] = x[n] - (1 - 2^-5) x[n-1], x[-1] = 0
    frames: 1024 samples (64 ms), step 512 (32 ms), no end padding -> 30 frames per second
    power = |rfft(frame * hamming_symmetric(1024), 1024)|^2 / 1024     -> 30 x 513
    clipped below at 1e-30
    @ linear_to_mel_weight_matrix(40 bins, 0..8000 Hz, HTK mel)       -> 30 x 40
    10 log10(mel); (value + 52) / 64, clipped to [0, 1]

The model's input is 1 x 30 x 1 x 40 int8 (scale about 1/270, zero point -128); edgecraft
quantizes with round half to even (MLPerf's ``evaluate.py`` truncates instead, a difference of at
most one step). Training clips were peak-normalized and scaled by a random volume; at test time
the recording is used as it is, and so is it here. Arithmetic is float32 like TensorFlow's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from edgecraft.dsp.audio import AudioFeatures, mel_matrix, window


@dataclass(frozen=True)
class LfbeFeatures:
    """All parameters of the str_ww log-mel front end (defaults: MLPerf Tiny's str_ww)."""

    sample_rate: int = 16000
    clip_samples: int = 16000
    window_samples: int = 1024
    hop_samples: int = 512
    fft_size: int = 1024
    preemphasis: float = 1.0 - 2.0 ** -5
    mel_bins: int = 40
    mel_low_hz: float = 0.0
    mel_high_hz: float = 8000.0
    power_floor: float = 1e-30
    db_offset: float = 52.0
    db_range: float = 64.0
    input_scale: float = 1.0 / 32768.0

    def __post_init__(self) -> None:
        self._audio()  # validates the shared parameters
        if self.db_range <= 0:
            raise ValueError(f"db_range must be positive, got {self.db_range}")

    def _audio(self) -> AudioFeatures:
        return AudioFeatures(kind="log-mel", sample_rate=self.sample_rate, clip_samples=self.clip_samples,
                             window_samples=self.window_samples, window_type="hamming", window_periodic=False,
                             hop_samples=self.hop_samples, fft_size=self.fft_size, magnitude_power=2,
                             mel_bins=self.mel_bins, mel_low_hz=self.mel_low_hz, mel_high_hz=self.mel_high_hz,
                             normalize="none")

    @property
    def num_frames(self) -> int:
        """Frames in one clip."""
        return self._audio().num_frames

    @property
    def shape(self) -> tuple[int, int]:
        """Output shape of one clip, ``(frames, mel_bins)``."""
        return (self.num_frames, self.mel_bins)

    def window(self) -> np.ndarray:
        """The symmetric Hamming window (float32)."""
        return window(self.window_samples, "hamming", periodic=False)

    def mel_matrix(self) -> np.ndarray:
        """``(fft_size/2 + 1, mel_bins)`` float32 mel weights (TensorFlow's, HTK mel, no DC)."""
        return mel_matrix(self._audio())

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a plain dict."""
        return asdict(self)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        """Features of one clip: float32 ``(frames, mel_bins)`` in [0, 1]."""
        return lfbe(samples, self)


STR_WW_LFBE = LfbeFeatures()
"""MLPerf Tiny str_ww: 30 x 40 log-mel energies in [0, 1] from 1 s of 16 kHz audio."""


def lfbe(samples: np.ndarray, cfg: LfbeFeatures = STR_WW_LFBE) -> np.ndarray:
    """The str_ww features of one clip, float32 ``(frames, mel_bins)``."""
    x = np.asarray(samples)
    if x.ndim != 1:
        raise ValueError(f"audio must be one channel (1-D), got shape {list(x.shape)}")
    x = x.astype(np.float32) * np.float32(cfg.input_scale) if x.dtype.kind in "iu" else x.astype(np.float32)
    if cfg.clip_samples:
        x = np.pad(x[: cfg.clip_samples], (0, max(0, cfg.clip_samples - len(x))))
    y = x.copy()
    y[1:] = x[1:] - np.float32(cfg.preemphasis) * x[:-1]
    count = cfg.num_frames if cfg.clip_samples else (
        1 + (len(y) - cfg.window_samples) // cfg.hop_samples if len(y) >= cfg.window_samples else 0)
    idx = np.arange(cfg.window_samples)[None, :] + cfg.hop_samples * np.arange(count)[:, None]
    spec = np.fft.rfft(y[idx] * cfg.window(), n=cfg.fft_size, axis=-1)
    power = (np.abs(spec).astype(np.float32) ** 2 * np.float32(1.0 / cfg.window_samples)).astype(np.float32)
    power = np.maximum(power, np.float32(cfg.power_floor))
    mel = (power @ cfg.mel_matrix()).astype(np.float32)
    db = np.float32(10.0) * (np.log(mel) / np.log(np.float32(10.0)))
    out = (db + np.float32(cfg.db_offset)) / np.float32(cfg.db_range)
    return np.clip(out, 0.0, 1.0).astype(np.float32)
