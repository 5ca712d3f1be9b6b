"""The device side of the edge-cloud cascade: when to ask the cloud, what to send, what it costs.

A device runs its int8 model on every input. When its confidence is below a threshold it sends
the input (``raw`` samples), its ``features`` (the model's int8 input) or an int8 ``embedding``
(the activations entering the model's last FULLY_CONNECTED layer: raw data may be private) to a
larger model on the fleet server and uses that answer; otherwise it answers locally.

Confidence of a probability vector ``p`` (classes sorted so that ``p1 >= p2 >= ...``):

- ``top``: ``p1``;
- ``margin``: ``p1 - p2``;
- ``entropy``: ``1 - H(p) / log(K)`` (1 for a one-hot answer, 0 for a uniform one).

An anomaly detector's confidence is how far its score lies from its threshold:
``1 - min(s, t) / max(s, t)`` (0 at the threshold, towards 1 far from it).

:func:`sweep` prices every threshold on labelled data: accuracy, fraction escalated, bytes sent
per hour, mean latency and device energy per inference including the radio
(:mod:`edgecraft.targets.links`); :func:`choose` picks the threshold that meets a budget.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgecraft.ir.graph import Graph
from edgecraft.targets.links import Link

CONFIDENCE = ("top", "margin", "entropy")
SEND = ("raw", "features", "embedding")
BUDGETS = ("bandwidth", "energy", "accuracy")
#: the answer the cloud sends back: a class index and its probability (with framing, in bytes)
RESPONSE_BYTES = 16


class CascadeError(ValueError):
    """A cascade request that cannot be carried out as asked (one line, says what to do)."""


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(N, K)`` scores, in float64."""
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def as_probabilities(y: np.ndarray) -> np.ndarray:
    """``(N, K)`` model outputs as probabilities: kept when they already are (non-negative rows
    summing to 1 within int8 rounding, as after SOFTMAX), else passed through softmax."""
    y = np.asarray(y, np.float64).reshape(len(y), -1)
    if y.min() >= 0 and np.allclose(y.sum(axis=1), 1.0, atol=0.05):
        return np.asarray(y / y.sum(axis=1, keepdims=True))
    return softmax(y)


def confidence(probs: np.ndarray, kind: str = "top") -> np.ndarray:
    """Confidence of each row of ``probs`` ``(N, K)`` by ``kind`` (see the module docstring)."""
    p = np.asarray(probs, np.float64)
    if kind == "top":
        return np.asarray(p.max(axis=1))
    if kind == "margin":
        top2 = np.sort(p, axis=1)[:, -2:] if p.shape[1] > 1 else np.c_[np.zeros(len(p)), p]
        return np.asarray(top2[:, 1] - top2[:, 0])
    if kind == "entropy":
        k = p.shape[1]
        h = -(p * np.log(np.clip(p, 1e-12, 1.0))).sum(axis=1)
        return np.asarray(1.0 - h / math.log(k)) if k > 1 else np.ones(len(p))
    raise CascadeError(f"unknown confidence {kind!r}; choose one of: {', '.join(CONFIDENCE)}")


def score_confidence(scores: np.ndarray, threshold: float) -> np.ndarray:
    """An anomaly detector's confidence: ``1 - min(s, t) / max(s, t)`` per score."""
    s = np.maximum(np.asarray(scores, np.float64), 1e-30)
    t = max(float(threshold), 1e-30)
    return np.asarray(1.0 - np.minimum(s, t) / np.maximum(s, t))


@dataclass(frozen=True)
class Policy:
    """When a device escalates: confidence below ``threshold`` by measure ``confidence``."""

    threshold: float
    confidence: str = "top"
    send: str = "features"

    def __post_init__(self) -> None:
        if self.confidence not in CONFIDENCE:
            raise CascadeError(
                f"unknown confidence {self.confidence!r}; choose one of: {', '.join(CONFIDENCE)}"
            )
        if self.send not in SEND:
            raise CascadeError(f"unknown payload {self.send!r}; choose one of: {', '.join(SEND)}")
        if not math.isfinite(self.threshold):
            raise CascadeError("the cascade threshold must be a finite number")

    def escalate(self, probs: np.ndarray) -> np.ndarray:
        """Which rows of ``probs`` go to the cloud."""
        return np.asarray(confidence(probs, self.confidence) < self.threshold)


def embedding_graph(graph: Graph) -> tuple[Graph, int]:
    """``graph`` cut before its last FULLY_CONNECTED: the same operators up to the one that
    makes that layer's int8 input, which becomes the only output. Returns the cut graph and the
    embedding's tensor index; :class:`CascadeError` when there is no int8 embedding to send."""
    fcs = [i for i, op in enumerate(graph.operators) if op.type == "FULLY_CONNECTED"]
    if not fcs:
        raise CascadeError(
            "the edge model has no FULLY_CONNECTED layer whose input could be sent as "
            "an embedding; send features or raw input instead"
        )
    k = graph.operators[fcs[-1]].inputs[0]
    t = graph.tensors[k]
    if t.dtype != "int8" or k in graph.inputs:
        raise CascadeError(
            "the input of the edge model's last FULLY_CONNECTED layer is not an int8 "
            "activation; send features or raw input instead"
        )
    producer = max(i for i, op in enumerate(graph.operators) if k in op.outputs)
    cut = Graph(
        list(graph.tensors),
        list(graph.operators[: producer + 1]),
        list(graph.inputs),
        [k],
        graph.name + "_embedding",
        graph.description,
    )
    return cut, k


