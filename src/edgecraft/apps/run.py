"""``train_app(DIR)``: data -> features -> training -> full int8 -> int8 test metrics -> profile
on the board -> C build -> report. Everything lands in ``DIR/build`` (``DIR/build-quick`` for
``quick``): ``model.tflite``, ``labels.txt``, ``trained.json`` (what ``stream`` and
``evaluate`` read back), ``report/index.html`` with its PNGs, ``c/`` (the C project) and a demo
recording to stream.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.apps.data import DataError, Dataset, generate, generator_rate
from edgecraft.apps.features import Scaling, featurize, front_end, needs_scaling
from edgecraft.apps.spec import AppSpec, SpecError, load_spec
from edgecraft.dsp.audio import AudioFeatures

TRAINED = "trained.json"


def load_data(spec: AppSpec) -> Dataset:
    """The spec's data: its built-in generator, or its folder of labelled files."""
    if spec.generator is not None:
        cfg, rate = front_end(spec), generator_rate(spec.generator)
        if isinstance(cfg, AudioFeatures) and rate is not None and cfg.sample_rate != rate:
            raise SpecError(
                f"{spec.root}/app.toml: front_end sample_rate is {cfg.sample_rate} Hz but the "
                f"{spec.generator} generator records at {rate} Hz and training does not resample its "
                "clips; remove front_end.params.sample_rate (a search's model at another rate is its "
                ".tflite as found)")
        try:
            return generate(spec.generator, spec.data_params, spec.training.seed)
        except (DataError, ValueError) as e:
            raise SpecError(f"{spec.root}/app.toml: data: {e}") from None
    from edgecraft.apps.files import folder_dataset

    assert spec.data_path is not None
    return folder_dataset(spec.data_path, front_end(spec), spec.training.seed)


