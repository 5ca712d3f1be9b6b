"""Privacy switches: differential privacy (Flower's server-side clipping with Gaussian noise,
epsilon from its RDP accountant, growing each round) and secure aggregation (SecAgg+)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fl_support import gesture_app, need_flower

from edgecraft.federated.simulate import FlSettings, simulate

pytestmark = pytest.mark.slow  # tests/conftest.py runs slow modules first


def test_differential_privacy_reports_epsilon(tmp_path: Path) -> None:
    need_flower()
    app = gesture_app(tmp_path)
    out = simulate(app, FlSettings(clients=10, rounds=3, fraction=0.5, dp_noise=0.5, dp_clip=2.0))
    eps = [row["epsilon"] for row in out["rounds"][1:]]
    assert len(eps) == 3 and 0 < eps[0] < eps[1] < eps[2]
    assert out["privacy"]["epsilon"] == eps[-1] and out["privacy"]["delta"] == 1e-5
    assert out["privacy"]["releases"] == 3


def test_secagg_plus_trains(tmp_path: Path) -> None:
    need_flower()
    app = gesture_app(tmp_path)
    out = simulate(app, FlSettings(clients=10, rounds=3, fraction=0.5, secagg=True))
    assert out["secagg"] is True and len(out["rounds"]) == 4
    assert all(row["results"] == 5 for row in out["rounds"][1:])
    # the masked vector (int64 ring elements) plus keys and shares: more than the float model
    b = out["bytes_per_round"]
    assert b["upload_per_client"] > b["download_per_client"] > 0
    assert out["metrics"]["best_accuracy"] > out["metrics"]["initial_accuracy"] + 0.05
    with np.load(Path(out["work"]) / "final.npz") as w:
        assert all(np.isfinite(w[k]).all() for k in w.files)
    log = (Path(out["work"]) / "flower.log").read_text()
    assert "Secure aggregation completed" in log
