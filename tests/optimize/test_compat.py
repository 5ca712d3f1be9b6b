"""The compatibility check before training: clean models pass with a profile, others name the
layer, the op and what to use instead."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.torch
pytest.importorskip("torch", reason="needs the optimize extra (torch, litert-torch)")


def test_clean_model_passes_with_profile(digits: Any) -> None:
    from edgecraft.models.digits import digits_cnn
    from edgecraft.optimize import check

    report = check(digits_cnn(width=4, size=8), np.zeros((1, 1, 8, 8), np.float32), "nano33ble")
    assert report.ok and report.error is None
    assert report.ops[-1] == "SOFTMAX" and "DEQUANTIZE" not in report.ops
    softmax = [i for i in report.issues if i.op == "SOFTMAX"]
    assert len(softmax) == 1 and softmax[0].fixable and softmax[0].layer == "10"
    assert not [i for i in report.issues if not i.fixable]
    p = report.profile
    assert p is not None and p["board"] == "nano33ble" and p["fits"] is True
    assert {"ram_bytes", "flash_bytes", "arena_bytes", "macs", "latency_ms", "energy_uj"} <= set(p)


def _gelu() -> Any:
    from torch import nn

    class Gelu(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(8, 16)
            self.act = nn.GELU()
            self.out = nn.Linear(16, 4)

        def forward(self, x: Any) -> Any:
            return self.out(self.act(self.fc(x)))

    return Gelu()


def _lstm() -> Any:
    from torch import nn

    class Lstm(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(8, 16, batch_first=True)
            self.out = nn.Linear(16, 4)

        def forward(self, x: Any) -> Any:
            return self.out(self.lstm(x)[0][:, -1])

    return Lstm()


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch.export's note on LSTM flat weights
@pytest.mark.parametrize("make,shape,layer,op,advice", [
    (_gelu, (1, 8), "act", "GELU", "ReLU"),
    (_lstm, (1, 5, 8), "lstm", None, "convolution"),
])
def test_unsupported_layers_are_named(make: Any, shape: tuple[int, ...], layer: str, op: str | None,
                                      advice: str) -> None:
    from edgecraft.optimize import check

    report = check(make(), np.zeros(shape, np.float32), "nano33ble")
    assert not report.ok and report.profile is None
    hits = [i for i in report.issues if i.layer == layer and not i.fixable]
    assert hits, report.issues
    if op is not None:
        assert hits[0].op == op
    assert any(advice in i.suggestion for i in hits)
