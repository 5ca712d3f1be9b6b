"""One candidate: measured on the board before training (:func:`measure`), then trained,
made int8 and scored (:func:`train_candidate`, the body of a Ray Tune trial).

Measuring builds the candidate's PyTorch model with untrained weights, converts it to full
int8 (or 16x8) the way training will (the graph's shapes, and so its RAM, flash and cost, do not
depend on the weights' values) and measures that graph on the board from a real build
(:mod:`.costs`: flash and static RAM of the cross-compiled model, its measured stack, latency
and energy from the emulated core's instruction counts); the trained model is measured again
the same way. Scores are int8: accuracy of the int8 model for classifiers, ROC
AUC of the int8 reconstruction error for anomaly detection, on a selection set: with a data
generator, the test split of the same generator drawn with another seed (people, voices or
machines the training never saw, as the test's, but other ones; the validation split, drawn
from the training population, is saturated on most templates), else the validation split. The
held-out test split is scored too but never used to choose.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.apps.data import Dataset, Split
from edgecraft.apps.features import Scaling, featurize, front_end, needs_scaling
from edgecraft.apps.spec import AppSpec, Optimization, SpecError
from edgecraft.dsp.audio import AudioFeatures
from edgecraft.search.costs import board_costs
from edgecraft.search.space import build, candidate_front_end, resample_clips

#: the directory beside ``models/`` where measured builds are cached
BUILDS = "builds"
#: samples used to calibrate the untrained model when measuring (the values do not matter)
MEASURE_SAMPLES = 32


@dataclass
class SearchData:
    """Raw samples for a search: ``train`` (augmented), ``val`` (the training loop's
    validation loss), ``select`` (what candidates are scored and chosen on), ``test``
    (held out: reported, never chosen on)."""

    labels: list[str]
    task: str
    train: Split
    val: Split
    select: Split
    test: Split


def search_data(spec: AppSpec) -> SearchData:
    """The spec's data as the search uses it."""
    from edgecraft.apps.run import load_data
    from edgecraft.apps.training import augment

    data: Dataset = load_data(spec)
    xr, yr = augment(data.train.x, data.train.y, spec.training.augmentation, spec.training.seed)
    select = data.val
    if spec.task == "anomaly" and spec.generator is None:
        raise SpecError(f"{spec.root}/app.toml: searching an anomaly detector needs a data generator")
    if spec.generator is not None:
        other = dataclasses.replace(
            spec, training=dataclasses.replace(spec.training, seed=spec.training.seed + 7919)
        )
        select = load_data(other).test  # people, voices, machines drawn apart from the test's
    return SearchData(data.labels, spec.task, Split(xr, yr), data.val, select, data.test)


def outputs_of(data: SearchData, x: np.ndarray) -> int:
    """Model outputs: classes, or every feature for an autoencoder."""
    return len(data.labels) if data.task == "classify" else int(np.prod(x.shape[1:]))


def features_for(spec: AppSpec, c: dict[str, Any], raws: list[np.ndarray]) -> tuple[list[np.ndarray], Any]:
    """Features of each raw batch with the candidate's front end (scaled as the apps pipeline
    scales them, fitted on the first batch), and the front end."""
    own = front_end(spec)
    cfg = candidate_front_end(own, c)
    if isinstance(cfg, AudioFeatures) and isinstance(own, AudioFeatures):  # the data are at the spec's rate
        raws = [resample_clips(r, own.sample_rate, cfg.sample_rate) for r in raws]
    xs = [featurize(cfg, r) for r in raws]
    if needs_scaling(cfg, spec.task):
        scaling = Scaling.fit(xs[0])
        xs = [scaling(x) for x in xs]
    return xs, cfg


