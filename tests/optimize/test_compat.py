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
    assert report.issues == []  # SOFTMAX is annotated int8 (fixed 1/256 grid) from the start
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
    LSTM and `y[:, -1]` are int8 now: not listed); the fit verdict although ops fail; stdout is
    one JSON object and stderr is empty (fd-level: the converter's C++ output included)."""
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
    assert set(by_layer) == {"act"}, info["issues"]  # the LSTM and y[:, -1] are int8 now
    gelu = by_layer["act"]
    assert gelu["module"] == "GELU" and gelu["op"] == "GELU" and "nn.ReLU" in gelu["suggestion"]
    for i in info["issues"]:
        assert i["layer"] != "?" and i["source"].startswith("lstm.py:")
        assert "CONV_2D" not in i["suggestion"]  # no TFLite op lists as advice
    fit = info["profile"]
    assert fit["board"] == "qemu-m0" and fit["estimated"] and fit["fits"] is False
    assert fit["weights_bytes"] > 256 * 1024 and fit["flash_bytes"] > fit["capacity"]["flash_bytes"]
    assert fit["culprits"][0]["name"] in ("wide.weight", "out.weight")


def test_masked_attention_is_named_with_a_fix() -> None:
    """Attention called with a mask stays float (its int8 form runs the original module): the
    issue names the user's layer (not the internal copy), its line, and a fix."""
    import torch

    from edgecraft.optimize import check

    class Masked(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attn = torch.nn.MultiheadAttention(8, 2, batch_first=True)
            self.register_buffer("mask", torch.triu(torch.ones(4, 4, dtype=torch.bool), 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.attn(x, x, x, attn_mask=self.mask)[0].mean(1)

    report = check(Masked(), torch.zeros(1, 4, 8))
    assert not report.ok
    found = [i for i in report.issues if not i.fixable]
    assert found and {i.layer for i in found} == {"attn"}, report.issues
    assert found[0].module == "MultiheadAttention" and "without a mask" in found[0].suggestion
    assert found[0].source.endswith("attn_mask=self.mask)[0].mean(1)")
