"""Publishing is all or nothing, and one corrupt stored version never blocks later ones (the
service on a real SQLite store; publishing needs no broker)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import update

from edgecraft.fleet import artifacts
from edgecraft.fleet.records import BadRequest, Conflict
from edgecraft.fleet.schema import models
from edgecraft.fleet.service import FleetConfig, FleetService
from edgecraft.fleet.sim import classifier_model, task_weights


@pytest.fixture
def service(tmp_path: Path) -> FleetService:
    s = FleetService(FleetConfig(tmp_path / "state"))
    yield s
    s.store.close()


def test_a_corrupt_stored_artifact_does_not_block_later_publishes(
    service: FleetService, tmp_path: Path
) -> None:
    w = task_weights()
    w2, w3 = w.copy(), w.copy()  # new weights, same structure and scales: deltas apply
    w2[0, [0, 1]] = w2[0, [1, 0]]
    w3[1, [2, 3]] = w3[1, [3, 2]]
    service.publish(classifier_model(w), "1.0.0", [], {})
    store = service.store
    with store.engine.begin() as c:  # type: ignore[attr-defined]
        c.execute(update(models).where(models.c.version == "1.0.0").values(artifact=b"PK\x03\x04 rot"))
    fresh = FleetService(FleetConfig(tmp_path / "state"))  # no cached copy of the good bytes
    try:
        v2 = fresh.publish(classifier_model(w2), "1.1.0", [], {})
        assert v2["deltas"] == 0 and v2["seq"] == 2  # no delta from the rotten base; published anyway
        v3 = fresh.publish(classifier_model(w3), "1.2.0", [], {})
        assert v3["deltas"] == 1 and v3["seq"] == 3  # from 1.1.0
        d = fresh.store.delta("1.1.0", "1.2.0")
        assert d is not None
        artifacts.verify(d.artifact, d.sha256, d.signature, fresh.signer.public_key_hex)
    finally:
        fresh.store.close()


def test_a_failed_publish_leaves_nothing(service: FleetService) -> None:
    w = task_weights()
    with pytest.raises(BadRequest, match=r"not a valid int8 \.tflite"):
        service.publish(b"TFL3 not a model", "2.0.0", [], {})
    with pytest.raises(BadRequest, match="firmware file name"):
        service.publish(classifier_model(w), "2.0.0", [], {}, {"../escape": b"x"})
    with pytest.raises(BadRequest, match="metrics"):
        service.publish(classifier_model(w), "2.0.0", [], {"loss": float("nan")})
    assert service.store.models() == []
    got = service.publish(classifier_model(w), "2.0.0", ["sim"], {"accuracy": 0.9}, {"a/b.c": b"x"})
    assert got["files"] == ["firmware/a/b.c", "model.tflite"] and got["seq"] == 1
    stored = service.store.model("2.0.0", artifact=True)
    assert stored is not None and artifacts.sha256(stored.artifact) == got["sha256"]
    manifest, files = artifacts.open_artifact(stored.artifact)
    assert manifest["version"] == "2.0.0" and files["firmware/a/b.c"] == b"x"
    with pytest.raises(Conflict):
        service.publish(classifier_model(w), "2.0.0", [], {})
    assert np.array_equal([m.seq for m in service.store.models()], [1])
