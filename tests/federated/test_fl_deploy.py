"""``edgecraft fl run``: Flower's deployment engine with real processes beside a real fleet
server: a SuperLink (TLS, SuperNode authentication), one SuperNode per Linux-class device with a
key derived from its fleet token; microcontrollers are skipped; an unregistered key is refused."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fl_support import fleet_server, gesture_app, need_flower

from edgecraft.federated.deploy import Deployment
from edgecraft.federated.identity import write_device_key

pytestmark = pytest.mark.slow  # tests/conftest.py runs slow modules first


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edgecraft", *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Path]:
    """A real fleet server's state directory."""
    with fleet_server(tmp_path) as (state, _url):
        yield state


def test_fl_run_trains_on_linux_devices_only(fleet: Path, tmp_path: Path) -> None:
    need_flower()
    app = gesture_app(tmp_path)
    for prefix, board, count in (("pi", "rpi4", 2), ("mcu", "nano33ble", 1)):
        r = _cli("fleet", "provision", "--count", str(count), "--prefix", prefix, "--board", board,
                 "--out", str(tmp_path / f"{prefix}.json"), "--state-dir", str(fleet), "--format", "json")
        assert r.returncode == 0, r.stderr
    r = _cli("fl", "run", str(app), "--fleet", str(fleet), "--credentials", str(tmp_path / "pi.json"),
             "--credentials", str(tmp_path / "mcu.json"), "--rounds", "2", "--round-timeout", "240",
             "--format", "json", timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout)
    assert [d["id"] for d in out["devices"]] == ["pi-00000", "pi-00001"]
    assert len({d["node_id"] for d in out["devices"]}) == 2
    assert [(d["id"], d["why"]) for d in out["skipped"]] == [("mcu-00000", "microcontroller: inference only")]
    rows = out["rounds"]
    assert [row["round"] for row in rows] == [0, 1, 2]
    assert all(row["results"] == 2 and row["failures"] == 0 for row in rows[1:])
    assert Path(out["weights"]).exists()
    # each device's directory holds only its own data; the server's holds none
    import numpy as np

    with np.load(fleet / "flower" / "server" / "data.npz") as d:
        assert len(d["x"]) == 0 and len(d["test_x"]) > 0
    sizes = []
    for dev in ("pi-00000", "pi-00001"):
        with np.load(fleet / "flower" / "devices" / dev / "data.npz") as d:
            sizes.append(len(d["x"]))
    assert all(n > 0 for n in sizes) and out["partitions"]["examples"] == sum(sizes)


def test_an_unregistered_supernode_is_refused(tmp_path: Path) -> None:
    need_flower()
    dep = Deployment(tmp_path / "flower")
    try:
        dep.superlink()
        good_priv, good_pub = write_device_key("token-good", "pi-1", tmp_path / "keys")
        bad_priv, _ = write_device_key("token-guessed", "pi-1", tmp_path / "keys-bad")
        dep.register(good_pub)
        (tmp_path / "work").mkdir()
        bad = dep.supernode("bad", bad_priv, tmp_path / "work")
        good = dep.supernode("good", good_priv, tmp_path / "work")
        assert bad.wait(120) != 0
        logs = tmp_path / "flower" / "logs"
        assert "Failed to activate SuperNode" in (logs / "bad.log").read_text()
        deadline = time.monotonic() + 120
        while "SuperNode ID" not in (logs / "good.log").read_text():
            alive = time.monotonic() < deadline and good.poll() is None
            assert alive, (logs / "good.log").read_text()[-2000:]
            time.sleep(0.5)
    finally:
        dep.close()
