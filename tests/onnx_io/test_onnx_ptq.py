"""Float ONNX models through edgecraft's IR-level PTQ: calibrated on samples, per-channel
symmetric int8 weights, int32 biases, TFLM's fixed softmax/logistic outputs; the int8 model runs
in TFLite Micro bit for bit like edgecraft and agrees with ONNX Runtime's float run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from edgecraft.cli.app import main
from edgecraft.formats import read_tflite
from edgecraft.formats.onnx_read import read_onnx
from edgecraft.optimize.ir_ptq import quantize_graph, quantize_onnx
from oracle import check_tflm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from onnx_support import dense_model, helper_model, torch_cnn_onnx


@pytest.fixture(scope="module")
def cnn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    d = tmp_path_factory.mktemp("ptq")
    calib = torch_cnn_onnx(d / "cnn.onnx", seed=1)
    return d / "cnn.onnx", calib


def test_ptq_of_a_pytorch_export_agrees_with_onnx_runtime(cnn: tuple[Path, np.ndarray]) -> None:
    graph, report = quantize_onnx(str(cnn[0]), cnn[1])
    assert report["samples"] == 4 and report["agreement"] == 1.0
    assert report["max_abs_error"] is not None and report["max_abs_error"] < 0.05
    types = [op.type for op in graph.operators]
    assert "RELU" not in types and "SOFTMAX" in types  # ReLU fused into the convolutions
    for op in graph.operators:
        if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            w, b = graph.tensors[op.inputs[1]], graph.tensors[op.inputs[2]]
            assert w.dtype == "int8" and w.quant.per_channel and not np.any(w.quant.zero_point)
            assert b.dtype == "int32"
    out = graph.output_tensors()[0]
    assert (out.scale, out.zero_point) == (1 / 256, -128)
    t = graph.input_tensors()[0]
    q = np.clip(np.round(cnn[1][:2] / t.scale) + t.zero_point, -128, 127).astype(np.int8)
    check_tflm(graph, [q[:1].reshape(t.shape)], "PTQ of the PyTorch export")


def test_ptq_of_a_helper_model_runs_in_tflm(tmp_path: Path) -> None:
    calib = helper_model(tmp_path / "f.onnx")
    graph = quantize_graph(read_onnx(tmp_path / "f.onnx"), calib)
    types = {op.type for op in graph.operators}
    assert {"PAD", "CONV_2D", "LOGISTIC", "CONCATENATION", "AVERAGE_POOL_2D"} <= types
    t = graph.input_tensors()[0]
    q = np.clip(np.round(calib[0] / t.scale) + t.zero_point, -128, 127).astype(np.int8).reshape(t.shape)
    check_tflm(graph, [q], "PTQ of the helper model")


def test_ptq_quantizes_what_onnx_runtime_leaves_in_float(tmp_path: Path) -> None:
    calib = dense_model(tmp_path / "f.onnx", float_only_ops=True)
    graph, report = quantize_onnx(str(tmp_path / "f.onnx"), calib)
    assert {"HARD_SWISH", "MEAN", "FULLY_CONNECTED", "ADD"} <= {op.type for op in graph.operators}
    t = graph.input_tensors()[0]
    q = np.clip(np.round(calib[:1] / t.scale) + t.zero_point, -128, 127).astype(np.int8)
    check_tflm(graph, [q], "PTQ of the dense model")
    assert report["max_abs_error"] is not None and report["max_abs_error"] < 0.1


def test_quantize_command_takes_onnx(cnn: tuple[Path, np.ndarray], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "c.npy", cnn[1])
    with pytest.raises(SystemExit) as e:
        main(["quantize", str(cnn[0]), "--calibration", str(tmp_path / "c.npy"), "--out",
              str(tmp_path / "m.tflite"), "-f", "json"])
    assert e.value.code == 0
    info = json.loads(capsys.readouterr().out)
    assert info["out"] == str(tmp_path / "m.tflite") and info["agreement"] == 1.0
    assert 0 < info["max_abs_error"] < 0.05
    assert [op.type for op in read_tflite(tmp_path / "m.tflite").operators] == info["ops"]
