"""`edgecraft inspect` and `edgecraft run` as a user calls them: JSON contract, tables, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgecraft.formats import write_tflite
from edgecraft.models.synthetic import small_cnn, tiny_mlp
from edgecraft.runtime import run_model


def edgecraft(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edgecraft", *args], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def mlp_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("m") / "mlp.tflite"
    path.write_bytes(write_tflite(tiny_mlp()))
    return path


def test_inspect_json_contract(tmp_path: Path) -> None:
    path = tmp_path / "cnn.tflite"
    path.write_bytes(write_tflite(small_cnn()))
    r = edgecraft("inspect", str(path), "--format", "json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["ops"] == ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D", "ADD", "CONV_2D",
                           "AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]
    assert info["inputs"] == [{"name": "input", "shape": [1, 32, 32, 3], "dtype": "int8",
                               "scale": 0.0078125, "zero_point": -1}]
    assert info["outputs"][0]["shape"] == [1, 10] and info["outputs"][0]["zero_point"] == -128
    # conv 16x16x16 outputs x 27 taps, depthwise x 9, pointwise x 16, ADD 1 per element,
    # conv 8x8x32 x 144, average pool 1 per input element, FC 32x10, softmax 2 per element.
    assert info["macs"] == (16 * 16 * 16 * 27 + 16 * 16 * 16 * 9 + 16 * 16 * 16 * 16 + 16 * 16 * 16
                            + 8 * 8 * 32 * 144 + 8 * 8 * 32 + 320 + 2 * 10)
    assert info["params"] > 0 and info["weights_bytes"] > info["params"]


def test_inspect_table(mlp_file: Path) -> None:
    r = edgecraft("inspect", str(mlp_file))
    assert r.returncode == 0 and "FULLY_CONNECTED" in r.stdout and "MACs" in r.stdout


def test_run_npy_and_json(mlp_file: Path, tmp_path: Path) -> None:
    x = np.random.default_rng(0).integers(-128, 128, (1, 16), dtype=np.int8)
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "y.npy"
    r = edgecraft("run", str(mlp_file), "--input", str(tmp_path / "x.npy"), "--output", str(out),
                  "--format", "json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["outputs"][0]["shape"] == [1, 4] and info["outputs"][0]["dtype"] == "int8"
    assert info["output_file"] == str(out)
    assert np.array_equal(np.load(out), run_model(tiny_mlp(), [x])[0])


def test_run_npz_by_name(mlp_file: Path, tmp_path: Path) -> None:
    x = np.zeros((1, 16), np.int8)
    np.savez(tmp_path / "x.npz", input=x)
    r = edgecraft("run", str(mlp_file), "--input", str(tmp_path / "x.npz"))
    assert r.returncode == 0, r.stderr
    assert "int8" in r.stdout


def test_run_wrong_shape_is_one_line_naming_expected(mlp_file: Path, tmp_path: Path) -> None:
    np.save(tmp_path / "bad.npy", np.zeros((1, 15), np.float32))
    r = edgecraft("run", str(mlp_file), "--input", str(tmp_path / "bad.npy"))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error:")
    assert "[1, 16]" in r.stderr and "int8" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("content", [b"", b"\x00" * 100, b"garbage that is not a model" * 10])
def test_bad_model_exit_2(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.tflite"
    path.write_bytes(content)
    for cmd in (["inspect", str(path)], ["run", str(path), "--input", str(path)]):
        r = edgecraft(*cmd)
        assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr


def test_truncated_model_exit_2(mlp_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "cut.tflite"
    path.write_bytes(mlp_file.read_bytes()[:300])
    r = edgecraft("inspect", str(path), "--format", "json")
    assert r.returncode == 2 and r.stdout == "" and r.stderr.startswith("error:")


def test_missing_file_exit_2(tmp_path: Path) -> None:
    r = edgecraft("inspect", str(tmp_path / "none.tflite"))
    assert r.returncode == 2 and "cannot read" in r.stderr


def test_run_batches_and_the_shapes_it_names(mlp_file: Path, tmp_path: Path) -> None:
    """A batch along a new leading axis ([N, 1, 16]) or in place of the leading 1 ([N, 16]):
    each sample runs, outputs come back in the same form; a wrong shape names both forms."""
    from typer.testing import CliRunner

    from edgecraft.cli.app import app

    x = np.random.default_rng(1).integers(-128, 128, (3, 1, 16), dtype=np.int8)
    want = np.stack([run_model(tiny_mlp(), [s])[0] for s in x])  # (3, 1, 4)
    for given, expect in ((x, want), (x[:, 0], want[:, 0])):
        np.save(tmp_path / "b.npy", given)
        r = CliRunner().invoke(app, ["run", str(mlp_file), "--input", str(tmp_path / "b.npy"),
                                     "--output", str(tmp_path / "y.npy")])
        assert r.exit_code == 0, r.output
        np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), expect)
    np.save(tmp_path / "bad.npy", np.zeros((3, 15), np.int8))
    r = CliRunner().invoke(app, ["run", str(mlp_file), "--input", str(tmp_path / "bad.npy")])
    assert str(r.exception) == ("input 'input' must have shape [1, 16] (one sample) or [N, 1, 16] or "
                                "[N, 16] (N samples) and dtype int8; got [3, 15] int8")
