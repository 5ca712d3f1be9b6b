"""The streaming on-device loop: ring buffer -> window -> (gate, duty cycle) -> features ->
model -> post-processing -> triggers.

A :class:`StreamLoop` is fed chunks of raw samples of any size. Every ``stride`` samples it
takes the newest ``window`` samples; a cheap gate (sound energy, motion magnitude) may keep the
model asleep, and duty cycling runs it at most every ``period_s``. Each inference's scores go
through :class:`~edgecraft.device.postprocess.Detector`; detections call the triggers.
The loop records what it did (inferences, gated and skipped windows) for the power model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgecraft.device.postprocess import Detection, Detector, PostProcessing
from edgecraft.device.ring import Windower
from edgecraft.dsp.audio import features
from edgecraft.dsp.motion import MotionFeatures, window_features
from edgecraft.dsp.presets import AudioPreset
from edgecraft.dsp.quantize import dequantize, quantize
from edgecraft.ir.graph import Graph

Trigger = Callable[[Detection], None]


class ModelRunner:
    """A model as a function from features to class scores, on edgecraft's runtime.

    Features are quantized to the input tensor's scale and zero point and reshaped to its
    shape (integer features of the input's own type, as the ``micro-speech`` front end gives,
    are the model input already and pass unchanged); the first output is dequantized. Outputs
    that are not already probabilities (some negative, or not summing to about 1) get a softmax.
    """

    def __init__(self, graph: Graph) -> None:
        from edgecraft.runtime import Interpreter

        self.interp = Interpreter(graph)
        self.input = graph.input_tensors()[0]
        self.output = graph.output_tensors()[0]

    @property
    def num_classes(self) -> int:
        """Scores per inference."""
        return int(np.prod(self.output.shape))

    def __call__(self, feats: np.ndarray) -> np.ndarray:
        t = self.input
        raw = np.asarray(feats)
        x = raw if raw.dtype.kind in "iu" and raw.dtype == t.np_dtype else raw.astype(np.float32)
        if x.size != int(np.prod(t.shape)):
            raise ValueError(f"the front end gives {x.size} values but the model input {t.name!r} has "
                             f"shape {list(t.shape)}; pick the matching --features preset")
        if x is not raw and t.quant is not None and t.dtype in ("int8", "uint8", "int16"):
            x = quantize(x, float(t.quant.scale[0]), int(t.quant.zero_point[0]), t.dtype)
        y = self.interp.run([x.reshape(t.shape).astype(t.np_dtype)])[0].reshape(-1)
        o = self.output
        scores = dequantize(y, float(o.quant.scale[0]), int(o.quant.zero_point[0])) \
            if o.quant is not None and o.dtype != "float32" else y.astype(np.float32)
        if scores.min() < -1e-6 or abs(float(scores.sum()) - 1.0) > 0.05:
            e = np.exp(scores - scores.max())
            scores = e / e.sum()
        return scores


def energy_gate(threshold_dbfs: float, full_scale: float = 32768.0) -> Callable[[np.ndarray], bool]:
    """Open when the RMS of the window's newest hop is above ``threshold_dbfs`` (dB full scale)."""
    def gate(x: np.ndarray) -> bool:
        rms = float(np.sqrt(np.mean(np.square(np.asarray(x, np.float64))))) / full_scale
        return 20 * np.log10(max(rms, 1e-12)) >= threshold_dbfs
    return gate


def motion_gate(threshold: float) -> Callable[[np.ndarray], bool]:
    """Open when the motion magnitude of the newest hop, ``sqrt(sum over axes of the variance)``
    (the RMS length of the acceleration change; gravity cancels), exceeds ``threshold`` in the
    data's units: the device is moving, not resting."""
    def gate(x: np.ndarray) -> bool:
        v = np.asarray(x, np.float64)
        return float(np.sqrt(np.sum(np.var(v, axis=0)))) > threshold
    return gate


