"""Scores of an application's int8 model: classification (accuracy, confusion matrix, per-class
precision and recall), regression (errors) and anomaly detection (ROC AUC, partial AUC)."""

from __future__ import annotations

from typing import Any

import numpy as np


def classification(y: np.ndarray, probs: np.ndarray, labels: list[str]) -> dict[str, Any]:
    """Accuracy, the confusion matrix (rows: true, columns: predicted) and per-class scores."""
    pred = np.argmax(probs, 1)
    k = len(labels)
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (np.asarray(y, np.int64), pred), 1)
    per_class = {}
    for i, name in enumerate(labels):
        tp, predicted, actual = int(cm[i, i]), int(cm[:, i].sum()), int(cm[i].sum())
        p = tp / predicted if predicted else 0.0
        r = tp / actual if actual else 0.0
        per_class[name] = {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
            "support": actual,
        }
    return {
        "accuracy": round(float(np.mean(pred == y)), 4),
        "samples": len(y),
        "confusion": cm.tolist(),
        "per_class": per_class,
    }


def regression(y: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """Mean squared, mean absolute and largest absolute error."""
    err = np.asarray(pred, np.float64).reshape(len(y), -1) - np.asarray(y, np.float64).reshape(len(y), -1)
    return {
        "mse": round(float(np.mean(err**2)), 6),
        "mae": round(float(np.mean(np.abs(err))), 6),
        "max_abs_error": round(float(np.max(np.abs(err))), 6),
        "samples": len(y),
    }


def roc(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False and true positive rates at every threshold (descending), positives = label 1."""
    order = np.argsort(-scores, kind="stable")
    s, lab = np.asarray(scores)[order], np.asarray(labels)[order]
    distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(lab)[distinct]
    fps = (distinct + 1) - tps
    pos, neg = max(int(lab.sum()), 1), max(int(len(lab) - lab.sum()), 1)
    return np.r_[0.0, fps / neg], np.r_[0.0, tps / pos], np.r_[np.inf, s[distinct]]


def auc(labels: np.ndarray, scores: np.ndarray, max_fpr: float = 1.0) -> float:
    """Area under the ROC curve up to ``max_fpr``, divided by ``max_fpr`` (so 1 is perfect);
    with ``max_fpr`` 0.1 this is the DCASE/MLPerf Tiny pAUC."""
    fpr, tpr, _ = roc(labels, scores)
    if max_fpr < 1.0:
        stop = int(np.searchsorted(fpr, max_fpr, "right"))
        x0, x1, y0, y1 = (
            fpr[stop - 1],
            fpr[min(stop, len(fpr) - 1)],
            tpr[stop - 1],
            tpr[min(stop, len(tpr) - 1)],
        )
        cut = y0 + (y1 - y0) * (max_fpr - x0) / (x1 - x0) if x1 > x0 else y1
        fpr, tpr = np.r_[fpr[:stop], max_fpr], np.r_[tpr[:stop], cut]
    return float(np.trapezoid(tpr, fpr) / max_fpr)


def threshold_curve(y: np.ndarray, probs: np.ndarray, labels: list[str], ignore: tuple[str, ...],
                    thresholds: np.ndarray | None = None) -> list[dict[str, float]]:
    """A detector's trade-off on labelled clips, per threshold on the best reportable label's
    score (the labels not in ``ignore``): ``detected`` is the share of target clips (a
    reportable label) whose best reportable label is right and reaches the threshold,
    ``false_accepts`` the share of other clips (silence, unknown, idle, ...) where some
    reportable label reaches it."""
    ignored = {s.lower() for s in ignore}
    report = np.array([lbl.lower() not in ignored for lbl in labels])
    if report.all() or not report.any():
        return []
    p = np.asarray(probs, np.float64)
    masked = np.where(report[None], p, -np.inf)
    best, score = masked.argmax(1), masked.max(1)
    target = report[np.asarray(y)]
    ts = np.round(np.linspace(0.05, 0.95, 19), 2) if thresholds is None else thresholds
    rows = []
    for t in ts:
        hit = score >= t
        rows.append({
            "threshold": float(t),
            "detected": round(float(np.mean(hit[target] & (best[target] == np.asarray(y)[target]))), 4)
            if target.any() else 0.0,
            "false_accepts": round(float(np.mean(hit[~target])), 4) if (~target).any() else 0.0,
        })
    return rows
