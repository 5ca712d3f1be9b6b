"""``edgecraft fl simulate`` on Flower's simulation engine (Ray): a small FedProx run with
dropouts and int8 updates trains the gesture model; rounds do not stall on failed clients."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fl_support import gesture_app, need_flower

pytestmark = pytest.mark.slow  # tests/conftest.py runs slow modules first


def test_fedprox_with_dropouts_and_int8_updates(tmp_path: Path) -> None:
    need_flower()
    app = gesture_app(tmp_path)
    # a relative DIR, as a user types it (Flower's processes run in another directory)
    r = subprocess.run(
        [sys.executable, "-m", "edgecraft", "fl", "simulate", app.name, "--clients", "12", "--rounds", "5",
         "--fraction", "0.5", "--strategy", "fedprox", "--dropout", "0.3", "--update-bits", "8",
         "--format", "json"],
        capture_output=True, text=True, timeout=600, cwd=app.parent,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout)
    rounds = out["rounds"]
    assert [row["round"] for row in rounds] == [0, 1, 2, 3, 4, 5]
    trained = rounds[1:]
    assert all(row["sampled"] == 6 and row["results"] + row["failures"] == 6 for row in trained)
    assert sum(row["failures"] for row in trained) > 0  # dropouts happened, and every round finished
    assert all(row["results"] > 0 for row in trained)
    # Flower samples clients at random (not seeded), so the path varies; it learns either way
    assert out["metrics"]["best_accuracy"] > out["metrics"]["initial_accuracy"] + 0.15
    b = out["bytes_per_round"]
    # int8 updates: about a quarter of the float weights (each array also carries its header)
    assert b["update_bits"] == 8 and 3.4 < b["download_per_client"] / b["upload_per_client"] < 4
    with np.load(out["weights"]) as w:
        assert w.files and all(np.isfinite(w[k]).all() for k in w.files)
