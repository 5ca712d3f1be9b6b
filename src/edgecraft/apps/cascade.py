"""``cascade_sweep(DIR, edge, cloud)``: the edge-cloud cascade on an application's test data.

The application's data (its generator or folder, same seed, same split) gives the test set.
Each model is one of:

- an application directory: its trained int8 model with its own front end and scaling;
- a ``.tflite`` file: fed the features of ``DIR``'s front end;
- ``MODEL.py:FACTORY`` (the cloud only): a float PyTorch model fed those features (or, with
  ``send="embedding"``, the edge model's dequantized embedding), its weights loaded by the
  factory or from ``cloud_weights``.

Classifiers give probabilities; an anomaly application's models give reconstruction scores, a
threshold from normal validation clips (the trained one for an application directory) and a
decision. The device side (:mod:`edgecraft.device.cascade`) turns both models' answers into
the trade-off per threshold, priced with the board's profile (cost model, or cycles counted on
QEMU with ``cycles``), the link model and the cloud model's measured compute time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.apps.anomaly import NORMAL_QUANTILE
from edgecraft.apps.features import Scaling, featurize, front_end
from edgecraft.apps.run import load_data
from edgecraft.apps.spec import SPEC_FILE, AppSpec
from edgecraft.device.cascade import (
    CascadeError,
    Costs,
    as_probabilities,
    choose,
    confidence,
    embedding_graph,
    score_confidence,
    sweep,
)


@dataclass
class _Model:
    """A model ready to answer: how it reads raw samples and what it outputs."""

    name: str
    spec: AppSpec | None  # its own application, when it is one
    rec: dict[str, Any]
    graph: Any = None  # the int8 graph (.tflite and applications)
    torch: Any = None  # a float PyTorch module
    channels_last: bool = False

    def features(self, fallback: tuple[AppSpec, dict[str, Any]], raw: np.ndarray) -> np.ndarray:
        spec, rec = (self.spec, self.rec) if self.spec is not None else fallback
        x = featurize(front_end(spec), raw)
        if rec.get("scaling"):
            s = rec["scaling"]
            x = Scaling(tuple(s["offset"]), tuple(s["scale"]))(x)
        return np.asarray(x, np.float32)

    def outputs(self, x: np.ndarray) -> tuple[np.ndarray, float]:
        """Float outputs ``(N, K)`` for float inputs ``x`` and the compute time per input (ms)."""
        t0 = time.perf_counter()
        if self.torch is not None:
            import torch

            with torch.no_grad():
                y = self.torch(torch.from_numpy(np.asarray(x, np.float32))).numpy()
        else:
            from edgecraft.optimize.ptq import QuantizedModel

            y = QuantizedModel(self.graph, b"", self.channels_last).predict(x)
        ms = (time.perf_counter() - t0) * 1000 / max(1, len(x))
        return np.asarray(y, np.float64).reshape(len(x), -1), ms


def _trained(root: Path) -> tuple[AppSpec, dict[str, Any]]:
    from edgecraft.apps.use import trained

    spec, rec = trained(root)
    return spec, {**rec, "model": str(spec.out / "model.tflite")}


def _load(text: str, role: str, weights: Path | None = None) -> _Model:
    from edgecraft.formats import read_tflite

    path = Path(text)
    if (path / SPEC_FILE).is_file():
        spec, rec = _trained(path)
        return _Model(text, spec, rec, read_tflite(Path(rec["model"])), None, rec.get("channels_last", False))
    if text.endswith(".tflite"):
        if not path.is_file():
            raise CascadeError(f"--{role} {text}: no such file")
        return _Model(text, None, {}, read_tflite(path))
    if ".py:" in text and role == "cloud":
        from edgecraft.optimize.loader import load_factory

        try:
            module, _ = load_factory(text, weights)
        except ValueError as e:
            raise CascadeError(f"--cloud {text}: {e}") from None
        return _Model(text, None, {}, None, module)
    what = "an application directory, a .tflite file" + (" or MODEL.py:FACTORY" if role == "cloud" else "")
    raise CascadeError(f"--{role} {text!r}: give {what}")


def _fit_layout(m: _Model, x: np.ndarray) -> None:
    """A bare .tflite fed another application's features: NHWC when its input says so."""
    if m.graph is None or m.spec is not None:
        return
    want = tuple(m.graph.input_tensors()[0].shape[1:])
    if tuple(x.shape[1:]) == want:
        return
    if x.ndim == 4 and tuple(np.moveaxis(x, 1, -1).shape[1:]) == want:
        m.channels_last = True
        return
    if int(np.prod(x.shape[1:])) != int(np.prod(want)):
        raise CascadeError(
            f"{m.name} takes inputs of shape {list(want)}; the application's features are {list(x.shape[1:])}"
        )


