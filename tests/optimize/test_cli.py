"""``edgecraft quantize`` and ``edgecraft check`` as users run them: a model file, weights, data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgecraft.formats import read_tflite
from edgecraft.optimize import float_ops

MODEL_PY = """
from edgecraft.models.digits import digits_cnn

INPUT_SHAPE = (1, 1, 8, 8)


def make():
    return digits_cnn(width=4, size=8)
"""


def edgecraft(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edgecraft", *args], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def user_files(tmp_path: Path, tiny_cnn: Any, digits: Any) -> Path:
    import torch

    (tmp_path / "model.py").write_text(MODEL_PY)
    torch.save(tiny_cnn.state_dict(), tmp_path / "w.pt")
    np.save(tmp_path / "calib.npy", digits.x_train[:96])
    return tmp_path


def in_process(*args: str) -> Any:
    """The command inside this process (torch is loaded already: saves seconds per call)."""
    from typer.testing import CliRunner

    from edgecraft.cli.app import app

    return CliRunner().invoke(app, list(args))


@pytest.mark.torch
def test_quantize_command(user_files: Path) -> None:
    out = user_files / "m.tflite"
    r = in_process("quantize", f"{user_files}/model.py:make", "--weights", str(user_files / "w.pt"),
                  "--calibration", str(user_files / "calib.npy"), "--out", str(out), "--format", "json")
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["out"] == str(out) and info["agreement"] >= 0.9 and 0 <= info["max_abs_error"] < 0.5
    assert info["samples"] == 24 and info["layers"]
    g = read_tflite(out)
    assert not float_ops(g) and g.input_tensors()[0].dtype == "int8"


@pytest.mark.torch
def test_check_command(user_files: Path) -> None:
    r = in_process("check", f"{user_files}/model.py:make", "--target", "nano33ble", "--format", "json")
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["ok"] and info["profile"]["fits"] and info["input_shape"] == [1, 1, 8, 8]


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    np.save(tmp_path / "c.npy", np.zeros((4, 1, 8, 8), np.float32))
    r = edgecraft("quantize", "model.onnx", "--calibration", str(tmp_path / "c.npy"), "--out", "m.tflite")
    assert r.returncode == 2 and r.stderr.startswith("error:") and "cannot read model.onnx" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = edgecraft("quantize", "nowhere.py:make", "--calibration", str(tmp_path / "missing.npy"),
                  "--out", "m.tflite")
    assert r.returncode == 2 and "missing.npy" in r.stderr
    r = edgecraft("check", "nowhere.py:make", "--target", "no-such-board")
    assert r.returncode == 2 and "unknown board" in r.stderr


@pytest.mark.torch
def test_quantize_errors_start_with_the_file(user_files: Path) -> None:
    np.save(user_files / "wrong.npy", np.zeros((8, 3, 8, 8), np.float32))
    r = in_process("quantize", f"{user_files}/model.py:make", "--calibration", str(user_files / "wrong.npy"),
                   "--out", str(user_files / "m.tflite"))
    assert r.exit_code != 0 and str(r.exception).startswith(f"{user_files}/model.py: the model does not take")
    r = in_process("quantize", f"{user_files}/model.py:make", "--weights", str(user_files / "no.pt"),
                   "--calibration", str(user_files / "calib.npy"), "--out", str(user_files / "m.tflite"))
    assert str(r.exception).startswith(f"{user_files}/no.pt: no such weights file")
