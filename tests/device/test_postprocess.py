"""Post-processing on hand-made score sequences: threshold, smoothing, suppression, min count."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.device.postprocess import Detector, PosteriorSmoother, PostProcessing, detect

LABELS = ["silence", "unknown", "yes", "no"]


def scores(*rows: tuple[float, float, float, float]) -> np.ndarray:
    return np.array(rows, np.float64)


def run(seq: np.ndarray, stride: float = 0.25, **kw: float) -> list[tuple[float, str]]:
    params = PostProcessing(**kw)  # type: ignore[arg-type]
    times = stride * (np.arange(len(seq)) + 1)
    return [(d.time_s, d.label) for d in detect(times, seq, LABELS, params)]


YES = (0.0, 0.1, 0.9, 0.0)
NO = (0.0, 0.1, 0.0, 0.9)
UNK = (0.0, 1.0, 0.0, 0.0)


def test_threshold_and_ignored_labels() -> None:
    seq = scores(UNK, YES, UNK, UNK, UNK, UNK, NO)
    assert run(seq, threshold=0.5, smoothing_s=0.0) == [(0.5, "yes"), (1.75, "no")]
    assert run(seq, threshold=0.95, smoothing_s=0.0) == []  # unknown is never reported


def test_smoothing_averages_over_the_window() -> None:
    seq = scores(UNK, YES, YES, UNK)
    # smoothing 0.5 s at 0.25 s stride = 2 inferences: yes averages 0.45 then 0.9
    assert run(seq, threshold=0.6, smoothing_s=0.5, suppression_s=0.0) == [(0.75, "yes")]
    s = PosteriorSmoother(2)
    s.update(np.array([1.0, 0.0]))
    np.testing.assert_allclose(s.update(np.array([0.0, 1.0])), [0.5, 0.5])
    np.testing.assert_allclose(s.update(np.array([0.0, 1.0])), [0.0, 1.0])


def test_suppression_and_min_count() -> None:
    seq = scores(YES, YES, YES, YES, YES, YES)
    assert run(seq, threshold=0.5, smoothing_s=0.0, suppression_s=1.0) == [(0.25, "yes"), (1.25, "yes")]
    assert run(seq, threshold=0.5, smoothing_s=0.0, suppression_s=10.0, min_count=3) == [(0.75, "yes")]
    # a run broken by another label restarts the count
    assert run(scores(YES, NO, YES, NO), threshold=0.5, smoothing_s=0.0, min_count=2) == []


def test_detector_checks_label_count() -> None:
    d = Detector(LABELS, 0.25)
    with pytest.raises(ValueError, match="4 labels"):
        d.update(0.0, np.zeros(3))
    with pytest.raises(ValueError, match="ignored"):
        Detector(["silence", "unknown"], 0.25)
