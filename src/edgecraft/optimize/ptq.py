"""Post-training quantization of a PyTorch model to a full-int8 .tflite, with its report.

``quantize(model, calibration)`` calibrates litert-torch's PT2E quantizer on ``calibration``,
converts, finishes the job in the IR (:mod:`edgecraft.optimize.finish`), checks that no float
op is left, writes the model with edgecraft's writer and measures what quantization cost on
held-out samples: float vs int8 top-1 agreement, maximum absolute output error, and the error
of every layer (:mod:`edgecraft.optimize.layers`). The int8 numbers come from edgecraft's own
runtime, which is bit-exact with TensorFlow Lite Micro.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgecraft.formats import ModelFormatError, read_tflite_bytes, write_tflite
from edgecraft.ir.graph import Graph
from edgecraft.optimize import pt2e
from edgecraft.optimize.finish import finish_int8, float_ops
from edgecraft.optimize.pt2e import QuantizeError
from edgecraft.optimize.rewrite import rewrite

if TYPE_CHECKING:
    import torch

    from edgecraft.optimize.layers import LayerError


@dataclass
class QuantReport:
    """What quantization cost, measured on ``samples`` held-out inputs."""

    samples: int
    agreement: float  # fraction of samples whose int8 top-1 equals the float top-1
    max_abs_error: float  # max |dequantized int8 output - float output|
    size_bytes: int  # the .tflite file
    float_size_bytes: int  # float32 parameters of the PyTorch model
    layers: list[LayerError] = field(default_factory=list)  # worst first

    def as_dict(self) -> dict[str, Any]:
        return {
            "samples": self.samples, "agreement": self.agreement, "max_abs_error": self.max_abs_error,
            "size_bytes": self.size_bytes, "float_size_bytes": self.float_size_bytes,
            "layers": [layer.as_dict() for layer in self.layers],
        }


@dataclass
class QuantizedModel:
    """A full-int8 model: the IR ``graph``, its ``.tflite`` bytes and how to feed it."""

    graph: Graph
    tflite: bytes
    channels_last: bool = False
    report: QuantReport | None = None

    def input_int8(self, x: np.ndarray) -> np.ndarray:
        """One float sample in PyTorch layout (C, H, W) -> the int8 input tensor."""
        t = self.graph.input_tensors()[0]
        x = np.asarray(x, np.float32)[None]
        if self.channels_last:
            x = np.moveaxis(x, 1, -1)
        q = np.round(x / np.float32(t.scale)) + t.zero_point
        return np.clip(q, -128, 127).astype(np.int8).reshape(t.shape)

    def dequantize_output(self, q: np.ndarray) -> np.ndarray:
        t = self.graph.output_tensors()[0]
        return ((q.astype(np.float32) - t.zero_point) * np.float32(t.scale)).reshape(-1)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Dequantized outputs (N, classes) of edgecraft's runtime on float samples (N, ...)."""
        from edgecraft.runtime import Interpreter

        interp = Interpreter(self.graph)
        return np.stack([self.dequantize_output(interp.run([self.input_int8(s)])[0]) for s in x])

    def save(self, path: str | Path) -> None:
        """Write the .tflite to ``path`` (atomically: a failed write leaves no partial file)."""
        from edgecraft.files import write_bytes

        write_bytes(path, self.tflite)


def to_int8(converted: Any, example: torch.Tensor, channels_last: bool = False) -> QuantizedModel:
    """A PT2E-converted module -> finished full-int8 :class:`QuantizedModel` (no report).

    ``example`` is in the converted module's layout; ``channels_last`` records that the module
    was wrapped by :func:`edgecraft.optimize.pt2e.channels_last` (NHWC input)."""
    try:
        graph = finish_int8(read_tflite_bytes(pt2e.to_tflite(converted, example[:1]), "the converted model"))
    except ModelFormatError as e:
        raise QuantizeError(f"{e} (`edgecraft check` on the model names the layer and what to use "
                            "instead)") from None
    graph, _ = rewrite(graph)  # exact MCU rewrites (depthwise on one channel -> conv, ...)
    left = float_ops(graph)
    if left:
        from edgecraft.optimize.compat import describe

        raise QuantizeError(
            "the converted model still has float or unsupported ops: "
            + "; ".join(describe(graph, j) for j, _ in left)
            + " (`edgecraft check` on the model names the layers and what to use instead)"
        )
    return QuantizedModel(graph, write_tflite(graph), channels_last)


def quantize(model: torch.nn.Module, calibration: np.ndarray | torch.Tensor,
             holdout: np.ndarray | torch.Tensor | None = None, *, channels_last: bool = False,
             holdout_fraction: float = 0.25, report: bool = True, layer_samples: int = 16) -> QuantizedModel:
    """Full-int8 post-training quantization of ``model`` (eval mode is set).

    ``calibration`` holds float inputs (N, C, H, W) in the model's own layout. The report uses
    ``holdout`` or, when it is None, the last ``holdout_fraction`` of ``calibration`` (those
    samples are then not used to calibrate). ``channels_last`` gives the .tflite an NHWC input.
    """
    import torch

    x = pt2e.as_tensor(calibration)
    if x.dim() < 2 or len(x) == 0:
        raise QuantizeError(f"calibration must be a batch of samples (N, ...), got shape {list(x.shape)}")
    if holdout is None and report:
        n_hold = max(1, int(len(x) * holdout_fraction)) if len(x) > 1 else 0
        x, held = x[: len(x) - n_hold], x[len(x) - n_hold :]
    else:
        held = pt2e.as_tensor(holdout) if holdout is not None else x[:0]
    model = model.eval()
    try:
        with torch.no_grad():
            model(x[:1])  # a shape mistake shows here, in the user's terms, not deep in export
    except Exception as e:
        raise QuantizeError(f"the model does not take inputs shaped {list(x.shape[1:])} per sample "
                            f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    from edgecraft.optimize.substitute import substitute

    model = substitute(model)  # the form that is exported: the per-layer report names its layers
    deployed, calib = pt2e.channels_last(model, x) if channels_last else (model, x)
    qm = to_int8(pt2e.calibrate_ptq(deployed, calib), calib[:1], channels_last)
    if report and len(held):
        qm.report = evaluate(qm, model, held, layer_samples)
    return qm


def evaluate(qm: QuantizedModel, model: torch.nn.Module, samples: np.ndarray | torch.Tensor,
             layer_samples: int = 16) -> QuantReport:
    """Compare ``qm`` (edgecraft runtime) with the float ``model`` on ``samples``."""
    import torch

    from edgecraft.optimize.layers import layer_errors

    x = pt2e.as_tensor(samples)
    with torch.no_grad():
        ref = model.eval()(x).reshape(len(x), -1).numpy()
    got = qm.predict(x.numpy())
    agree = float(np.mean(np.argmax(got, 1) == np.argmax(ref, 1)))
    params = sum(p.numel() for p in model.parameters())
    return QuantReport(
        samples=len(x), agreement=agree, max_abs_error=float(np.max(np.abs(got - ref))),
        size_bytes=len(qm.tflite), float_size_bytes=4 * int(params),
        layers=layer_errors(qm, model, x[:layer_samples].numpy()),
    )


def accuracy_int8(qm: QuantizedModel, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy of the int8 model (edgecraft runtime) on labelled samples."""
    return float(np.mean(np.argmax(qm.predict(np.asarray(x)), 1) == np.asarray(y)))
