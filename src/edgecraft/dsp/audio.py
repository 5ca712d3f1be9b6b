"""Audio front ends: framing, STFT magnitude, mel filterbank, log, DCT (MFCC), int8 quantization.

Every parameter is explicit in :class:`AudioFeatures`; nothing is implied by a library default.
The ``kws-mfcc`` preset reproduces the front end the MLPerf Tiny keyword-spotting model was
trained with (TensorFlow's ``tf.signal`` pipeline)::

    x = int16 / 32768, divided by its maximum (signed max, as the training code's
        ``x / tf.reduce_max(x)``), zero-padded to 16000 samples
    frames: 480 samples (30 ms), hop 320 (20 ms), no padding at the end -> 49 frames
    |rfft(frame * periodic_hann(480), 512)|                    -> 49 x 257
    @ linear_to_mel_weight_matrix(40 bins, 20..4000 Hz, HTK mel) -> 49 x 40
    log(mel + 1e-6)
    DCT-II scaled by 1/sqrt(2 * 40) (TensorFlow's "HTK" scaling), first 10 -> 49 x 10

The peak normalization is in the training code (``get_dataset.py``) but not in the short
description of the corpus README. It makes the features independent of the recording level; on
loud clips (espeak-ng peaks near full scale) leaving it out changes little.

Shapes are given as ``(frames, bins)``. All arithmetic is float32 like TensorFlow's, except the
filterbank and DCT matrices, which are built in float64 and rounded once to float32.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np

WindowType = Literal["hann", "hamming", "rect"]
DctNorm = Literal["htk", "ortho", "none"]
Normalize = Literal["none", "peak"]


@dataclass(frozen=True)
class AudioFeatures:
    """All parameters of an audio front end.

    ``kind`` is ``"mfcc"`` or ``"log-mel"``. ``clip_samples`` > 0 pads (or trims) the input to that
    many samples before framing; ``0`` frames whatever arrives. ``dct_norm``: ``"htk"`` is
    TensorFlow's ``mfccs_from_log_mel_spectrograms`` (every coefficient times ``sqrt(2/N)``),
    ``"ortho"`` the orthonormal DCT-II (coefficient 0 times ``sqrt(1/N)``), ``"none"`` the bare sum
    ``2 * sum(x[n] cos(...))``. ``magnitude_power`` 1 is |X|, 2 is |X|^2. ``normalize="peak"``
    divides each clip by its largest sample value (after ``input_scale``; a clip whose maximum is
    not positive is left as it is).
    """

    kind: Literal["mfcc", "log-mel"] = "mfcc"
    sample_rate: int = 16000
    clip_samples: int = 16000
    window_samples: int = 480
    window_type: WindowType = "hann"
    window_periodic: bool = True
    hop_samples: int = 320
    fft_size: int = 512
    magnitude_power: int = 1
    mel_bins: int = 40
    mel_low_hz: float = 20.0
    mel_high_hz: float = 4000.0
    log_offset: float = 1e-6
    dct_type: int = 2
    dct_norm: DctNorm = "htk"
    num_coefficients: int = 10
    input_scale: float = 1.0 / 32768.0
    normalize: Normalize = "peak"

    def __post_init__(self) -> None:
        if self.fft_size < self.window_samples or self.fft_size & (self.fft_size - 1):
            raise ValueError(f"fft_size must be a power of two >= window_samples, got {self.fft_size}")
        if not 0 <= self.mel_low_hz < self.mel_high_hz <= self.sample_rate / 2:
            raise ValueError(f"need 0 <= mel_low_hz < mel_high_hz <= sample_rate/2, got "
                             f"{self.mel_low_hz}..{self.mel_high_hz} Hz at {self.sample_rate} Hz")
        if self.dct_type != 2:
            raise ValueError(f"only DCT type 2 is implemented, got {self.dct_type}")
        if self.kind == "mfcc" and not 0 < self.num_coefficients <= self.mel_bins:
            raise ValueError(f"num_coefficients must be in 1..{self.mel_bins}")
        if self.hop_samples <= 0 or self.window_samples <= 0:
            raise ValueError("window_samples and hop_samples must be positive")

    @property
    def num_frames(self) -> int:
        """Frames in one clip of ``clip_samples`` (TensorFlow's stft without end padding)."""
        return 1 + max(0, self.clip_samples - self.window_samples) // self.hop_samples

    @property
    def num_features(self) -> int:
        """Values per frame: coefficients for MFCC, mel bins for log-mel."""
        return self.num_coefficients if self.kind == "mfcc" else self.mel_bins

    @property
    def shape(self) -> tuple[int, int]:
        """Output shape of one clip, ``(frames, features)``."""
        return (self.num_frames, self.num_features)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a plain dict (for JSON and reports)."""
        return asdict(self)

    def with_(self, **changes: Any) -> AudioFeatures:
        """A copy with some parameters changed."""
        return replace(self, **changes)


KWS_MFCC = AudioFeatures()
"""The MLPerf Tiny KWS front end: 49 x 10 MFCC from 1 s of 16 kHz audio."""

KWS_LOG_MEL = AudioFeatures(kind="log-mel")
"""The same pipeline stopped before the DCT: 49 x 40 log-mel."""


def window(n: int, kind: WindowType = "hann", periodic: bool = True) -> np.ndarray:
    """A length-``n`` analysis window (float32). Periodic divides by ``n``, symmetric by ``n-1``."""
    if kind == "rect":
        return np.ones(n, np.float32)
    denom = n if periodic else n - 1
    phase = 2.0 * np.pi * np.arange(n) / denom
    a = 0.5 if kind == "hann" else 0.54
    return (a - (1.0 - a) * np.cos(phase)).astype(np.float32)


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    """HTK mel scale: ``1127 ln(1 + f / 700)``."""
    return 1127.0 * np.log1p(np.asarray(f, np.float64) / 700.0)


def mel_matrix(cfg: AudioFeatures) -> np.ndarray:
    """Triangular mel weights, ``(fft_size/2 + 1, mel_bins)`` float32.

    Triangles are spaced evenly in mel between ``mel_low_hz`` and ``mel_high_hz``; each FFT bin's
    weight is the smaller of its rising and falling slope, clipped at zero; the DC bin gets none
    (TensorFlow's ``linear_to_mel_weight_matrix``).
    """
    bins = cfg.fft_size // 2 + 1
    freqs = np.linspace(0.0, cfg.sample_rate / 2.0, bins)
    fmel = hz_to_mel(freqs)[:, None]
    edges = np.linspace(hz_to_mel(cfg.mel_low_hz), hz_to_mel(cfg.mel_high_hz), cfg.mel_bins + 2)
    lo, mid, hi = edges[:-2], edges[1:-1], edges[2:]
    rising = (fmel - lo) / (mid - lo)
    falling = (hi - fmel) / (hi - mid)
    w = np.maximum(0.0, np.minimum(rising, falling))
    w[0, :] = 0.0
    return w.astype(np.float32)


def dct_matrix(n_in: int, n_out: int, norm: DctNorm = "htk") -> np.ndarray:
    """DCT-II as a ``(n_in, n_out)`` float32 matrix: ``y = x @ D``."""
    n = np.arange(n_in)[:, None]
    k = np.arange(n_out)[None, :]
    d = 2.0 * np.cos(np.pi * (2 * n + 1) * k / (2.0 * n_in))
    if norm == "htk":
        d *= 1.0 / np.sqrt(2.0 * n_in)
    elif norm == "ortho":
        d *= np.where(k == 0, np.sqrt(1.0 / (4.0 * n_in)), np.sqrt(1.0 / (2.0 * n_in)))
    return d.astype(np.float32)


def to_float(samples: np.ndarray, cfg: AudioFeatures) -> np.ndarray:
    """Integer PCM times ``input_scale`` (float input passes through), padded or trimmed to
    ``clip_samples`` when that is set."""
    x = np.asarray(samples)
    x = x.astype(np.float32) * np.float32(cfg.input_scale) if x.dtype.kind in "iu" else x.astype(np.float32)
    if x.ndim != 1:
        raise ValueError(f"audio must be one channel (1-D), got shape {list(x.shape)}")
    if cfg.clip_samples:
        x = x[: cfg.clip_samples]
    if cfg.normalize == "peak" and len(x) and x.max() > 0:
        x = x / x.max()
    if cfg.clip_samples:
        x = np.pad(x, (0, cfg.clip_samples - len(x)))
    return x


def frames(x: np.ndarray, cfg: AudioFeatures) -> np.ndarray:
    """``(num_frames, window_samples)`` views of ``x``, hop ``hop_samples``, no end padding."""
    if len(x) < cfg.window_samples:
        return np.zeros((0, cfg.window_samples), np.float32)
    count = 1 + (len(x) - cfg.window_samples) // cfg.hop_samples
    idx = np.arange(cfg.window_samples)[None, :] + cfg.hop_samples * np.arange(count)[:, None]
    return x[idx]


def spectrogram(x: np.ndarray, cfg: AudioFeatures) -> np.ndarray:
    """``|rfft(frame * window, fft_size)| ** magnitude_power``, ``(frames, fft_size/2 + 1)``."""
    w = window(cfg.window_samples, cfg.window_type, cfg.window_periodic)
    spec = np.abs(np.fft.rfft(frames(x, cfg) * w, n=cfg.fft_size, axis=-1)).astype(np.float32)
    return spec if cfg.magnitude_power == 1 else spec ** np.float32(cfg.magnitude_power)


def log_mel(samples: np.ndarray, cfg: AudioFeatures = KWS_LOG_MEL) -> np.ndarray:
    """Log-mel filterbank energies ``log(mel + log_offset)``, ``(frames, mel_bins)`` float32."""
    mel = spectrogram(to_float(samples, cfg), cfg) @ mel_matrix(cfg)
    return np.log(mel + np.float32(cfg.log_offset)).astype(np.float32)


def mfcc(samples: np.ndarray, cfg: AudioFeatures = KWS_MFCC) -> np.ndarray:
    """MFCC: the DCT-II of :func:`log_mel`, first ``num_coefficients``, ``(frames, coeffs)``."""
    lm = log_mel(samples, cfg)
    return (lm @ dct_matrix(cfg.mel_bins, cfg.num_coefficients, cfg.dct_norm)).astype(np.float32)


def features(samples: np.ndarray, cfg: Any) -> np.ndarray:
    """The front end ``cfg`` describes on one clip: MFCC or log-mel for :class:`AudioFeatures`;
    other audio presets (micro-speech, str-ww-lfbe) are callables and compute themselves."""
    if not isinstance(cfg, AudioFeatures):
        return np.asarray(cfg(samples))
    return mfcc(samples, cfg) if cfg.kind == "mfcc" else log_mel(samples, cfg)
