"""A trained application in use: ``stream_app`` runs it on a recording through the device loop
(``edgecraft.device.pipeline``) with the front end, labels and post-processing of its spec;
``evaluate_app`` scores its int8 model on new labelled data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.apps.features import Scaling, featurize, front_end
from edgecraft.apps.run import TRAINED
from edgecraft.apps.spec import AppSpec, SpecError, load_spec
from edgecraft.apps.streaming import stream_options


def trained(root: str | Path) -> tuple[AppSpec, dict[str, Any]]:
    """The spec and the record of the latest training (full size, else ``--quick``)."""
    spec = load_spec(root)
    found = [p for p in (spec.root / "build" / TRAINED, spec.root / "build-quick" / TRAINED) if p.is_file()]
    if not found:
        raise SpecError(f"{spec.root} has not been trained yet; run `edgecraft train {spec.root}` first")
    rec = json.loads(max(found, key=lambda p: p.stat().st_mtime).read_text())
    return (load_spec(root, quick=True) if rec["quick"] else spec), rec


def tuned(rec: dict[str, Any]) -> dict[str, Any]:
    """The post-processing training tuned (``stream.max_fa_per_hour``), as option overrides."""
    return dict(rec.get("stream_tuned", {}).get("overrides", {}))


def stream_app(
    root: str | Path, wav: Path | None = None, csv: Path | None = None, **overrides: Any
) -> dict[str, Any]:
    """Run the trained app over a recording; the record ``edgecraft stream`` prints.

    A regression app (sine) has no detections: each CSV row's input goes through the int8
    model and the outputs come back as ``rows``."""
    from edgecraft.device.pipeline import stream_file
    from edgecraft.device.recordings import StreamError

    spec, rec = trained(root)
    if spec.task == "anomaly":
        from edgecraft.apps.streaming import anomaly_stream

        if wav is None:
            raise StreamError(f"{spec.name} listens to machine sound: give --wav FILE")
        return anomaly_stream(spec, rec, wav, **overrides)
    if spec.kind == "person":
        raise StreamError(
            f"{spec.name} classifies still images; score them with `edgecraft evaluate {root} --data DIR`"
        )
    if spec.task == "regress":
        if csv is None:
            raise StreamError(f"{spec.name} is a regression app: give --csv FILE with one input value a line")
        return _regress_rows(Path(rec["model"]), csv)
    return stream_file(
        Path(rec["model"]),
        rec["labels"],
        wav=wav,
        csv=csv,
        options=stream_options(spec, rec.get("scaling"), **{**tuned(rec), **overrides}),
    )


def emulate_app(root: str | Path, wav: Path | None = None, csv: Path | None = None, board: str | None = None,
                compare: bool = True, **overrides: Any) -> dict[str, Any]:
    """Run the trained app's whole loop (front end C twin, int8 model, post-processing) as one
    firmware on the QEMU machine of its board's core (``board``, default the spec's) over a
    recording; with ``compare`` the
    Python loop runs too and the record says whether both found the same detections."""
    from edgecraft.device.firmware import emulate_file
    from edgecraft.device.recordings import StreamError
    from edgecraft.formats import read_tflite

    spec, rec = trained(root)
    if spec.task == "anomaly":
        return _emulate_anomaly(spec, rec, wav, board, compare, **overrides)
    if spec.task != "classify" or spec.kind == "person":
        what = "a regression" if spec.task == "regress" else "an image classifier"
        raise StreamError(
            f"{spec.name} is {what}: `emulate DIR` runs a streaming loop (kws, wakeword, gesture, anomaly); "
            f"emulate its model with `edgecraft emulate {rec['model']} --input X.npy`"
        )
    opts = stream_options(spec, rec.get("scaling"), **{**tuned(rec), **overrides})
    out = emulate_file(read_tflite(Path(rec["model"])), rec["labels"], opts, board or spec.board, wav=wav,
                       csv=csv, compare=compare)
    return {"app": str(spec.root), "model": rec["model"], "features": spec.preset, **out}


def _emulate_anomaly(spec: AppSpec, rec: dict[str, Any], wav: Path | None, board: str | None, compare: bool,
                     **overrides: Any) -> dict[str, Any]:
    from edgecraft.apps.streaming import anomaly_settings, anomaly_stream
    from edgecraft.device.firmware import agreement, emulate_loop
    from edgecraft.device.recordings import StreamError, read_wav
    from edgecraft.formats import read_tflite

    if wav is None:
        raise StreamError(f"{spec.name} listens to machine sound: give --wav FILE")
    s = anomaly_settings(spec, rec, **overrides)
    samples = read_wav(wav, 0, s.front_end.sample_rate)
    graph = read_tflite(Path(rec["model"]))
    out = emulate_loop(graph, ["normal", "anomaly"], samples, s, board or spec.board)
    out.update(duration_s=round(max(len(samples), s.window) / s.rate, 4), window_s=s.window / s.rate,
               stride_s=s.stride / s.rate, postprocessing=s.post.to_dict())
    out["anomaly_threshold"] = s.anomaly_threshold
    if compare:
        out["python"] = agreement(anomaly_stream(spec, rec, wav, **overrides), out)
    return {"app": str(spec.root), "model": rec["model"], "features": spec.preset, **out}


def build_app(root: str | Path, out: Path | None = None, board: str | None = None) -> dict[str, Any]:
    """The trained app's C project (int8 model, front end C twin, feature scaling) for its board
    (or ``board``) in ``out`` (default: ``c/`` beside the trained model), as ``train`` writes it."""
    from edgecraft.apps.build import build_c
    from edgecraft.apps.run import _c_name
    from edgecraft.formats import read_tflite

    spec, rec = trained(root)
    s = rec.get("scaling")
    scaling = Scaling(tuple(s["offset"]), tuple(s["scale"])) if s else None
    dest = out if out is not None else Path(rec["model"]).parent / "c"
    graph = read_tflite(Path(rec["model"]))
    return build_c(graph, _c_name(spec.name), board or spec.board, dest, front_end(spec), scaling)


def _regress_rows(model: Path, csv: Path) -> dict[str, Any]:
    from edgecraft.device.recordings import StreamError
    from edgecraft.formats import read_tflite
    from edgecraft.optimize.ptq import QuantizedModel

    if not csv.is_file():
        raise StreamError(f"CSV file {csv} does not exist")
    lines = [ln for ln in csv.read_text().splitlines() if ln.strip()]
    if lines and any(c.isalpha() for c in lines[0]):
        lines = lines[1:]
    try:
        x = np.loadtxt(lines, delimiter=",", ndmin=2, dtype=np.float32)[:, :1]
    except ValueError as e:
        raise StreamError(f"cannot read {csv} as numeric CSV: {e}") from None
    if len(x) == 0:
        raise StreamError(f"{csv} holds no rows")
    qm = QuantizedModel(read_tflite(model), b"")
    y = qm.predict(x)
    return {
        "model": str(model),
        "rows": [{"x": float(a), "y": round(float(b), 5)} for a, b in zip(x[:, 0], y[:, 0], strict=True)],
        "detections": [],
    }


def evaluate_app(root: str | Path, data: Path) -> dict[str, Any]:
    """Score the trained int8 model on ``data``: a folder ``<label>/<files>`` (WAV, CSV, images)
    or, for regression, a CSV of ``x,y`` rows."""
    from edgecraft.apps import metrics as M
    from edgecraft.apps.files import read_labelled
    from edgecraft.formats import read_tflite
    from edgecraft.optimize.ptq import QuantizedModel

    spec, rec = trained(root)
    qm = QuantizedModel(read_tflite(Path(rec["model"])), b"", rec.get("channels_last", False))
    if spec.task == "regress":
        if not data.is_file():
            raise SpecError(f"{data}: give a CSV file of x,y rows")
        xy = np.loadtxt(
            data,
            delimiter=",",
            ndmin=2,
            dtype=np.float32,
            comments="#",
            skiprows=1 if any(c.isalpha() for c in data.read_text().split("\n")[0]) else 0,
        )
        return {"metrics": M.regression(xy[:, 1:2], qm.predict(xy[:, :1])), "data": str(data)}
    cfg = front_end(spec)
    raw, y = read_labelled(data, cfg, rec["labels"])
    x = featurize(cfg, raw)
    if rec.get("scaling"):
        s = rec["scaling"]
        x = Scaling(tuple(s["offset"]), tuple(s["scale"]))(x)
    return {"metrics": M.classification(y, qm.predict(x), rec["labels"]), "data": str(data)}
