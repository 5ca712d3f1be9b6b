"""Non-IID partitions from the gesture generator: one person per client, label skew, unequal
sizes, the same bytes from the same seed; and the CLI's bad-input errors (no Flower needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fl_support import gesture_app

from edgecraft.apps.spec import SpecError, load_spec
from edgecraft.federated.partition import make_partitions
from edgecraft.federated.simulate import FlSettings


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gesture_app(tmp_path_factory.mktemp("fl"))


def test_partitions_are_non_iid_and_seeded(app: Path) -> None:
    spec = load_spec(app)
    p = make_partitions(spec, 40, seed=3)
    sizes = p.sizes()
    assert p.clients == 40 and int(sizes.sum()) == len(p.x) == len(p.y)
    assert sizes.min() >= 6 and sizes.max() <= 120 and sizes.std() > 5  # unequal sizes
    labels_per_client = [len(np.unique(p.client(i)[1])) for i in range(40)]
    assert np.mean(labels_per_client) < 4.5 and min(labels_per_client) < 5  # label skew
    hist = np.stack([np.bincount(p.client(i)[1], minlength=5) / sizes[i] for i in range(40)])
    assert hist.std(0).mean() > 0.1  # clients' label mixes differ
    # every client is a different person: their features differ even for the same gesture
    a, b = p.client(0), p.client(1)
    assert not np.array_equal(a[0], b[0])
    q = make_partitions(spec, 40, seed=3)
    assert np.array_equal(p.x, q.x) and np.array_equal(p.y, q.y)
    r = make_partitions(spec, 40, seed=4)
    assert not np.array_equal(p.offsets, r.offsets)
    assert p.test_x.shape[1:] == p.x.shape[1:] and len(p.test_y) > 0


def test_regression_app_is_refused(tmp_path: Path) -> None:
    from edgecraft.apps.templates import new_app

    with pytest.raises(SpecError, match="classification"):
        make_partitions(load_spec(new_app("sine", tmp_path / "sine").parent), 4, 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--clients", "1"], "--clients must be at least 2"),
        (["--rounds", "0"], "--rounds must be at least 1"),
        (["--strategy", "fedsgd"], "--strategy must be one of"),
        (["--fraction", "1.5"], "--fraction must be in"),
        (["--secagg", "--dp-noise", "1.0"], "do not combine"),
        (["--update-bits", "4"], "--update-bits must be 8 or 32"),
    ],
)
def test_bad_options_are_one_error_line(app: Path, args: list[str], message: str) -> None:
    r = subprocess.run([sys.executable, "-m", "edgecraft", "fl", "simulate", str(app), *args,
                        "--format", "json"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("error:") and message in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_settings_make_the_flower_config() -> None:
    s = FlSettings(clients=50, fraction=0.1, dp_noise=0.8, dp_clip=0.5, strategy="fedprox")
    s.check()
    cfg = s.flower_config()
    assert cfg["dp"] == {"noise": 0.8, "clip": 0.5, "delta": 1e-5}
    assert s.sampled() == 5 and cfg["strategy"] == "fedprox"
    json.dumps(cfg)
