"""Models for the ONNX tests: a small PyTorch CNN exported with ``torch.onnx.export``, a model
built with ``onnx.helper``, and ONNX Runtime's static QDQ quantization of either."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgecraft.models.onnx_examples import dense_model, helper_model

__all__ = ["dense_model", "helper_model", "quantize_qdq", "run_ort", "torch_cnn_onnx"]


def torch_cnn_onnx(path: Path, seed: int = 0) -> np.ndarray:
    """Export a small CNN (conv, depthwise conv, ReLU/ReLU6, max and global average pooling,
    a residual add, flatten, linear, softmax) to ``path``; returns calibration data (N, 1, 12, 12)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(1, 8, 3, padding=1)
            self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
            self.pw = nn.Conv2d(8, 8, 1)
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(8, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = torch.relu(self.c1(x))
            z = nn.functional.relu6(self.dw(y))
            y = self.pool(torch.relu(self.pw(z) + y))
            y = torch.flatten(nn.functional.adaptive_avg_pool2d(y, 1), 1)
            return torch.softmax(self.fc(y), dim=1)

    net = Net().eval()
    x = torch.randn(1, 1, 12, 12)
    torch.onnx.export(net, (x,), str(path), dynamo=False, input_names=["x"], output_names=["y"],
                      opset_version=17)
    return np.random.default_rng(seed).standard_normal((16, 1, 12, 12)).astype(np.float32)


def quantize_qdq(src: Path, dst: Path, calibration: np.ndarray, per_channel: bool,
                 uint8_activations: bool = False) -> None:
    """ONNX Runtime's static quantization, QDQ format, int8 weights, int8 (or uint8) activations."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter([{"x": s[None]} for s in calibration])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.it, None)

    quantize_static(str(src), str(dst), Reader(), quant_format=QuantFormat.QDQ, per_channel=per_channel,
                    activation_type=QuantType.QUInt8 if uint8_activations else QuantType.QInt8,
                    weight_type=QuantType.QInt8)


def run_ort(path: Path | bytes, x: np.ndarray) -> np.ndarray:
    """Outputs of ONNX Runtime (CPU) on one input."""
    import onnxruntime as ort

    model = path if isinstance(path, bytes) else str(path)
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return np.asarray(sess.run(None, {sess.get_inputs()[0].name: x})[0])
