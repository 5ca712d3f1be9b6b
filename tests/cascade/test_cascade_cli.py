"""``edgecraft cascade sweep`` end to end on a trained --quick gesture application, with the
cloud as another int8 model, as a float PyTorch factory, and fed the edge model's embedding."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.torch, pytest.mark.xdist_group("cascade-gesture")]  # one worker trains the app once

FACTORY = """
import json, pathlib, torch

class Constant(torch.nn.Module):
    '''Always class 0; notes the width of what it was fed.'''
    def forward(self, x):
        pathlib.Path({seen!r}).write_text(json.dumps(list(x.shape)))
        out = torch.zeros(len(x), {classes})
        out[:, 0] = 10.0
        return out

def build():
    return Constant()
"""


def edgecraft(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgecraft", *args], capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def gesture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    d = tmp_path_factory.mktemp("cascade") / "gesture"
    assert edgecraft("app", "new", "gesture", str(d)).returncode == 0
    r = edgecraft("train", str(d), "--quick", "--format", "json")
    assert r.returncode == 0, r.stderr
    return d, json.loads(r.stdout)


def test_sweep_with_itself_as_cloud_and_a_budget(
    gesture: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    d, trained = gesture
    plot = tmp_path / "curves.png"
    r = edgecraft(
        "cascade",
        "sweep",
        str(d),
        "--edge",
        str(d),
        "--cloud",
        str(d / "build-quick" / "model.tflite"),
        "--link",
        "lora",
        "--rate",
        "0.01",
        "--budget",
        "accuracy=0",
        "--plot",
        str(plot),
        "--format",
        "json",
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    pts = out["points"]
    acc = trained["metrics"]["accuracy"]
    # the same int8 model on both sides: every threshold gives the edge's (= train's) accuracy
    assert out["edge"]["accuracy"] == out["cloud"]["accuracy"] == pytest.approx(acc, abs=1e-4)
    assert {p["accuracy"] for p in pts} == {out["edge"]["accuracy"]}
    assert pts[0]["escalated"] == 0 and pts[-1]["escalated"] == 1 and len(pts) >= 3
    assert [p["escalated"] for p in pts] == sorted(p["escalated"] for p in pts)
    assert pts[0]["bytes_per_hour"] == 0 and pts[0]["radio_mj"] == 0
    frames = -(-out["payload_bytes"] // 222)
    assert pts[-1]["bytes_per_hour"] == pytest.approx(36 * (out["payload_bytes"] + 13 * frames), abs=0.1)
    assert out["chosen"]["escalated"] == 0  # accuracy=0 is met without sending anything
    assert out["edge"]["board"] == "nano33ble" and out["edge"]["latency_ms"] > 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_float_pytorch_cloud_on_features_and_on_the_embedding(
    gesture: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    d, trained = gesture
    seen = tmp_path / "seen.json"
    model = tmp_path / "cloud.py"
    model.write_text(FACTORY.format(seen=str(seen), classes=len(trained["labels"])))
    support = trained["metrics"]["per_class"][trained["labels"][0]]["support"]
    for send in ("features", "embedding"):
        r = edgecraft(
            "cascade",
            "sweep",
            str(d),
            "--edge",
            str(d),
            "--cloud",
            f"{model}:build",
            "--send",
            send,
            "--confidence",
            "margin",
            "--budget",
            "bandwidth=1e12",
            "--format",
            "json",
        )
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        n = out["samples"]
        # all escalated: the constant cloud's answer, right exactly on class 0's test samples
        assert out["cloud"]["accuracy"] == pytest.approx(support / n, abs=1e-6)
        assert out["points"][-1]["accuracy"] == pytest.approx(support / n, abs=1e-6)
        assert out["points"][0]["accuracy"] == out["edge"]["accuracy"]
        shape = json.loads(seen.read_text())
        assert shape[0] == n
        if send == "embedding":  # int8 activations entering the last layer, one byte each
            assert shape[1:] == [out["payload_bytes"]]
        # no bandwidth limit: the most accurate point
        assert out["chosen"]["accuracy"] == max(p["accuracy"] for p in out["points"])


def test_a_cloud_that_cannot_take_the_embedding_is_one_error(gesture: tuple[Path, dict[str, Any]]) -> None:
    d, _ = gesture
    r = edgecraft("cascade", "sweep", str(d), "--edge", str(d), "--cloud", str(d), "--send", "embedding")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("error: the cloud model") and r.stderr.count("\n") == 1, r.stderr


@pytest.mark.toolchain
def test_device_latency_from_counted_cycles(gesture: tuple[Path, dict[str, Any]]) -> None:
    d, _ = gesture
    outs = []
    for extra in ([], ["--cycles"]):
        r = edgecraft(
            "cascade",
            "sweep",
            str(d),
            "--edge",
            str(d),
            "--cloud",
            str(d),
            "--send",
            "raw",
            "--steps",
            "2",
            "--format",
            "json",
            *extra,
        )
        assert r.returncode == 0, r.stderr
        outs.append(json.loads(r.stdout))
    model, counted = outs[0]["edge"], outs[1]["edge"]
    assert "counted on QEMU" in counted["source"] and "counted on QEMU" not in model["source"]
    assert counted["latency_ms"] > 0 and counted["latency_ms"] != model["latency_ms"]
    assert counted["energy_mj"] == pytest.approx(counted["active_mw"] * counted["latency_ms"] / 1000)
    # raw: the 16-bit samples of one window, the same for both
    assert outs[0]["payload_bytes"] == outs[1]["payload_bytes"] > 0
