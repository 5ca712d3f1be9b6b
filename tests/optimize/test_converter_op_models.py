"""The ops litert-torch emits for the field's standard architectures run in edgecraft: a
torchvision-style ResNet stem and block (MaxPool2d(3, 2, padding=1) becomes PADV2,
AdaptiveAvgPool2d(1) on a 1x1 map becomes SUM) quantizes to full int8 equal to TFLM; an
nn.LSTM last-step readout (SLICE) and a TransformerEncoderLayer (BATCH_MATMUL, RSQRT,
SQUARED_DIFFERENCE, SLICE), converted as float, run within 1e-5 of LiteRT. Small sizes."""

from __future__ import annotations

from typing import Any

import pytest

from edgecraft.formats.tflite_reader import read_tflite_bytes
from edgecraft.optimize import float_ops
from oracle import check_litert, check_tflm

pytestmark = pytest.mark.torch
pytest.importorskip("torch", reason="needs the optimize extra (torch, litert-torch)")


def _resnet() -> Any:
    import torch
    from torch import nn

    from edgecraft.models.torchvision_models import torchvision_models

    basic_block = torchvision_models().resnet.BasicBlock

    class TinyResNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8),
                                      nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, padding=1))
            down = nn.Sequential(nn.Conv2d(8, 16, 1, 2, bias=False), nn.BatchNorm2d(16))
            self.layer = basic_block(8, 16, stride=2, downsample=down)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(16, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(torch.flatten(self.pool(self.layer(self.stem(x))), 1))

    torch.manual_seed(0)
    model = TinyResNet().eval()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return model


def test_resnet_maxpool_padding_and_global_pool_are_int8_and_tflm_exact() -> None:
    import torch

    from edgecraft.optimize import quantize

    x = torch.randn(16, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    qm = quantize(_resnet(), x, holdout=x[-4:], layer_samples=2)
    types = [op.type for op in qm.graph.operators]
    assert not float_ops(qm.graph), types
    assert {"PADV2", "SUM", "MAX_POOL_2D"} <= set(types), types
    for s in x[-2:].numpy():
        check_tflm(qm.graph, [qm.input_int8(s)], "tiny resnet")


def test_lstm_readout_and_transformer_layer_run_as_litert_does() -> None:
    import litert_torch
    import torch
    from torch import nn

    class LastStep(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.LSTM(4, 8, batch_first=True)
            self.fc = nn.Linear(8, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(self.rnn(x)[0][:, -1])

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
            self.fc = nn.Linear(16, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(self.enc(x)[:, -1])

    torch.manual_seed(0)
    cases = [(LastStep(), 4, {"SLICE"}),
             (Encoder(), 16, {"BATCH_MATMUL", "RSQRT", "SQUARED_DIFFERENCE", "SLICE"})]
    for model, width, expected in cases:
        x = torch.randn(1, 5, width, generator=torch.Generator().manual_seed(2))
        graph = read_tflite_bytes(bytes(litert_torch.convert(model.eval(), (x,)).model_content()))
        assert expected <= {op.type for op in graph.operators}
        check_litert(graph, [x.numpy()], rtol=1e-5, label=type(model).__name__)
