"""`edgecraft emulate` through the real command line: the JSON keys of the CLI contract, outputs
written to a file, and one-line errors with exit code 2 for user mistakes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from codegen.cases import too_big_for_m0
from edgecraft.formats import write_tflite
from edgecraft.models.synthetic import small_cnn
from edgecraft.runtime import run_model

pytestmark = pytest.mark.toolchain


def edgecraft(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edgecraft", *args], capture_output=True, text=True,
                          timeout=300)


def test_emulate_json_contract_and_output_file(tmp_path: Path) -> None:
    graph = small_cnn(seed=3)
    model = tmp_path / "cnn.tflite"
    model.write_bytes(write_tflite(graph))
    x = np.random.default_rng(0).integers(-128, 128, (1, 32, 32, 3)).astype(np.int8)
    np.save(tmp_path / "x.npy", x)
    proc = edgecraft("emulate", str(model), "--target", "qemu-m7", "--input", str(tmp_path / "x.npy"),
                     "--output", str(tmp_path / "y.npy"), "--per-op", "--board", "stm32f746-disco",
                     "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    for key in ("instructions", "flash_bytes", "ram_bytes", "stack_bytes", "machine", "output_file"):
        assert key in data
    assert data["machine"] == "mps2-an500" and data["matches_reference"] is True
    assert data["instructions"] > 0 and 0 < data["macs_per_instruction"] < 2
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), run_model(graph, [x])[0])
    ops = data["ops"]  # --per-op: one entry per operator, adding up to the whole inference
    assert [o["type"] for o in ops] and len(ops) == len(graph.operators)
    assert all(o["instructions"] > 0 for o in ops if o["type"] != "RESHAPE")
    assert 0.98 * data["instructions"] < sum(o["instructions"] for o in ops) <= data["instructions"]
    # --board: the counted classes priced with the board's core and flash, at its clock
    assert data["board"] == "stm32f746-disco" and data["instruction_classes"]["total"] == data["instructions"]
    assert data["cycles"] == data["cycle_model"]["cycles"] > 0.3 * data["instructions"]
    assert data["latency_ms"] == pytest.approx(data["cycles"] / 216e3, rel=1e-3)
    assert data["energy_uj"] > 0 and data["energy_per_day_j"] > 0


def test_profile_emulate_prices_counted_cycles(tmp_path: Path) -> None:
    model = tmp_path / "cnn.tflite"
    model.write_bytes(write_tflite(small_cnn(seed=3)))
    proc = edgecraft("profile", str(model), "--target", "nano33ble", "--emulate", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    est = data["estimates"]
    assert "cycle model" in est["basis"] and est["cycle_model"]["core"] == "cortex-m4f"
    assert data["latency_ms"] == pytest.approx(est["cycles"] / 64e3, rel=1e-3)
    assert data["energy_uj"] == pytest.approx(data["latency_ms"] * 9.9, rel=1e-3)


def test_emulate_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    model, big = tmp_path / "cnn.tflite", tmp_path / "big.tflite"
    model.write_bytes(write_tflite(small_cnn(seed=3)))
    big.write_bytes(write_tflite(too_big_for_m0()))
    np.save(tmp_path / "x.npy", np.zeros((1, 32, 32, 3), np.int8))
    np.save(tmp_path / "bad.npy", np.zeros((1, 8), np.int8))
    np.save(tmp_path / "a.npy", np.zeros((1, 32, 32, 16), np.int8))
    x, a, bad = (str(tmp_path / f) for f in ("x.npy", "a.npy", "bad.npy"))
    for path, args, expect in (
        (big, ["--target", "qemu-m0", "--input", a, "--input", a], "does not fit qemu-m0"),
        (model, ["--target", "qemu-m99", "--input", x], "no emulated machine"),
        (model, ["--target", "qemu-m4", "--board", "stm32f746-disco", "--input", x], "run on qemu-m7"),
        (model, ["--board", "esp32", "--input", x], "no cycle model for core 'xtensa-lx6'"),
        (model, ["--target", "qemu-m4", "--input", bad], "must have shape [1, 32, 32, 3]"),
    ):
        proc = edgecraft("emulate", str(path), *args)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("error: ") and expect in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_emulate_takes_a_batch_as_run_does(tmp_path: Path) -> None:
    """[N, 32, 32, 3] for a [1, 32, 32, 3] input: every sample runs on the board, outputs are
    [N, 10], equal to `edgecraft run` on the same file."""
    graph = small_cnn(seed=3)
    model = tmp_path / "cnn.tflite"
    model.write_bytes(write_tflite(graph))
    x = np.random.default_rng(2).integers(-128, 128, (2, 32, 32, 3)).astype(np.int8)
    np.save(tmp_path / "x.npy", x)
    proc = edgecraft("emulate", str(model), "--target", "qemu-m4", "--input", str(tmp_path / "x.npy"),
                     "--output", str(tmp_path / "y.npy"), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["samples"] == 2 and data["matches_reference"] is True
    assert data["outputs"][0]["shape"] == [2, 10]
    ran = edgecraft("run", str(model), "--input", str(tmp_path / "x.npy"), "--output",
                    str(tmp_path / "r.npy"))
    assert ran.returncode == 0, ran.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), np.load(tmp_path / "r.npy"))
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy")[1], run_model(graph, [x[1:2]])[0][0])