def measure(
    spec: AppSpec,
    c: dict[str, Any],
    sample: np.ndarray,
    outputs_hint: int,
    board: str,
    cache: Path | None = None,
) -> dict[str, Any]:
    """The candidate's deployed RAM, flash, latency and energy on ``board`` before training
    (``cache``: the directory of earlier builds, see :func:`.costs.board_costs`)."""
    from edgecraft.optimize import quantize
    from edgecraft.optimize.train import seed_everything

    (x,), cfg = features_for(spec, c, [sample[:MEASURE_SAMPLES]])
    outputs = outputs_hint if spec.task == "classify" else int(np.prod(x.shape[1:]))
    seed_everything(spec.training.seed)
    model = build(spec, c, x.shape[1:], outputs, cfg)
    qm = quantize(model, x, report=False, channels_last=x.ndim == 4)
    return board_costs(with_activations(qm, c).graph, board, cache)


def with_activations(qm: Any, c: dict[str, Any]) -> Any:
    """The int8 model, or its 16x8 version when the candidate asks for int16 activations."""
    from edgecraft.search.sixteen import model_16x8

    return model_16x8(qm) if c["activations"] == "int16" else qm


def score(task: str, qm: Any, x: np.ndarray, y: np.ndarray) -> float:
    """int8 accuracy (classifiers) or ROC AUC of the int8 reconstruction error (anomaly)."""
    if task == "classify":
        from edgecraft.optimize import accuracy_int8

        return round(accuracy_int8(qm, x, y), 4)
    from edgecraft.apps.anomaly import reconstruction_scores
    from edgecraft.apps.metrics import auc

    return round(float(auc(y, reconstruction_scores(qm, x))), 4)


def float_score(task: str, model: Any, x: np.ndarray, y: np.ndarray) -> float:
    """The float model's score on the selection set (what successive halving compares at its milestones)."""
    from edgecraft.apps.metrics import auc
    from edgecraft.optimize.train import predict

    out = predict(model, x)
    if task == "classify":
        return float(np.mean(np.argmax(out, 1) == y))
    return float(auc(y, np.mean((out - x.reshape(len(x), -1)) ** 2, 1)))


def train_candidate(
    spec: AppSpec,
    data: SearchData,
    c: dict[str, Any],
    board: str,
    out: Path,
    report: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """Train the candidate (``report`` gets ``{"epoch", "val_loss", "score"}`` after every
    epoch, ``score`` being the float model's on the selection set),
    make it int8, score it and write ``out/model.tflite`` and ``out/result.json``."""
    from edgecraft.apps.run import int8_model
    from edgecraft.apps.training import train
    from edgecraft.files import write_text
    from edgecraft.optimize.train import seed_everything

    (x, xv, xs, xt), cfg = features_for(spec, c, [data.train.x, data.val.x, data.select.x, data.test.x])
    tr = dataclasses.replace(spec.training, learning_rate=spec.training.learning_rate * c["lr"])
    run_spec = dataclasses.replace(
        spec, training=tr, optimization=Optimization(c["method"], spec.optimization.qat_epochs, c["pruning"])
    )
    seed_everything(tr.seed)
    model = build(spec, c, x.shape[1:], outputs_of(data, x), cfg)
    hist = train(
        model,
        x,
        data.train.y,
        xv,
        data.val.y,
        tr,
        spec.task,
        progress=False,
        on_epoch=lambda e, _t, v: report(
            {"epoch": e, "val_loss": v, "score": float_score(spec.task, model, xs, data.select.y)}
        ),
    )
    qm = with_activations(int8_model(run_spec, model, x, data.train.y, xv), c)
    out.mkdir(parents=True, exist_ok=True)
    qm.save(out / "model.tflite")
    result = {
        "id": c["id"],
        "accuracy": score(spec.task, qm, xs, data.select.y),
        "test_accuracy": score(spec.task, qm, xt, data.test.y),
        **board_costs(qm.graph, board, out.parent.parent / BUILDS),
        "model": str(out / "model.tflite"),
        "epochs": len(hist.train_loss),
        "val_loss": float(min(hist.val_loss)),
        "config": c,
    }
    write_text(out / "result.json", json.dumps(result, indent=2))
    return result
