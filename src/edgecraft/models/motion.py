"""A motion model edgecraft builds itself: a shake detector on the ``imu`` front end.

``shake_detector()`` reads the imu preset's 45 features (per-axis statistics and spectra of a
window of accelerometer samples), then FULLY_CONNECTED and an int8 SOFTMAX; labels
``background, shake``. Its weights are set by hand, not trained: it fires when the per-axis
standard deviations add up to more than 1 m/s^2. ``shake_recording()`` makes a matching
recording. Used by the demo (`edgecraft stream --csv`) and the streaming tests.
"""

from __future__ import annotations

import numpy as np

from edgecraft.dsp import IMU_DEFAULT
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph

SHAKE_LABELS = ["background", "shake"]


def classifier(name: str, in_shape: tuple[int, ...], in_scale: float, in_zp: int,
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


def shake_detector() -> Graph:
    """imu-features int8 model answering background/shake (see the module docstring)."""
    cfg = IMU_DEFAULT
    w = np.zeros((2, cfg.num_features))
    for a in range(cfg.axes):
        w[1, a * cfg.per_axis + 1] = 8.0  # the std of each axis
    w[0] = -w[1]
    b = np.array([8.0, -8.0])
    return classifier("shake_detector", (1, cfg.num_features), 0.5, -100, w, b)


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
