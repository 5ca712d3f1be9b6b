"""Residual adds, gating products and concatenations quantize to int8 (no float island), and the
result is bit-exact with TFLM; torchvision's own blocks load through the CLI without its
compiled extension."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgecraft.formats import read_tflite
from edgecraft.optimize import float_ops
from oracle import check_tflm

pytestmark = pytest.mark.torch
pytest.importorskip("torch", reason="needs the optimize extra (torch, litert-torch)")


def _residual_net() -> Any:
    """Two MobileNetV2 inverted residual blocks back to back (the second add reads the first:
    the case that stayed float), a MobileNetV3 squeeze-excite gate with nn.Hardsigmoid (a float
    ADD + MUL island after conversion), a gating product (x * y) and a concatenation."""
    import torch
    from torch import nn

    def inverted(c: int, hidden: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(c, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden, bias=False), nn.BatchNorm2d(hidden),
            nn.ReLU6(), nn.Conv2d(hidden, c, 1, bias=False), nn.BatchNorm2d(c))

    class ResidualNet(nn.Module):
        def __init__(self, c: int = 8) -> None:
            super().__init__()
            self.stem = nn.Conv2d(3, c, 3, padding=1)
            self.block1 = inverted(c, 4 * c)
            self.block2 = inverted(c, 4 * c)
            self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, 4, 1), nn.ReLU(),
                                    nn.Conv2d(4, c, 1), nn.Hardsigmoid())
            # conv + BatchNorm (folded) + an inplace Hardswish, as torchvision writes it: the
            # report must compare the conv with the BatchNorm's output before it is overwritten
            self.gate = nn.Sequential(nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c),
                                      nn.Hardswish(inplace=True))
            self.fc = nn.Linear(2 * c, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.stem(x)
            x = x + self.block1(x)
            x = x + self.block2(x)
            x = x * self.se(x)
            z = torch.cat([self.gate(x) * x, x], 1)
            return self.fc(z.mean((2, 3)))

    return ResidualNet()


def _randomize_batchnorm(model: Any) -> Any:
    from torch import nn

    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
    return model.eval()


def test_residual_add_mul_cat_are_int8() -> None:
    import torch

    from edgecraft.optimize import quantize

    torch.manual_seed(0)
    model = _randomize_batchnorm(_residual_net())
    x = torch.randn(24, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    qm = quantize(model, x, holdout=x[-4:], layer_samples=2)
    types = [op.type for op in qm.graph.operators]
    assert not float_ops(qm.graph), types
    assert {"ADD", "MUL", "CONCATENATION"} <= set(types) and types.count("MUL") == 3  # SE: ADD + MUL
    assert "QUANTIZE" not in types and "DEQUANTIZE" not in types  # no float island, no requantize
    for s in x[-4:].numpy():
        check_tflm(qm.graph, [qm.input_int8(s)], "residual net")
    assert qm.report is not None and qm.report.agreement >= 0.75
    assert "gate.0" in {e.layer for e in qm.report.layers}
    assert all(e.relative < 0.2 for e in qm.report.layers), qm.report.layers


TORCHVISION_MODEL = """
import torch
from torch import nn
from torchvision.models.mobilenetv2 import InvertedResidual
from torchvision.models.resnet import BasicBlock

INPUT_SHAPE = (1, 3, 8, 8)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.block1 = InvertedResidual(8, 8, 1, expand_ratio=4)
        self.block2 = InvertedResidual(8, 8, 1, expand_ratio=4)
        self.basic = BasicBlock(8, 8)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = self.basic(self.block2(self.block1(self.stem(x))))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def make():
    torch.manual_seed(0)
    net = Net()
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return net
"""


def test_torchvision_blocks_through_the_cli(tmp_path: Path) -> None:
    """torchvision's InvertedResidual (two, back to back: the second add reads the first) and
    BasicBlock, imported by a user's file, become a full-int8 model equal to TFLM."""
    from importlib.util import find_spec

    if find_spec("torchvision") is None:
        pytest.skip("torchvision not installed")
    from typer.testing import CliRunner

    from edgecraft.cli.app import app

    (tmp_path / "tv.py").write_text(TORCHVISION_MODEL)
    calib = np.random.default_rng(0).standard_normal((20, 3, 8, 8)).astype(np.float32)
    np.save(tmp_path / "calib.npy", calib)
    out = tmp_path / "tv.tflite"
    r = CliRunner().invoke(app, ["quantize", f"{tmp_path}/tv.py:make", "--calibration",
                                 str(tmp_path / "calib.npy"), "--out", str(out), "--format", "json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["ops"].count("ADD") == 3 and "DEQUANTIZE" not in info["ops"]
    g = read_tflite(out)
    assert not float_ops(g)
    t = g.input_tensors()[0]
    for s in calib[-3:]:
        q = np.clip(np.round(s / np.float32(t.scale)) + t.zero_point, -128, 127).astype(np.int8)
        check_tflm(g, [q.reshape(t.shape)], "torchvision blocks")