@dataclass
class StreamStats:
    """What the loop did: for the power model and the report."""

    windows: int = 0
    inferences: int = 0
    gated: int = 0
    duty_skipped: int = 0
    inference_times_s: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Counts as a plain dict (without the time list)."""
        return {"windows": self.windows, "inferences": self.inferences, "gated": self.gated,
                "duty_skipped": self.duty_skipped}


@dataclass
class WindowResult:
    """The top label of one inference (for reports and tuning)."""

    time_s: float
    label: str
    score: float
    scores: np.ndarray


class StreamLoop:
    """Runs ``model`` continuously over a sample stream (see the module docstring).

    ``featurize`` maps one window (``(window,)`` or ``(window, axes)``) to model features.
    ``gate`` is called on the newest ``stride`` samples and returns whether to wake the model.
    ``period_s`` > 0 runs the model at most that often (duty cycling).
    """

    def __init__(self, model: Callable[[np.ndarray], np.ndarray],
                 featurize: Callable[[np.ndarray], np.ndarray], labels: Sequence[str],
                 sample_rate: float, window: int, stride: int, channels: int = 0,
                 post: PostProcessing | None = None, gate: Callable[[np.ndarray], bool] | None = None,
                 period_s: float = 0.0, triggers: Sequence[Trigger] = (), dtype: str = "float32") -> None:
        self.model = model
        self.featurize = featurize
        self.labels = list(labels)
        self.rate = float(sample_rate)
        self.windower = Windower(window, stride, channels, dtype)
        self.detector = Detector(self.labels, stride / self.rate, post)
        self.gate = gate
        self.period_s = period_s
        self.triggers = list(triggers)
        self.stats = StreamStats()
        self.results: list[WindowResult] = []
        self.detections: list[Detection] = []
        self._last_run = -np.inf

    def feed(self, chunk: np.ndarray) -> list[Detection]:
        """Push raw samples; returns the detections they caused (triggers already called)."""
        found = []
        for end, win in self.windower.feed(chunk):
            t = end / self.rate
            self.stats.windows += 1
            if self.gate is not None and not self.gate(win[-self.windower.stride:]):
                self.stats.gated += 1
                self.detector.smoother.reset()
                continue
            if t - self._last_run < self.period_s - 1e-9:
                self.stats.duty_skipped += 1
                continue
            self._last_run = t
            scores = self.model(self.featurize(win))
            self.stats.inferences += 1
            self.stats.inference_times_s.append(t)
            top = int(np.argmax(scores))
            self.results.append(WindowResult(t, self.labels[top], float(scores[top]), scores))
            det = self.detector.update(t, scores)
            if det is not None:
                found.append(det)
                for trig in self.triggers:
                    trig(det)
        self.detections += found
        return found

    def finish(self) -> list[Detection]:
        """End of stream: a recording shorter than one window is padded with zeros so it gets
        one inference. Returns any detection this causes."""
        missing = self.windower.window - self.windower.samples_seen
        if missing > 0:
            shape = (missing, *self.windower.ring.data.shape[1:])
            return self.feed(np.zeros(shape, self.windower.ring.data.dtype))
        return []


def audio_featurizer(cfg: AudioPreset) -> Callable[[np.ndarray], np.ndarray]:
    """Window of int16 samples -> the front end's features."""
    return lambda win: features(win, cfg)


def motion_featurizer(cfg: MotionFeatures) -> Callable[[np.ndarray], np.ndarray]:
    """Window of ``(samples, axes)`` -> per-axis statistics and spectral features."""
    return lambda win: window_features(win, cfg)


def event_trigger(publish: Callable[[dict[str, Any]], None], device_id: str = "") -> Trigger:
    """A trigger that hands each detection as a telemetry event dict to ``publish`` (e.g. the
    fleet agent's MQTT publish): ``{"type": "detection", "device_id", "time_s", "label", "score"}``."""
    def trigger(det: Detection) -> None:
        publish({"type": "detection", "device_id": device_id, **det.to_dict()})
    return trigger
