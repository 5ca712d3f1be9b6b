"""The fleet takes an int8 .onnx wherever a user hands it a model file (``serve --cloud-model``,
``publish``, ``simulate --model``) through ``formats.read_model``; devices still get a .tflite."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from edgecraft.cli.app import app
from edgecraft.device.cascade import CascadeError
from edgecraft.fleet.artifacts import model_file_bytes
from edgecraft.fleet.client import FleetError
from edgecraft.fleet.infer import Cloud, CloudModel, encode
from edgecraft.fleet.sim import IN_SCALE, classifier_model, task_weights
from edgecraft.formats import read_tflite_bytes
from edgecraft.formats.onnx_write import write_onnx
from edgecraft.runtime import Interpreter


def _models(tmp_path: Path, **kw: Any) -> tuple[bytes, Path]:
    """An int8 classifier as .tflite bytes and the same graph written as an ONNX QDQ file."""
    tfl = classifier_model(task_weights(), **kw)
    onnx = tmp_path / "m.onnx"
    write_onnx(read_tflite_bytes(tfl), onnx)
    return tfl, onnx


def test_an_onnx_file_becomes_the_tflite_devices_run(tmp_path: Path) -> None:
    tfl, onnx = _models(tmp_path)
    data = model_file_bytes(onnx)
    assert data[4:8] == b"TFL3"
    q = np.random.default_rng(1).integers(-128, 128, (32, 16)).astype(np.int8)  # the model's batch
    got = Interpreter(read_tflite_bytes(data)).run([q])[0]
    assert np.array_equal(got, Interpreter(read_tflite_bytes(tfl)).run([q])[0])
    plain = tmp_path / "m.tflite"
    plain.write_bytes(tfl)
    assert model_file_bytes(plain) == tfl  # a .tflite travels as it is


def test_an_onnx_cloud_model_answers_as_its_tflite(tmp_path: Path) -> None:
    tfl, onnx = _models(tmp_path, batch=1, hidden=32)
    path = tmp_path / "cloud.tflite"
    path.write_bytes(tfl)
    q = np.random.default_rng(3).integers(-127, 128, (5, 16)).astype(np.int8)
    s1, want, _ = Cloud(CloudModel(str(path))).answer("dev-0", encode(q, IN_SCALE, 0))
    s2, got, _ = Cloud(CloudModel(str(onnx))).answer("dev-0", encode(q, IN_SCALE, 0))
    assert s1 == s2 == 200 and got["classes"] == want["classes"]
    assert got["probabilities"] == want["probabilities"]


def test_a_float_onnx_cloud_model_is_one_line_saying_what_to_do(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(task_weights().T.astype(np.float32), "w")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "float_cloud",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
    path = tmp_path / "float.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(CascadeError) as e:
        CloudModel(str(path))
    assert "\n" not in str(e.value) and "`edgecraft quantize" in str(e.value)


@pytest.mark.broker
def test_serve_publish_and_simulate_take_an_onnx(tmp_path: Path, server_factory: Callable[..., Any]) -> None:
    onnx = _models(tmp_path)[1]
    state = tmp_path / "state"
    server = server_factory(state, "--port", "0", "--cloud-model", str(onnx))
    opts = ["--state-dir", str(state), "--format", "json"]
    run = CliRunner()
    res = run.invoke(app, ["fleet", "publish", str(onnx), "--version", "1.0.0", "--c-library", *opts])
    assert res.exit_code == 0, res.output
    pub = json.loads(res.stdout)
    assert {"firmware/model.c", "model.tflite"} <= set(pub["files"])
    # the API takes .tflite bytes only: ONNX bytes are one line naming the command that converts
    with pytest.raises(FleetError) as e:
        server.client.publish(onnx.read_bytes(), "1.0.1")
    assert "`edgecraft fleet publish M.onnx`" in str(e.value) and "\n" not in str(e.value)

    creds = tmp_path / "devices.json"
    res = run.invoke(app, ["fleet", "provision", "--count", "1", "--out", str(creds), *opts])
    assert res.exit_code == 0, res.output
    root = tmp_path / "devices"
    res = run.invoke(app, ["fleet", "simulate", "--model", str(onnx), "--version", "1.0.0", "--credentials",
                           str(creds), "--root", str(root), "--duration", "0.5", "--format", "json"])
    assert res.exit_code == 0, res.output
    installed = list(root.rglob("model.tflite"))
    assert len(installed) == 1 and installed[0].read_bytes() == model_file_bytes(onnx)
    assert server.proc.poll() is None
