"""Every command that takes a model takes the .onnx export too, with the same answers as the
.tflite: inspect, run, plan, profile, build, emulate (QEMU) and stream."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.io import wavfile

from edgecraft.cli.app import main
from edgecraft.formats import write_tflite
from edgecraft.formats.onnx_write import write_onnx
from edgecraft.models.synthetic import tiny_mlp
from edgecraft.runtime import run_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "device"))
from stream_models import tone_detector, tone_recording


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    with pytest.raises(SystemExit) as e:
        main([*args, "--format", "json"])
    captured = capsys.readouterr()
    assert e.value.code == 0, captured.err
    return dict(json.loads(captured.out))


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("both")
    for name, graph in (("mlp", tiny_mlp()), ("tone", tone_detector())):
        (d / f"{name}.tflite").write_bytes(write_tflite(graph))
        write_onnx(graph, d / f"{name}.onnx")
    wavfile.write(d / "bursts.wav", 16000, tone_recording([2.0, 5.0], 7.0))
    np.save(d / "x.npy", np.random.default_rng(0).integers(-128, 128, (1, 16)).astype(np.int8))
    return d


def test_inspect_plan_profile_build_agree(models: Path, capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    for args in (["inspect"], ["plan"], ["profile", "--target", "nano33ble"]):
        a = _json(capsys, args[0], str(models / "tone.tflite"), *args[1:])
        b = _json(capsys, args[0], str(models / "tone.onnx"), *args[1:])
        for key in ("ops", "macs", "weights_bytes", "arena_bytes", "ram_bytes", "flash_bytes", "latency_ms"):
            assert a.get(key) == b.get(key), (args[0], key)
    built = _json(capsys, "build", str(models / "tone.onnx"), "--target", "nano33ble",
                  "--out", str(tmp_path / "fw"))
    assert built["files"] and (tmp_path / "fw").is_dir()


def test_stream_detections_agree(models: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--wav", str(models / "bursts.wav"), "--features", "kws-mfcc", "--labels", "noise,tone"]
    a = _json(capsys, "stream", str(models / "tone.tflite"), *args)
    b = _json(capsys, "stream", str(models / "tone.onnx"), *args)
    assert a["detections"] == b["detections"] and [d["label"] for d in a["detections"]] == ["tone", "tone"]


@pytest.mark.toolchain
def test_run_and_emulate_the_onnx_model(models: Path, capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    want = run_model(tiny_mlp(), [np.load(models / "x.npy")])[0]
    _json(capsys, "run", str(models / "mlp.onnx"), "--input", str(models / "x.npy"), "--output",
          str(tmp_path / "run.npy"))
    np.testing.assert_array_equal(np.load(tmp_path / "run.npy"), want)
    _json(capsys, "emulate", str(models / "mlp.onnx"), "--target", "qemu-m4",
          "--input", str(models / "x.npy"), "--output", str(tmp_path / "qemu.npy"))
    np.testing.assert_array_equal(np.load(tmp_path / "qemu.npy").reshape(want.shape), want)