def train_app(root: str | Path, quick: bool = False, progress: bool = True) -> dict[str, Any]:
    """Train, quantize, score, profile, build and report the application in ``root``."""
    from edgecraft.apps import metrics as M
    from edgecraft.apps.build import build_c
    from edgecraft.apps.models import build_model
    from edgecraft.apps.training import augment, train
    from edgecraft.targets import UnknownBoardError, get_board, profile

    spec = load_spec(root, quick)
    try:
        get_board(spec.board)
    except UnknownBoardError as e:
        raise SpecError(f"{spec.root}/app.toml: target.board: {e}") from None
    if spec.optimization.method == "qat" and spec.task != "classify":
        raise SpecError(f'{spec.root}/app.toml: optimization.method = "qat" is for classifiers; use "ptq"')
    cfg = front_end(spec)
    data = load_data(spec)
    xr, yr = augment(data.train.x, data.train.y, spec.training.augmentation, spec.training.seed)
    x, xv, xt = featurize(cfg, xr), featurize(cfg, data.val.x), featurize(cfg, data.test.x)
    scaling = Scaling.fit(x) if needs_scaling(cfg, spec.task) else None
    if scaling is not None:
        x, xv, xt = scaling(x), scaling(xv), scaling(xt)
    outputs = (
        len(data.labels)
        if spec.task == "classify"
        else int(np.prod(x.shape[1:]))
        if spec.task == "anomaly"
        else data.train.y.shape[1]
    )
    from edgecraft.optimize.train import seed_everything

    seed_everything(spec.training.seed)  # the initial weights too: same seed, same model
    model = build_model(spec, x.shape[1:], outputs, cfg)
    hist = train(model, x, yr, xv, data.val.y, spec.training, spec.task, progress)
    qm = int8_model(spec, model, x, yr, xv)
    out = spec.out
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / "model.tflite"
    qm.save(model_path)
    (out / "labels.txt").write_text("\n".join(data.labels) + "\n")
    report_dir = out / "report"
    report_dir.mkdir(exist_ok=True)
    got = qm.predict(xt)
    figures: list[tuple[str, str]] = []
    extra: dict[str, Any] = {}
    if spec.task == "anomaly":
        from edgecraft.apps.anomaly import evaluate

        metrics, figs = evaluate(qm, x, xv, xt, data.test.y, spec.training.seed, report_dir)
        figures += figs
        extra["anomaly_threshold"] = metrics["threshold"]
    elif spec.task == "classify":
        metrics = M.classification(data.test.y, got, data.labels)
        figures.append(
            (_fig_confusion(metrics, data.labels, report_dir), "confusion matrix (int8, test set)")
        )
        figures.append((_fig_per_class(metrics, report_dir), "precision and recall per class (int8)"))
        curve = M.threshold_curve(data.test.y, got, data.labels, spec.stream.ignore)
        if curve:  # a detector: some labels are never reported
            metrics["threshold_curve"] = curve
            figures.append((_fig_threshold(curve, spec.stream.threshold, report_dir),
                            "detected targets and false accepts per threshold (int8, test clips)"))
    else:
        metrics = M.regression(data.test.y, got)
        figures.append(
            (_fig_regression(spec, data, xt, got, model, report_dir), "int8 and float model on the test grid")
        )
    if spec.task != "anomaly":
        metrics["float_agreement"] = qm.report.agreement if qm.report else None
    tuned = _tuned_stream(spec, qm.graph, data, scaling)
    if tuned is not None:
        extra["stream_tuned"] = tuned
        metrics["stream_tuning"] = {k: v for k, v in tuned.items() if k != "overrides"} | tuned["overrides"]
    metrics.update(_streaming_metrics(spec, qm.graph, data, scaling, tuned["overrides"] if tuned else {}))
    prof = profile(qm.graph, spec.board)
    build = build_c(qm.graph, _c_name(spec.name), spec.board, out / "c", cfg, scaling,
                    project_loop(spec, qm.graph, data.labels))
    from edgecraft.apps.report import curve_png, resources_png, write_report

    figures.append(
        (resources_png(prof, report_dir / "resources.png"), f"RAM, flash, latency, energy on {spec.board}")
    )
    epochs = np.arange(1, len(hist.train_loss) + 1)
    figures.append(
        (
            curve_png(
                epochs,
                {"train": np.array(hist.train_loss), "validation": np.array(hist.val_loss)},
                "epoch",
                report_dir / "training.png",
            ),
            "training and validation loss",
        )
    )
    demo = _write_demo(data, out)
    trained = {
        "name": spec.name,
        "kind": spec.kind,
        "task": spec.task,
        "quick": quick,
        "model": str(model_path),
        "labels": data.labels,
        "preset": spec.preset,
        "front_end": cfg.to_dict() if cfg is not None else None,
        "scaling": scaling.to_dict() if scaling is not None else None,
        "board": spec.board,
        "held_out": data.held_out,
        "channels_last": qm.channels_last,
        **extra,
        "demo": demo,
    }
    (out / TRAINED).write_text(json.dumps(trained, indent=2))
    result = {
        **trained,
        "metrics": metrics,
        "profile": prof,
        "build": build,
        "training": hist.to_dict(),
        "ram_bytes": prof["ram_bytes"],
        "flash_bytes": prof["flash_bytes"],
    }
    report = write_report(report_dir, result, figures)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return {
        "model": str(model_path),
        "labels": data.labels,
        "metrics": metrics,
        "report": str(report),
        "ram_bytes": prof["ram_bytes"],
        "flash_bytes": prof["flash_bytes"],
        "latency_ms": prof["latency_ms"],
        "energy_uj": prof["energy_uj"],
        "board": spec.board,
        "build": build["out"],
        "c_flash_bytes": build["flash_bytes"],
        "c_ram_bytes": build["ram_bytes"],
        "training": hist.to_dict(),
        "demo": demo,
    }


def _tuned_stream(spec: AppSpec, graph: Any, data: Dataset, scaling: Scaling | None) -> dict[str, Any] | None:
    """The post-processing tuned on the data's tuning recording (training speakers only) when
    the spec sets ``stream.max_fa_per_hour``; None otherwise."""
    from edgecraft.apps.streaming import tune

    if spec.task != "classify" or spec.stream.max_fa_per_hour is None or data.tuning is None:
        return None
    return tune(spec, graph, data.labels, data.tuning, scaling.to_dict() if scaling is not None else None)


def _streaming_metrics(spec: AppSpec, graph: Any, data: Dataset, scaling: Scaling | None,
                       overrides: dict[str, Any]) -> dict[str, Any]:
    """The device loop on the generator's recordings (with the tuned post-processing in
    ``overrides``): false accepts per hour on the one without targets, detected events on the demo."""
    from edgecraft.apps.streaming import detection_rate, false_accepts

    out: dict[str, Any] = {}
    sc = scaling.to_dict() if scaling is not None else None
    if spec.task == "classify" and data.negatives is not None:
        out.update(false_accepts(spec, graph, data.labels, data.negatives, sc, **overrides))
    if spec.task == "classify" and data.recording is not None and data.recording.events:
        d = detection_rate(spec, graph, data.labels, data.recording, sc, **overrides)
        out["demo_detected"] = f"{d['detected']}/{d['events']}"
    return out


