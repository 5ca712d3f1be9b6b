"""The detector's threshold curve in the training report: targets detected and false accepts
per threshold on the best reportable label."""

from __future__ import annotations

import numpy as np

from edgecraft.apps.metrics import threshold_curve


def test_threshold_curve_counts_targets_and_false_accepts() -> None:
    labels = ["yes", "no", "silence", "unknown"]
    probs = np.array([
        [0.9, 0.05, 0.03, 0.02],  # yes, right and sure
        [0.5, 0.4, 0.05, 0.05],  # "no" clip taken for yes: never a detection of the right label
        [0.1, 0.1, 0.7, 0.1],  # silence: best reportable score 0.1
        [0.05, 0.6, 0.05, 0.3],  # unknown that looks like "no" (0.6): a false accept up to 0.6
    ])
    y = np.array([0, 1, 2, 3])
    rows = {r["threshold"]: r for r in threshold_curve(y, probs, labels, ("silence", "unknown"))}
    assert rows[0.05] == {"threshold": 0.05, "detected": 0.5, "false_accepts": 1.0}
    assert rows[0.5] == {"threshold": 0.5, "detected": 0.5, "false_accepts": 0.5}
    assert rows[0.65] == {"threshold": 0.65, "detected": 0.5, "false_accepts": 0.0}
    assert rows[0.95] == {"threshold": 0.95, "detected": 0.0, "false_accepts": 0.0}
    assert threshold_curve(y, probs, labels, ()) == []  # nothing ignored: a classifier, not a detector
