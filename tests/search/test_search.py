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
from edgecraft.cli.app import main
from edgecraft.formats import read_tflite
from edgecraft.search import SearchError, run_search
from edgecraft.search.runner import start_local_ray
from edgecraft.targets import get_board

pytestmark = [pytest.mark.torch, pytest.mark.slow]  # tests/conftest.py runs slow modules first


@pytest.fixture(scope="module")
def ray_session() -> Iterator[None]:
    import ray

    start_local_ray(2, log_to_driver=False)  # as `edgecraft search` starts it
    yield
    ray.shutdown()


def _listening(pids: set[int]) -> list[str]:
    """The local address of every TCP socket listening in one of ``pids`` (from /proc)."""
    inodes: set[str] = set()
    for pid in pids:
        fds = Path(f"/proc/{pid}/fd")
        for fd in fds.iterdir() if fds.exists() else []:
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if f[3] == "0A" and f[9] in inodes:  # 0A: LISTEN
                host, port = f[1].split(":")
                raw = bytes.fromhex(host)
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))  # per-word endian
                out.append(f"{socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, words)}"
                           f":{int(port, 16)}")
    return out


def test_the_local_ray_listens_on_loopback_only(ray_session: None) -> None:
    # the Ray that `edgecraft search` starts: the driver (this process) and every process it
    # started (GCS, raylet, workers, agents) listen on 127.0.0.1 only, never on all interfaces
    # or the machine's outward address
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    ours, grew = {os.getpid()}, True
    while grew:
        more = {p for p, pp in parents.items() if pp in ours} - ours
        ours |= more
        grew = bool(more)
    addresses = _listening(ours)
    assert len(addresses) >= 3, addresses  # at least the GCS, the raylet and this driver
    assert all(a.startswith(("127.0.0.1:", "::ffff:127.0.0.1:")) for a in addresses), addresses


def _app(root: Path, kind: str, replace: dict[str, str]) -> Path:
    text = TEMPLATES[kind].format(board="nano33ble")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    root.mkdir()
    (root / "app.toml").write_text(text)
    return root


def test_search_interrupted_resumed_and_on_the_board(
    ray_session: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
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

    # a finished search resumed again, by the CLI on this Ray cluster (--address) with DIR given
    # relative to the working directory, trains nothing and prints the same front as JSON
    import ray

    gcs = ray.get_runtime_context().gcs_address
    cmd = [sys.executable, "-m", "edgecraft", "search", str(app), "--target", "nano33ble", "--trials", "2"]
    cmd[cmd.index(str(app))] = app.name  # DIR relative to the working directory
    proc = subprocess.run(
        [*cmd, "--quick", "--resume", "--address", gcs, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=app.parent,
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

    # resuming with another --seed, --trials or --target than the saved search's is refused
    # with one error line naming the saved values (it would reuse the saved candidates)
    for other in (["--trials", "3"], ["--trials", "2", "--seed", "1"]):
        with pytest.raises(SystemExit) as e:
            main(["search", str(app), "--target", "nano33ble", *other, "--quick", "--resume"])
        out, err = capsys.readouterr()
        assert (e.value.code, out, err.count("\n")) == (2, "", 1), err
        assert err.startswith("error: ") and "started with --target nano33ble --seed 0 --trials 2," in err
    with pytest.raises(SearchError, match="--target nano33ble --seed 0 --trials 2, not --target qemu-m4"):
        run_search(app, "qemu-m4", trials=2, quick=True, progress=False, resume=True)
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
