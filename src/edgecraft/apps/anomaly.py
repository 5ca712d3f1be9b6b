"""Anomaly detection's scores: the autoencoder's int8 reconstruction error and a lighter
clustering detector (k-means on per-band mean and spread of the log-mel features; the score is
the distance to the nearest centre). Thresholds come from normal validation clips only; the
test reports ROC AUC, partial AUC (false positive rate up to 0.1, as DCASE and MLPerf Tiny) and
the true and false positive rates at the threshold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.apps.metrics import auc, roc

#: the share of normal validation clips allowed above the threshold
NORMAL_QUANTILE = 0.99


def reconstruction_scores(qm: Any, x: np.ndarray) -> np.ndarray:
    """Mean squared error between the int8 model's output and its (scaled) input, per sample."""
    out = qm.predict(x)
    return np.asarray(np.mean((out - x.reshape(len(x), -1)) ** 2, 1), np.float64)


def summary(x: np.ndarray) -> np.ndarray:
    """Per-band mean and standard deviation over the frames: ``(N, 2 * bands)``."""
    return np.concatenate([x.mean(1), x.std(1)], 1) if x.ndim == 3 else x.reshape(len(x), -1)


def kmeans(x: np.ndarray, k: int, seed: int, iters: int = 50) -> np.ndarray:
    """Lloyd's k-means with centres started on distinct random samples; ``(k, dims)``."""
    rng = np.random.default_rng(seed)
    k = min(k, len(x))
    centres = x[rng.choice(len(x), k, replace=False)].astype(np.float64)
    for _ in range(iters):
        nearest = np.argmin(((x[:, None] - centres[None]) ** 2).sum(-1), 1)
        moved = np.stack([x[nearest == j].mean(0) if np.any(nearest == j) else centres[j] for j in range(k)])
        if np.allclose(moved, centres):
            break
        centres = moved
    return centres


def distance_scores(centres: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Distance of each sample to its nearest centre."""
    return np.asarray(np.sqrt(((x[:, None] - centres[None]) ** 2).sum(-1).min(1)), np.float64)


def _at(threshold: float, scores: np.ndarray, y: np.ndarray) -> dict[str, float]:
    return {
        "tpr": round(float(np.mean(scores[y == 1] > threshold)), 4),
        "fpr": round(float(np.mean(scores[y == 0] > threshold)), 4),
    }


def evaluate(
    qm: Any, x: np.ndarray, xv: np.ndarray, xt: np.ndarray, yt: np.ndarray, seed: int, report_dir: Path
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Metrics of both detectors on the test set, and the figures (ROC, scores vs threshold)."""
    from edgecraft.apps.report import curve_png

    sv, st = reconstruction_scores(qm, xv), reconstruction_scores(qm, xt)
    threshold = float(np.quantile(sv, NORMAL_QUANTILE))
    centres = kmeans(summary(x), 8, seed)
    cv, ct = distance_scores(centres, summary(xv)), distance_scores(centres, summary(xt))
    c_threshold = float(np.quantile(cv, NORMAL_QUANTILE))
    at, c_at = _at(threshold, st, yt), _at(c_threshold, ct, yt)
    metrics = {
        "auc": round(auc(yt, st), 4),
        "pauc": round(auc(yt, st, 0.1), 4),
        "threshold": threshold,
        "tpr": at["tpr"],
        "fpr": at["fpr"],
        "samples": len(yt),
        "anomalies": int(yt.sum()),
        "clustering": {
            "auc": round(auc(yt, ct), 4),
            "pauc": round(auc(yt, ct, 0.1), 4),
            "threshold": c_threshold,
            **c_at,
            "centres": len(centres),
        },
    }
    fpr, tpr, _ = roc(yt, st)
    cf, cr, _ = roc(yt, ct)
    figs = [
        (
            curve_png(
                fpr,
                {"autoencoder (int8)": tpr},
                "false positive rate",
                report_dir / "roc.png",
                points={"clustering": (cf, cr)},
            ),
            "ROC on held-out machines (true vs false positive rate)",
        )
    ]
    grid = np.quantile(np.r_[sv, st], np.linspace(0, 1, 60))
    figs.append(
        (
            curve_png(
                grid,
                {
                    "true positive rate": np.array([np.mean(st[yt == 1] > g) for g in grid]),
                    "false positive rate": np.array([np.mean(st[yt == 0] > g) for g in grid]),
                },
                f"reconstruction error threshold (chosen: {threshold:.3g})",
                report_dir / "threshold.png",
            ),
            "detection rates against the threshold",
        )
    )
    return metrics, figs