def _answers(
    m: _Model, x: np.ndarray, xv: np.ndarray | None, yv: np.ndarray | None, task: str
) -> tuple[np.ndarray, np.ndarray, float]:
    """Predictions, confidences and ms per input of ``m`` on features ``x``."""
    y, ms = m.outputs(x)
    if task != "anomaly":
        p = as_probabilities(y)
        return p.argmax(axis=1), p, ms
    scores = np.mean((y - x.reshape(len(x), -1)) ** 2, axis=1)
    thr = m.rec.get("anomaly_threshold")
    if thr is None:
        assert xv is not None and yv is not None
        yvo, _ = m.outputs(xv)
        sv = np.mean((yvo - xv.reshape(len(xv), -1)) ** 2, axis=1)
        thr = float(np.quantile(sv[yv == 0] if np.any(yv == 0) else sv, NORMAL_QUANTILE))
    return (scores > thr).astype(np.int64), score_confidence(scores, thr), ms


def _device_cost(graph: Any, board: str, cycles: bool) -> dict[str, Any]:
    from edgecraft.device.power import PowerError, board_power

    try:
        bp = board_power(graph, board, count_cycles=cycles)
    except PowerError as e:
        raise CascadeError(str(e)) from None
    return {
        "board": board,
        "latency_ms": bp.latency_ms,
        "energy_mj": bp.active_mw * bp.latency_ms / 1000,
        "active_mw": bp.active_mw,
        "source": bp.source,
    }


