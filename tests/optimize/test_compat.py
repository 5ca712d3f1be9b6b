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


LSTM_MODEL = """
import torch
from torch import nn

INPUT_SHAPE = (1, 3, 8)


class Lstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 8, batch_first=True)
        self.wide = nn.Linear(8, 20000)  # 320 KB of int8 weights and biases: over the micro:bit's flash
        self.act = nn.GELU()
        self.out = nn.Linear(20000, 4)

    def forward(self, x):
        y = self.lstm(x)[0]
        return self.out(self.act(self.wide(y[:, -1])))


def make():
    return Lstm()
"""


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch.export's note on LSTM flat weights
def test_check_speaks_pytorch_and_always_gives_the_fit(tmp_path: Any) -> None:
    """Each failing layer: module path, source line, reason and a fix in PyTorch terms (the
    `y[:, -1]` is not blamed on the LSTM); the fit verdict although ops fail; stdout is one
    JSON object and stderr is empty (fd-level: the converter's C++ output included)."""
    import json
    import subprocess
    import sys

    (tmp_path / "lstm.py").write_text(LSTM_MODEL)
    r = subprocess.run([sys.executable, "-m", "edgecraft", "check", f"{tmp_path}/lstm.py:make",
                        "--target", "qemu-m0", "--format", "json"], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    info = json.loads(r.stdout)
    assert not info["ok"]
    by_layer = {i["layer"]: i for i in info["issues"] if not i["fixable"]}
    assert set(by_layer) == {"lstm", "act"}, info["issues"]  # y[:, -1] is an int8 SLICE now
    lstm, gelu = by_layer["lstm"], by_layer["act"]
    assert lstm["module"] == "LSTM" and lstm["source"].endswith("y = self.lstm(x)[0]")
    assert "Conv1d" in lstm["suggestion"]
    assert gelu["module"] == "GELU" and gelu["op"] == "GELU" and "nn.ReLU" in gelu["suggestion"]
    for i in info["issues"]:
        assert i["layer"] != "?" and i["source"].startswith("lstm.py:")
        assert "CONV_2D" not in i["suggestion"]  # no TFLite op lists as advice
    fit = info["profile"]
    assert fit["board"] == "qemu-m0" and fit["estimated"] and fit["fits"] is False
    assert fit["weights_bytes"] > 256 * 1024 and fit["flash_bytes"] > fit["capacity"]["flash_bytes"]
    assert fit["culprits"][0]["name"] in ("wide.weight", "out.weight")


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch.export's note on LSTM flat weights
def test_a_slice_in_forward_is_not_blamed_on_the_lstm() -> None:
    """`y[:, -1]` in the model's own forward: located at its line, as indexing (not "a computed
    size inside an LSTM"), with a fix in PyTorch terms (no conversion needed: the exported graph)."""
    import torch

    from edgecraft.optimize.advice import advise, locate, scope_paths, sites
    from edgecraft.optimize.pt2e import export

    class Last(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(4, 4, batch_first=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.lstm(x)[0]
            return y[:, -1]

    model = Last().eval()
    found = sites(export(model, torch.zeros(2, 3, 4)))
    root = f"{type(model).__module__}.{type(model).__qualname__}"
    site = locate("SLICE", f"{root};1", model, scope_paths(model), found)
    assert (site.path, site.module, site.target) == ("", "Last", "select")
    assert site.source.endswith("return y[:, -1]") and site.source.startswith("test_compat.py:")
    reason, fix = advise("SLICE", site)
    assert "y[:, -1]" in reason and "LSTM" not in reason and "mean(1)" in fix
    inner = locate("MUL", f"{root}/torch.nn.modules.rnn.LSTM_lstm;7", model, scope_paths(model), found)
    assert (inner.path, inner.module) == ("lstm", "LSTM") and inner.source.endswith("self.lstm(x)[0]")
