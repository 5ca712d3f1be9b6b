"""A 16x8 model written with edgecraft's writer (float in and out, int16 activations, int8
weights, int64 bias) through the commands a user runs: inspect, run, plan, build, emulate; the
outputs of run and emulate equal TFLM's exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from codegen.cases import tflm_outputs
from edgecraft.formats import write_tflite
from int16_cases import int16_model


def edgecraft(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edgecraft", *args], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[np.ndarray]]:
    d = tmp_path_factory.mktemp("int16")
    graph = int16_model(seed=1)
    path = d / "model16.tflite"
    path.write_bytes(write_tflite(graph))
    x = (np.random.default_rng(3).standard_normal((3, 1, 8, 8, 1)) * 1.5).astype(np.float32)
    np.save(d / "x.npy", x)
    want = [tflm_outputs(graph, [x[b]])[0] for b in range(3)]
    return path, d / "x.npy", want


def test_inspect_run_and_plan(model: tuple[Path, Path, list[np.ndarray]], tmp_path: Path) -> None:
    path, x, want = model
    r = edgecraft("inspect", str(path), "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ops"] == ["QUANTIZE", "CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D",
                                           "RESHAPE", "FULLY_CONNECTED", "SOFTMAX", "DEQUANTIZE"]
    for extra in ([], ["--reference"]):
        r = edgecraft("run", str(path), "-i", str(x), "-o", str(tmp_path / "out.npy"), *extra)
        assert r.returncode == 0, r.stderr
        out = np.load(tmp_path / "out.npy")
        for b in range(3):
            assert np.array_equal(out[b], want[b]), (extra, b, out[b], want[b])
    r = edgecraft("plan", str(path), "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["arena_bytes"] > 0


def test_build_writes_the_int16_kernels(model: tuple[Path, Path, list[np.ndarray]], tmp_path: Path) -> None:
    path, _, _ = model
    r = edgecraft("build", str(path), "--target", "nano33ble", "--out", str(tmp_path / "proj"))
    assert r.returncode == 0, r.stderr
    sources = "".join(p.read_text() for p in (tmp_path / "proj").rglob("*.c"))
    for fn in ("ec_quantize_f32", "ec_conv_2d_s16", "ec_depthwise_conv_2d_s16", "ec_pool_s16",
               "ec_fully_connected_s16", "ec_softmax_s16", "ec_dequantize"):
        assert fn + "(" in sources, fn


@pytest.mark.toolchain
def test_emulate_matches_tflm(model: tuple[Path, Path, list[np.ndarray]], tmp_path: Path) -> None:
    path, x, want = model
    r = edgecraft("emulate", str(path), "-i", str(x), "-t", "qemu-m4", "-o", str(tmp_path / "em.npy"),
                  "--format", "json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["matches_reference"] is True
    out = np.load(tmp_path / "em.npy")
    for b in range(3):
        assert np.array_equal(out[b], want[b]), (b, out[b], want[b])
