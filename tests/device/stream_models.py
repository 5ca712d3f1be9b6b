"""Models built in code for the streaming tests (the twins of the MLPerf Tiny KWS model):

- ``tone_detector()``: the KWS model's input (1x49x10x1 int8 MFCC, same quantization), RESHAPE,
  FULLY_CONNECTED, SOFTMAX; labels ``noise, tone``. Its weights are the difference of the mean
  quantized MFCCs of windows with a 1 kHz burst and windows of noise only, so it answers "tone"
  when a burst is in the window.
- ``shake_detector()``: the imu front end's 45 features, FULLY_CONNECTED, SOFTMAX; labels
  ``background, shake``; fires when the per-axis standard deviations add up to more than 1.
"""

from __future__ import annotations

import numpy as np

from edgecraft.dsp import IMU_DEFAULT, KWS_MFCC, mfcc, quantize
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph

KWS_SCALE, KWS_ZP = 0.5847029, 83
TONE_LABELS = ["noise", "tone"]
SHAKE_LABELS = ["background", "shake"]


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


def _classifier(name: str, in_shape: tuple[int, ...], in_scale: float, in_zp: int,
                w_real: np.ndarray, b_real: np.ndarray) -> Graph:
    """RESHAPE (if needed) + FULLY_CONNECTED with real weights/bias + int8 SOFTMAX."""
    g = GraphBuilder(name)
    x = g.tensor("input", in_shape, "int8", qparams(in_scale, in_zp))
    n_in = int(np.prod(in_shape))
    flat = x
    if len(in_shape) != 2:
        shape = g.const("flat_shape", np.array([1, n_in], np.int32))
        flat = g.tensor("flat", (1, n_in), "int8", qparams(in_scale, in_zp))
        g.op("RESHAPE", [x, shape], [flat], new_shape=[1, n_in])
    w_scale = float(np.abs(w_real).max() / 127)
    w = g.const("weights", np.round(w_real / w_scale).astype(np.int8), qparams(w_scale, 0))
    b_scale = in_scale * w_scale
    b = g.const("bias", np.round(b_real / b_scale).astype(np.int32), qparams(b_scale, 0))
    logits = g.tensor("logits", (1, len(b_real)), "int8", qparams(16 / 127, 0))
    g.op("FULLY_CONNECTED", [flat, w, b], [logits], fused_activation_function="NONE")
    probs = g.tensor("probs", (1, len(b_real)), "int8", qparams(1 / 256, -128))
    g.op("SOFTMAX", [logits], [probs], beta=1.0)
    return g.build([x], [probs])


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
    return _classifier("tone_detector", (1, 49, 10, 1), KWS_SCALE, KWS_ZP, w, b)


def shake_detector() -> Graph:
    """imu-features int8 model answering background/shake (see the module docstring)."""
    cfg = IMU_DEFAULT
    w = np.zeros((2, cfg.num_features))
    for a in range(cfg.axes):
        w[1, a * cfg.per_axis + 1] = 8.0  # the std of each axis
    w[0] = -w[1]
    b = np.array([8.0, -8.0])
    return _classifier("shake_detector", (1, cfg.num_features), 0.5, -100, w, b)


def shake_recording(shakes_s: list[float], duration_s: float, rate: float = 100.0, seed: int = 0
                    ) -> np.ndarray:
    """Resting accelerometer (gravity on z, small noise) with 1.5 s shakes at ``shakes_s``."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * rate)
    x = rng.normal(0, 0.02, (n, 3)) + np.array([0.0, 0.0, 9.81])
    t = np.arange(int(1.5 * rate)) / rate
    for s in shakes_s:
        i = int(s * rate)
        x[i:i + len(t), 0] += 3.0 * np.sin(2 * np.pi * 4 * t)
        x[i:i + len(t), 1] += 2.0 * np.sin(2 * np.pi * 6 * t)
    return x.astype(np.float32)
