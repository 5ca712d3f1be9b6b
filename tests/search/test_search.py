"""Hardware-aware search on a real local Ray (2 CPUs, no dashboard, 127.0.0.1): a gesture app at
a small size is searched, interrupted by its budget, resumed to the end, and its Pareto front
checked against the board (costs from a real build, measured before and after training); the
CLI, connected to the same cluster by --address, resumes the finished search and prints exactly
the contract's JSON; a board too small for an app prunes every candidate before training; an
address where no Ray listens fails at once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray")
pytest.importorskip("torch")

import edgecraft
from edgecraft.apps.templates import TEMPLATES
from edgecraft.formats import read_tflite
from edgecraft.search import SearchError, run_search
from edgecraft.targets import get_board

pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def ray_session() -> Iterator[None]:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    yield
    ray.shutdown()


def _app(root: Path, kind: str, replace: dict[str, str]) -> Path:
    text = TEMPLATES[kind].format(board="nano33ble")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    root.mkdir()
    (root / "app.toml").write_text(text)
    return root


def test_search_interrupted_resumed_and_on_the_board(ray_session: None, tmp_path: Path) -> None:
    app = _app(tmp_path / "gesture", "gesture", {'"training.epochs" = 12': '"training.epochs" = 4'})
    board = get_board("nano33ble")
    first = run_search(app, "nano33ble", trials=2, budget_minutes=0.001, quick=True, progress=False)
    assert first["budget_expired"] and first["trials"] < 2
    r = run_search(app, "nano33ble", trials=2, quick=True, progress=False, resume=True)
    # the resumed run trains both: the default to the end (never stopped), the other to the end
    # or stopped by successive halving against the default's score at the same epoch
    assert r["trials"] + r["unfinished"] == 2 and r["trials"] >= 1 and r["pruned_before_training"] == 0
    assert r["reference"] is not None and r["reference"]["config"]["default"] is True
    for t in r["results"]:  # measured from a real build before training, and again after
        assert {k: t["measured"][k] for k in ("ram_bytes", "flash_bytes", "stack_bytes")} == {
            k: t[k] for k in ("ram_bytes", "flash_bytes", "stack_bytes")
        }
        assert t["latency_ms"] == pytest.approx(t["measured"]["latency_ms"], rel=0.01)
        assert t["basis"].startswith("built with arm-none-eabi-gcc for qemu-m4")
    assert r["pareto"]
    for p in r["pareto"]:
        assert p["ram_bytes"] <= board.sram_bytes and p["flash_bytes"] <= board.flash_bytes
        assert 0 <= p["accuracy"] <= 1 and p["latency_ms"] > 0 and p["energy_uj"] > 0
        graph = read_tflite(p["model"])
        assert graph.input_tensors()[0].dtype == "int8"
        saved = json.loads((Path(p["model"]).parent / "result.json").read_text())
        assert saved["accuracy"] == p["accuracy"] and saved["ram_bytes"] == p["ram_bytes"]
    assert sorted(Path(p).name for p in r["plots"]) == ["accuracy_latency.png", "accuracy_ram.png"]
    models = sorted((Path(r["out"]) / "models").glob("*/model.tflite"))
    assert len(models) == r["trials"]
    stamps = [m.stat().st_mtime_ns for m in models]

    # a finished search resumed again, by the CLI on this Ray cluster (--address), trains nothing
    # and prints the same front as JSON
    import ray

    gcs = ray.get_runtime_context().gcs_address
    cmd = [sys.executable, "-m", "edgecraft", "search", str(app), "--target", "nano33ble", "--trials", "2"]
    proc = subprocess.run(
        [*cmd, "--quick", "--resume", "--address", gcs, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(Path(edgecraft.__file__).parents[1])},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout)
    assert list(got) == ["trials", "pruned_before_training", "pareto", "references"]
    assert got["trials"] == r["trials"] and got["pareto"] == r["pareto"]
    assert [p["name"] for p in got["references"]] == ["template default"]  # no MLPerf model for gestures
    assert got["references"][0]["config"]["default"] is True
    assert set(got["pareto"][0]) == {
        "accuracy",
        "latency_ms",
        "ram_bytes",
        "flash_bytes",
        "energy_uj",
        "model",
        "config",
    }
    assert [m.stat().st_mtime_ns for m in models] == stamps


def test_board_too_small_prunes_everything(ray_session: None, tmp_path: Path) -> None:
    # 49 x 40 log-mel energies into a DS-CNN at least 64 wide: 25 x 20 x 64 bytes after the
    # first convolution alone, more than qemu-m0's 16 KiB of RAM
    app = _app(
        tmp_path / "ww",
        "wakeword",
        {'preset = "kws-log-mel"': 'preset = "str-ww-lfbe"', 'size = "small"': 'size = "large"'},
    )
    with pytest.raises(
        SearchError, match=r"no candidate fits qemu-m0: all \d+ candidates pruned before training"
    ):
        run_search(app, "qemu-m0", trials=1, quick=True, progress=False)
    assert not (app / "search-quick" / "tune").exists()  # nothing trained


def test_resume_needs_an_earlier_search(tmp_path: Path) -> None:
    app = _app(tmp_path / "g", "gesture", {})
    with pytest.raises(SearchError, match="nothing to resume"):
        run_search(app, "nano33ble", trials=1, resume=True, progress=False)


def test_an_unreachable_address_fails_at_once(tmp_path: Path) -> None:
    app = _app(tmp_path / "g", "gesture", {})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    with pytest.raises(SearchError, match=rf"cannot reach the Ray cluster at 127.0.0.1:{port}: "):
        run_search(app, "nano33ble", trials=1, address=f"127.0.0.1:{port}", progress=False)