def cascade_sweep(
    root: str | Path,
    edge: str,
    cloud: str,
    link: str = "ble",
    measure: str = "top",
    send: str = "features",
    budget: dict[str, float] | None = None,
    board: str | None = None,
    rate_per_s: float | None = None,
    cycles: bool = False,
    cloud_weights: Path | None = None,
    steps: int = 20,
) -> dict[str, Any]:
    """The cascade of ``edge`` and ``cloud`` on application ``root``'s test data: ``points`` (one
    per threshold), ``chosen`` (the one meeting ``budget``, see :func:`edgecraft.device.cascade.choose`)
    and what they were priced with."""
    from edgecraft.device.cascade import Policy, thresholds_for
    from edgecraft.targets.links import UnknownLinkError, get_link

    Policy(0.0, measure, send)  # checks the names
    try:
        lk = get_link(link)
    except UnknownLinkError as e:
        raise CascadeError(str(e)) from None
    home = _trained(Path(root))
    spec, rec = home
    if spec.task not in ("classify", "anomaly"):
        raise CascadeError(
            f"{spec.name} is a {spec.task} application; the cascade needs a classifier or an anomaly detector"
        )
    e_model, c_model = _load(edge, "edge"), _load(cloud, "cloud", cloud_weights)
    for m in (e_model, c_model):
        if m.spec is not None and spec.task == "classify" and m.rec.get("labels") != rec["labels"]:
            raise CascadeError(f"{m.name} has labels {m.rec.get('labels')}, the application {rec['labels']}")
    data = load_data(spec)
    raw, labels = data.test.x, np.asarray(data.test.y)
    xe = e_model.features(home, raw)
    _fit_layout(e_model, xe)
    xve = e_model.features(home, data.val.x) if spec.task == "anomaly" else None
    e_pred, e_out, _ = _answers(e_model, xe, xve, data.val.y, spec.task)
    e_conf = confidence(e_out, measure) if spec.task != "anomaly" else e_out
    graph = e_model.graph
    if send == "embedding":
        xc, xvc = _embeddings(e_model, xe), _embeddings(e_model, xve) if xve is not None else None
        payload = int(np.prod(graph.tensors[embedding_graph(graph)[1]].shape[1:]))
    else:
        xc = c_model.features(home, raw)
        _fit_layout(c_model, xc)
        xvc = c_model.features(home, data.val.x) if spec.task == "anomaly" else None
        t_in = graph.input_tensors()[0]
        payload = (
            int(np.prod(t_in.shape[1:])) * np.dtype(t_in.np_dtype).itemsize
            if send == "features"
            else int(raw[0].size) * (1 if raw.dtype == np.uint8 else 2)
        )
    try:
        c_pred, _, server_ms = _answers(c_model, xc, xvc, data.val.y, spec.task)
    except (RuntimeError, ValueError) as e:
        raise CascadeError(
            f"the cloud model {cloud} cannot take what the device sends ({send}): "
            f"{str(e).splitlines()[0] if str(e) else type(e).__name__}"
        ) from None
    dev = _device_cost(graph, board or spec.board, cycles)
    rate = rate_per_s or (1000.0 / spec.stream.stride_ms if spec.stream.stride_ms else 1.0)
    costs = Costs(dev["latency_ms"], dev["energy_mj"], payload, server_ms, lk, rate)
    points = sweep(e_pred, c_pred, labels, e_conf, costs, thresholds_for(e_conf, steps))
    return {
        "app": spec.name,
        "task": spec.task,
        "samples": len(labels),
        "edge": {"model": edge, "accuracy": round(float(np.mean(e_pred == labels)), 6), **dev},
        "cloud": {
            "model": cloud,
            "accuracy": round(float(np.mean(c_pred == labels)), 6),
            "server_ms": round(server_ms, 3),
        },
        "link": lk.to_dict(),
        "confidence": measure if spec.task != "anomaly" else "score distance from the threshold",
        "send": send,
        "payload_bytes": payload,
        "rate_per_s": rate,
        "budget": budget,
        "points": points,
        "chosen": choose(points, budget) if budget else None,
    }


def _embeddings(m: _Model, x: np.ndarray) -> np.ndarray:
    """The edge model's int8 embedding of each float input, dequantized: ``(N, D)``."""
    from edgecraft.optimize.ptq import QuantizedModel

    if m.graph is None:
        raise CascadeError("only an int8 edge model has an embedding to send")
    cut, _ = embedding_graph(m.graph)
    return np.asarray(QuantizedModel(cut, b"", m.channels_last).predict(x), np.float32).reshape(len(x), -1)


def plot_sweep(result: dict[str, Any], path: Path) -> Path:
    """The trade-off curves against the fraction escalated: accuracy, bytes per hour, mean
    latency, device energy per inference; the chosen point marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from edgecraft.files import save_figure

    pts, chosen = result["points"], result.get("chosen")
    x = [p["escalated"] * 100 for p in pts]
    fig, axes = plt.subplots(2, 2, figsize=(9, 6))
    panels = (
        ("accuracy", "accuracy"),
        ("bytes_per_hour", "bytes sent per hour"),
        ("latency_ms", "mean latency (ms)"),
        ("energy_mj", "device energy per inference (mJ)"),
    )
    for ax, (key, title) in zip(axes.flat, panels, strict=True):
        ax.plot(x, [p[key] for p in pts], marker=".", lw=1)
        if key == "accuracy":
            ax.axhline(result["cloud"]["accuracy"], color="C2", ls="--", lw=0.8, label="cloud alone")
            ax.axhline(result["edge"]["accuracy"], color="C3", ls=":", lw=0.8, label="edge alone")
            ax.legend(fontsize=7)
        if chosen is not None:
            ax.plot([chosen["escalated"] * 100], [chosen[key]], "o", color="C1")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("escalated (%)", fontsize=8)
    fig.suptitle(
        f"{result['app']}: cascade over {result['link']['slug']}, sending {result['send']}", fontsize=10
    )
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    plt.close(fig)
    return path
