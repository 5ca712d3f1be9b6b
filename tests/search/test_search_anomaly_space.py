"""The anomaly template's search space: the log-mel front end's level normalization is a
choice, and the candidate that takes it sees a clip and a quieter copy of it alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgecraft.apps.features import featurize, front_end
from edgecraft.apps.spec import load_spec
from edgecraft.apps.templates import new_app
from edgecraft.search.space import (
    candidate_front_end,
    default_candidate,
    front_end_choices,
    sample_candidates,
)


def test_level_normalization_is_searched_and_removes_the_recording_level(tmp_path: Path) -> None:
    new_app("anomaly", tmp_path / "a")
    spec = load_spec(tmp_path / "a")
    cfg = front_end(spec)
    assert cfg is not None and cfg.normalize == "none"  # the template's own: the level is kept
    assert front_end_choices(cfg)["normalize"] == ["none", "peak"]
    drawn = sample_candidates(spec, cfg, 16, seed=0)
    assert {c["front_end"]["normalize"] for c in drawn} == {"none", "peak"}
    assert default_candidate(spec)["front_end"] == {}  # the default keeps the template's front end

    rng = np.random.default_rng(0)
    clip = np.round(rng.normal(0, 3000, 16000)).astype(np.int16)
    quieter = (clip // 2).astype(np.int16)
    d = default_candidate(spec)
    peak = candidate_front_end(cfg, {**d, "front_end": {"normalize": "peak"}})
    assert peak.normalize == "peak" and peak.mel_bins == cfg.mel_bins
    same = featurize(peak, np.stack([clip, quieter]))
    np.testing.assert_allclose(same[0], same[1], atol=1e-3)
    kept = featurize(cfg, np.stack([clip, quieter]))
    assert np.abs(kept[0] - kept[1]).mean() > 0.5  # log(2) per band without it