def int8_model(spec: AppSpec, model: Any, x: np.ndarray, y: np.ndarray, xv: np.ndarray) -> Any:
    """The trained float ``model`` as a full-int8 ``QuantizedModel`` the way the spec's
    ``[optimization]`` says: magnitude pruning (classifiers), then QAT or PTQ (calibrated on up
    to 512 training features ``x``; ``xv`` checks the result)."""
    from edgecraft.optimize import magnitude_prune, qat, quantize

    opt, tr = spec.optimization, spec.training
    if opt.pruning > 0 and spec.task == "classify":
        magnitude_prune(
            model,
            x,
            y,
            opt.pruning,
            epochs=max(1, tr.epochs // 4),
            lr=tr.learning_rate / 3,
            batch_size=tr.batch_size,
            seed=tr.seed,
        )
    if opt.method == "qat":
        return qat(
            model,
            x,
            y,
            epochs=opt.qat_epochs,
            lr=tr.learning_rate / 3,
            batch_size=tr.batch_size,
            seed=tr.seed,
            holdout=xv[:128],
            channels_last=x.ndim == 4,
        )
    rng = np.random.default_rng(tr.seed)
    calib = x[rng.permutation(len(x))[:512]]
    return quantize(model, calib, holdout=xv[:128], layer_samples=4, channels_last=x.ndim == 4)


def project_loop(spec: AppSpec, graph: Any, labels: list[str]) -> dict[str, str]:
    """The C loop files the app's project ships beside the model (sine and person)."""
    from edgecraft.apps.firmware import project_loop as loop_files

    if spec.kind not in ("sine", "person"):
        return {}
    from edgecraft.apps.loops import frame_settings

    post = frame_settings(spec, {})[0] if spec.kind == "person" else None
    cfg = front_end(spec) if spec.kind == "person" else None
    return loop_files(spec.kind, graph, labels, _c_name(spec.name), spec.stream.steps, cfg, post)  # type: ignore[arg-type]


def _c_name(name: str) -> str:
    from edgecraft.codegen.cwriter import c_identifier

    return c_identifier(name)


def _fig_confusion(metrics: dict[str, Any], labels: list[str], d: Path) -> str:
    from edgecraft.apps.report import confusion_png

    return confusion_png(metrics["confusion"], labels, d / "confusion.png")


def _fig_per_class(metrics: dict[str, Any], d: Path) -> str:
    from edgecraft.apps.report import per_class_png

    return per_class_png(metrics["per_class"], d / "per_class.png")


def _fig_threshold(curve: list[dict[str, float]], threshold: float, d: Path) -> str:
    from edgecraft.apps.report import curve_png

    t = np.array([r["threshold"] for r in curve])
    return curve_png(t, {"targets detected": np.array([r["detected"] for r in curve]),
                         "false accepts (other clips)": np.array([r["false_accepts"] for r in curve])},
                     f"threshold (the spec's: {threshold:g})", d / "threshold.png")


def _fig_regression(
    spec: AppSpec, data: Dataset, xt: np.ndarray, got: np.ndarray, model: Any, d: Path
) -> str:
    from edgecraft.apps.report import curve_png
    from edgecraft.optimize.train import predict

    x = xt[:, 0]
    order = np.argsort(x)
    return curve_png(
        x[order],
        {"target": data.test.y[order, 0], "float": predict(model, xt)[order, 0], "int8": got[order, 0]},
        "x",
        d / "fit.png",
        points={"training data": (data.train.x[:, 0], data.train.y[:, 0])},
    )


def _write_demo(data: Dataset, out: Path) -> dict[str, Any] | None:
    """The generator's demo recording as a file ``stream DIR`` can take, with its events."""
    rec = data.recording
    if rec is None:
        return None
    events = out / "demo_events.csv"
    events.write_text(
        "start_s,end_s,label\n" + "".join(f"{a:.3f},{b:.3f},{lab}\n" for a, b, lab in rec.events)
    )
    if rec.samples.ndim == 1:
        from scipy.io import wavfile

        path = out / "demo.wav"
        wavfile.write(path, int(rec.rate), rec.samples.astype(np.int16))
        return {"wav": str(path), "events": str(events)}
    path = out / "demo.csv"
    t = np.arange(len(rec.samples)) / rec.rate
    cols = ",".join(f"a{i}" for i in range(rec.samples.shape[1]))
    np.savetxt(
        path, np.column_stack([t, rec.samples]), delimiter=",", fmt="%.5f", header=f"t,{cols}", comments=""
    )
    return {"csv": str(path), "events": str(events)}