@dataclass(frozen=True)
class Costs:
    """What one inference costs on the device, and one escalation over the link.

    ``device_ms``/``device_mj``: the edge model (and front end) on the board; ``payload_bytes``:
    what one escalation sends; ``server_ms``: the cloud model's measured compute per input;
    ``rate_per_s``: inferences per second (for bytes and energy per hour).
    """

    device_ms: float
    device_mj: float
    payload_bytes: int
    server_ms: float
    link: Link
    rate_per_s: float = 1.0
    response_bytes: int = RESPONSE_BYTES


def thresholds_for(conf: np.ndarray, steps: int = 20) -> list[float]:
    """Thresholds that escalate 0, 1/steps, ..., all of the inputs (``conf < t`` escalates):
    the confidences at those ranks, the last one just above the largest."""
    c = np.sort(np.asarray(conf, np.float64))
    n = len(c)
    out = [float(c[min(n - 1, round(i * n / steps))]) for i in range(steps)]
    out[0] = float(c[0])
    out.append(float(np.nextafter(c[-1], np.inf)))
    return sorted(set(out))


def sweep(
    edge_pred: np.ndarray,
    cloud_pred: np.ndarray,
    labels: np.ndarray,
    conf: np.ndarray,
    costs: Costs,
    thresholds: list[float] | None = None,
) -> list[dict[str, Any]]:
    """One point per threshold: the cascade's accuracy on ``labels`` (the cloud's answer where
    ``conf < threshold``, else the edge's), fraction escalated, bytes on the air per hour,
    latency and device energy (compute + radio) per inference, and whether LoRa's duty cycle
    allows it."""
    edge_pred, cloud_pred, labels = (np.asarray(a).reshape(-1) for a in (edge_pred, cloud_pred, labels))
    conf = np.asarray(conf, np.float64).reshape(-1)
    link = costs.link
    ex = link.exchange(costs.payload_bytes, costs.response_bytes)
    per_hour = costs.rate_per_s * 3600.0
    cloud_acc = float(np.mean(cloud_pred == labels))
    points = []
    for t in thresholds if thresholds is not None else thresholds_for(conf):
        up = conf < t
        frac = float(up.mean())
        acc = float(np.mean(np.where(up, cloud_pred, edge_pred) == labels))
        energy = costs.device_mj + frac * ex["radio_mj"]
        air_s = per_hour * frac * ex["air_up_ms"] / 1000.0
        points.append(
            {
                "threshold": round(float(t), 6),
                "escalated": round(frac, 6),
                "accuracy": round(acc, 6),
                "relative_to_cloud": round(acc / cloud_acc, 6) if cloud_acc else None,
                "bytes_per_hour": round(per_hour * frac * link.wire_bytes(costs.payload_bytes), 1),
                "latency_ms": round(costs.device_ms + frac * (ex["latency_ms"] + costs.server_ms), 3),
                "escalated_latency_ms": round(costs.device_ms + ex["latency_ms"] + costs.server_ms, 3),
                "energy_mj": round(energy, 6),
                "radio_mj": round(frac * ex["radio_mj"], 6),
                "energy_per_hour_j": round(per_hour * energy / 1000.0, 4),
                "duty_cycle_ok": air_s <= link.duty_cycle * 3600.0 + 1e-9,
            }
        )
    return points


def parse_budget(text: str) -> dict[str, float]:
    """``"bandwidth=20000,accuracy=0.9"`` -> ``{"bandwidth": 20000.0, "accuracy": 0.9}``:
    bandwidth in bytes per hour, energy in mJ per inference, accuracy a fraction."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = re.fullmatch(r"([a-z]+)\s*=\s*([0-9.eE+-]+)", part)
        try:
            value = float(m.group(2)) if m else math.nan
        except ValueError:
            value = math.nan
        if not m or m.group(1) not in BUDGETS or not math.isfinite(value) or value < 0:
            raise CascadeError(
                f"bad budget {part[:60]!r}; write NAME=NUMBER, NAME one of {', '.join(BUDGETS)} "
                "(bandwidth in bytes/hour, energy in mJ per inference, accuracy a fraction)"
            )
        out[m.group(1)] = value
    if not out:
        raise CascadeError("empty budget; write e.g. --budget bandwidth=20000 or --budget accuracy=0.9")
    return out


def choose(points: list[dict[str, Any]], budget: dict[str, float]) -> dict[str, Any] | None:
    """The point that meets every term of ``budget`` (and the link's duty cycle): with an
    accuracy target the one that escalates least, else the most accurate (then the cheapest).
    None when no point meets it."""
    ok = [
        p
        for p in points
        if p["duty_cycle_ok"]
        and p["bytes_per_hour"] <= budget.get("bandwidth", math.inf)
        and p["energy_mj"] <= budget.get("energy", math.inf)
        and p["accuracy"] >= budget.get("accuracy", -math.inf)
    ]
    if not ok:
        return None
    if "accuracy" in budget:
        return min(ok, key=lambda p: (p["escalated"], -p["accuracy"]))
    return max(ok, key=lambda p: (p["accuracy"], -p["escalated"]))
