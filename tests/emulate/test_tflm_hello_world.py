"""TFLM's own hello-world model (``sine_float.tflite``, shipped inside the tflite-micro wheel the
tests compare against): read as a user's file, run in edgecraft's runtime, compiled to C on the
host and on QEMU's Cortex-M4, each within 1e-5 of TFLM running the same file."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel
from edgecraft.emulate import emulate
from edgecraft.formats import read_tflite
from edgecraft.reference import run_tflm
from edgecraft.runtime import run_model


def _sine_model() -> Path:
    tflm = pytest.importorskip("tflite_micro")
    path = Path(tflm.__file__).parent / "python" / "tflite_micro" / "sine_float.tflite"
    if not path.exists():
        pytest.skip(f"TFLM's hello-world model is not in this tflite-micro wheel ({path})")
    return path


def test_tflm_hello_world_runs_in_the_runtime_on_the_host_and_on_qemu() -> None:
    path = _sine_model()
    graph = read_tflite(path)
    assert [op.type for op in graph.operators] == ["FULLY_CONNECTED"] * 3
    xs = np.linspace(0.0, 2 * np.pi, 9, dtype=np.float32).reshape(9, 1, 1)
    want = np.stack([run_tflm(path.read_bytes(), [x])[0] for x in xs])
    ours = np.stack([run_model(graph, [x])[0] for x in xs])
    np.testing.assert_allclose(ours, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(want.ravel(), np.sin(xs.ravel()), atol=0.15)  # it learned sin(x)
    host = HostModel(generate(graph, "sine")).run_batch([xs])[0]
    np.testing.assert_allclose(host.reshape(want.shape), want, rtol=1e-5, atol=1e-6)
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
        pytest.skip("needs gcc-arm-none-eabi and qemu-system-arm (scripts/setup.sh installs them)")
    qemu = emulate(graph, "qemu-m4", [xs], name="sine").outputs[0]
    np.testing.assert_allclose(qemu.reshape(want.shape), want, rtol=1e-5, atol=1e-6)
