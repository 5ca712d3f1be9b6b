"""`edgecraft plan`, `profile` and `boards` as a user calls them: JSON contract, tables, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edgecraft.cli.app import main
from edgecraft.formats import write_tflite
from edgecraft.models.synthetic import small_cnn
from edgecraft.plan import ALGORITHMS
from oracle import conformance_model


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def edgecraft(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """The CLI entry point in this process (``main()``, error handling included): a subprocess
    per call costs seconds of imports; one end-to-end subprocess test is below."""

    def call(*args: str) -> Result:
        monkeypatch.setattr(sys, "argv", ["edgecraft", *args])
        code = 0
        try:
            main()
        except SystemExit as e:
            code = int(e.code or 0)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return call


def test_entry_point_end_to_end(cnn_file: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "edgecraft", "profile", str(cnn_file), "--target", "uno"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("error: unknown board 'uno'")


@pytest.fixture(scope="module")
def cnn_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("m") / "cnn.tflite"
    path.write_bytes(write_tflite(small_cnn()))
    return path


def test_plan_json_contract_and_plot(edgecraft, cnn_file: Path, tmp_path: Path) -> None:
    png = tmp_path / "arena.png"
    r = edgecraft("plan", str(cnn_file), "--algorithm", "greedy", "--plot", str(png), "--format", "json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert {"arena_bytes", "persistent_bytes", "lower_bound_bytes", "algorithm", "tensors"} <= set(info)
    assert info["algorithm"] == "greedy" and info["alignment"] == 16 and info["overlaps"] == []
    assert [a["algorithm"] for a in info["algorithms"]] == list(ALGORITHMS)
    t = info["tensors"][0]
    assert {"offset", "size", "first", "last"} <= set(t)
    assert max(t["offset"] + t["size"] for t in info["tensors"]) == info["arena_bytes"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and info["plot"] == str(png)


def test_plan_table_and_alignment(edgecraft, cnn_file: Path) -> None:
    r = edgecraft("plan", str(cnn_file), "--alignment", "64")
    assert r.returncode == 0, r.stderr
    assert "patch plan, alignment 64" in r.stdout and "lower bound" in r.stdout


def test_plan_with_the_dsp_kernels_places_their_scratch(edgecraft, cnn_file: Path) -> None:
    plans = {}
    for kernels in ("portable", "dsp"):
        r = edgecraft("plan", str(cnn_file), "--kernels", kernels, "--format", "json")
        assert r.returncode == 0, r.stderr
        plans[kernels] = json.loads(r.stdout)
    assert not [t for t in plans["portable"]["tensors"] if t["kind"] == "scratch"]
    scratch = [t for t in plans["dsp"]["tensors"] if t["kind"] == "scratch"]
    assert scratch and all(t["first"] == t["last"] for t in scratch) and plans["dsp"]["kernels"] == "dsp"
    r = edgecraft("plan", str(cnn_file), "--kernels", "neon")
    assert r.returncode == 2 and r.stderr.startswith("error: unknown kernel variant 'neon'"), r.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["plan", "{m}", "--algorithm", "best"],
     "error: unknown algorithm 'best'; choose one of: greedy, inplace"),
    (["plan", "{m}", "--alignment", "0"], "error: alignment must be a number of bytes from 1 to 4096"),
    (["plan", "{m}", "--plot", "x.jpg"], "error: --plot writes a PNG image"),
    (["profile", "{m}", "--target", "uno"], "error: unknown board 'uno'; choose one of: nano33ble,"),
    (["profile", "missing.tflite", "--target", "pico"], "error:"),
])
def test_bad_input_is_one_line_exit_2(edgecraft, cnn_file: Path, args: list[str], message: str) -> None:
    r = edgecraft(*[a.replace("{m}", str(cnn_file)) for a in args])
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(message) and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_profile_one_board_json(edgecraft, cnn_file: Path) -> None:
    r = edgecraft("profile", str(cnn_file), "--target", "nano33ble", "--format", "json")
    assert r.returncode == 0, r.stderr
    p = json.loads(r.stdout)
    assert {"ram_bytes", "flash_bytes", "arena_bytes", "macs", "latency_ms", "energy_uj", "fits",
            "board"} <= set(p)
    assert p["board"] == "nano33ble" and p["fits"] is True and p["parts"]["ram"]["arena"] == p["arena_bytes"]


def test_profile_all_table_and_json(edgecraft, cnn_file: Path) -> None:
    r = edgecraft("profile", str(cnn_file), "--target", "all", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert len(data["profiles"]) == 17 and {p["board"] for p in data["profiles"]} >= {"pico", "qemu-m55"}
    r = edgecraft("profile", str(cnn_file), "--target", "stm32f746-disco")
    assert r.returncode == 0 and "fits" in r.stdout and "estimate" in r.stdout


def test_boards_json_and_table(edgecraft) -> None:
    r = edgecraft("boards", "--format", "json")
    assert r.returncode == 0, r.stderr
    boards = json.loads(r.stdout)["boards"]
    assert [b["slug"] for b in boards][:3] == ["nano33ble", "esp32", "esp32s3"]
    assert all(b["sources"]["clock_mhz"] for b in boards)
    r = edgecraft("boards")
    assert r.returncode == 0 and "qemu-m0" in r.stdout


@pytest.mark.conformance
def test_profile_culprits_for_a_model_that_does_not_fit(edgecraft) -> None:
    path = conformance_model("vww_96_int8")
    r = edgecraft("profile", str(path), "--target", "qemu-m0", "--format", "json")
    p = json.loads(r.stdout)
    assert r.returncode == 0 and p["fits"] is False and p["culprits"][0]["bytes"] == 36_864
    r = edgecraft("profile", str(path), "--target", "qemu-m0")
    assert "does NOT fit" in r.stdout and "culprit" in r.stdout
