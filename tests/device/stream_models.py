"""Models built in code for the streaming tests (the twins of the MLPerf Tiny KWS model):

- ``tone_detector()``: the KWS model's input (1x49x10x1 int8 MFCC, same quantization), RESHAPE,
  FULLY_CONNECTED, SOFTMAX; labels ``noise, tone``. Its weights are the difference of the mean
  quantized MFCCs of windows with a 1 kHz burst and windows of noise only, so it answers "tone"
  when a burst is in the window.
- ``shake_detector()`` (from :mod:`edgecraft.models.motion`, re-exported here).
"""

from __future__ import annotations

import numpy as np

from edgecraft.dsp import KWS_MFCC, mfcc, quantize
from edgecraft.ir.graph import Graph
from edgecraft.models.motion import classifier

KWS_SCALE, KWS_ZP = 0.5847029, 83
TONE_LABELS = ["noise", "tone"]


def noise(n: int, rng: np.random.Generator, rms: float = 200.0) -> np.ndarray:
    return rng.normal(0, rms, n)


def tone(n: int, freq: float = 1000.0, amp: float = 8000.0) -> np.ndarray:
    t = np.arange(n) / 16000
    return amp * np.sin(2 * np.pi * freq * t) * np.hanning(n)


def to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def tone_recording(bursts_s: list[float], duration_s: float, seed: int = 0, burst_s: float = 0.4
                   ) -> np.ndarray:
    """Noise with 1 kHz bursts starting at ``bursts_s``, int16 at 16 kHz."""
    rng = np.random.default_rng(seed)
    x = noise(int(duration_s * 16000), rng)
    for b in bursts_s:
        i = int(b * 16000)
        x[i:i + int(burst_s * 16000)] += tone(int(burst_s * 16000))
    return to_int16(x)




def tone_detector(seed: int = 0) -> Graph:
    """KWS-shaped int8 model answering noise/tone (see the module docstring)."""
    rng = np.random.default_rng(seed)
    def q(pcm: np.ndarray) -> np.ndarray:
        return quantize(mfcc(pcm, KWS_MFCC), KWS_SCALE, KWS_ZP).astype(np.float64).reshape(-1) - KWS_ZP
    tones, noises = [], []
    for _ in range(12):
        x = noise(16000, rng)
        start = int(rng.integers(0, 16000 - 6400))
        x[start:start + 6400] += tone(6400)
        tones.append(q(to_int16(x)))
        noises.append(q(to_int16(noise(16000, rng))))
    mt, mn = np.mean(tones, 0), np.mean(noises, 0)
    d = mt - mn
    direction = 8.0 * d / (d @ d) * 2  # about +-8 logits at the class means
    mid = (mt + mn) / 2
    w = np.stack([-direction, direction]) / KWS_SCALE  # on real-valued features
    b = np.array([direction @ mid, -(direction @ mid)])
    return classifier("tone_detector", (1, 49, 10, 1), KWS_SCALE, KWS_ZP, w, b)




