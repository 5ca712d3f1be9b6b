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
    root: str | Path, wav: Path | None = None, csv: Path | None = None, images: str | None = None,
    inferences: int | None = None, **overrides: Any
) -> dict[str, Any]:
    """Run the trained app over a recording; the record ``edgecraft stream`` prints.

    ``person`` runs over the frames ``images`` names (a folder or a glob pattern, sorted);
    ``sine`` runs TFLM's hello-world loop for ``inferences`` steps (default one sweep) or,
    given a CSV, puts each row's input through the int8 model (``rows`` either way)."""
    from edgecraft.device.pipeline import stream_file

    spec, rec = trained(root)
    _inputs_fit(spec, wav, csv, images, inferences)
    if spec.task == "anomaly":
        from edgecraft.apps.streaming import anomaly_stream

        return anomaly_stream(spec, rec, wav, **overrides)  # type: ignore[arg-type]
    if spec.kind == "person":
        from edgecraft.apps.loops import frame_files, frame_loop, frame_settings, read_frames

        files = frame_files(images)  # type: ignore[arg-type]
        post, frame_s = frame_settings(spec, overrides)
        out = frame_loop(_graph(rec), rec["labels"], read_frames(files), _image_cfg(spec),
                         post, frame_s, [f.name for f in files])
        return {"model": rec["model"], "features": spec.preset, **out}
    if spec.task == "regress":
        if csv is not None:
            return _regress_rows(Path(rec["model"]), csv)
        from edgecraft.apps.loops import only, sine_loop

        only(overrides, ())
        steps = spec.stream.steps
        out = sine_loop(_graph(rec), steps, inferences or steps, (spec.stream.stride_ms or 0.0) / 1e3)
        return {"model": rec["model"], **out}
    return stream_file(
        Path(rec["model"]),
        rec["labels"],
        wav=wav,
        csv=csv,
        options=stream_options(spec, rec.get("scaling"), **{**tuned(rec), **overrides}),
    )


def emulate_app(root: str | Path, wav: Path | None = None, csv: Path | None = None, board: str | None = None,
                compare: bool = True, images: str | None = None, inferences: int | None = None,
                **overrides: Any) -> dict[str, Any]:
    """Run the trained app's whole loop (front end C twin, int8 model, post-processing) as one
    firmware on the QEMU machine of its board's core (``board``, default the spec's) over a
    recording (``person``: the frames ``images`` names; ``sine``: ``inferences`` steps of the
    hello-world loop); with ``compare`` the Python loop runs too and the record says whether
    both found the same detections (sine: the same values)."""
    from edgecraft.device.firmware import emulate_file
    from edgecraft.formats import read_tflite

    spec, rec = trained(root)
    _inputs_fit(spec, wav, csv, images, inferences, emulate=True)
    if spec.task == "anomaly":
        return _emulate_anomaly(spec, rec, wav, board, compare, **overrides)
    if spec.kind == "person":
        return _emulate_frames(spec, rec, images, board, compare, **overrides)  # type: ignore[arg-type]
    if spec.task == "regress":
        return _emulate_sine(spec, rec, inferences, board, compare, **overrides)
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


INPUTS = {"anomaly": "--wav FILE (machine sound)", "kws": "--wav FILE", "wakeword": "--wav FILE",
          "gesture": "--csv FILE (motion)", "person": "--images FOLDER_OR_PATTERN (camera frames)",
          "sine": "no recording (TFLM's hello-world loop; --inferences N), or --csv FILE of x values"}


def _inputs_fit(spec: AppSpec, wav: Path | None, csv: Path | None, images: str | None, inferences: int | None,
                emulate: bool = False) -> None:
    """One clear error when the inputs given do not fit the app's kind."""
    from edgecraft.device.recordings import StreamError

    given = {"wav": wav is not None, "csv": csv is not None, "images": images is not None}
    if spec.kind == "sine":
        ok = not given["wav"] and not given["images"] and not (given["csv"] and (emulate or inferences))
    else:  # a gesture app given a WAV hears from the loop which recording its front end takes
        want = {"person": ("images",), "gesture": ("wav", "csv")}.get(spec.kind, ("wav",))
        ok = sum(given.values()) == 1 and any(given[k] for k in want) and inferences is None
    if not ok:
        verb = "emulate" if emulate else "stream"
        what = INPUTS[spec.kind].replace(", or --csv FILE of x values", "") if emulate else INPUTS[spec.kind]
        raise StreamError(f"{spec.name} is a {spec.kind} app: `{verb}` takes {what}")


def _graph(rec: dict[str, Any]) -> Any:
    from edgecraft.formats import read_tflite

    return read_tflite(Path(rec["model"]))


def _image_cfg(spec: AppSpec) -> Any:
    from edgecraft.device.recordings import StreamError
    from edgecraft.dsp.image import ImagePreprocess

    cfg = front_end(spec)
    if not isinstance(cfg, ImagePreprocess):
        raise StreamError(f"{spec.name} has no image front end")
    return cfg


def _emulate_frames(spec: AppSpec, rec: dict[str, Any], images: str, board: str | None, compare: bool,
                    **overrides: Any) -> dict[str, Any]:
    from edgecraft.apps.firmware import frame_program, frame_results, run_program
    from edgecraft.apps.loops import frame_files, frame_loop, frame_settings, read_frames
    from edgecraft.device.recordings import StreamError
    from edgecraft.emulate import machine
    from edgecraft.targets import get_board
    from edgecraft.targets.cycles import core_model

    files = frame_files(images)
    frames = read_frames(files)
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise StreamError(f"the firmware takes frames of one size; {images} holds {len(shapes)} sizes "
                          f"({', '.join('x'.join(map(str, s[:2])) for s in sorted(shapes))})")
    post, frame_s = frame_settings(spec, overrides)
    graph, cfg, labels = _graph(rec), _image_cfg(spec), rec["labels"]
    b = board or spec.board
    m = machine(core_model(get_board(b).core).machine)
    program = frame_program(graph, labels, cfg, post, frame_s, len(frames), frames[0].shape, dsp=m.dsp)
    raw, emulation, power = run_program(program, np.stack(frames), b, len(frames) * frame_s, len(frames))
    out: dict[str, Any] = {"app": str(spec.root), "model": rec["model"], "features": spec.preset,
                           "frames": len(frames), "duration_s": round(len(frames) * frame_s, 4),
                           "window_s": frame_s, "stride_s": frame_s, "postprocessing": post.to_dict(),
                           **frame_results(raw, labels, len(frames), frame_s),
                           "emulation": emulation, "power": power}
    if compare:
        from edgecraft.device.firmware import agreement

        py = frame_loop(graph, labels, frames, cfg, post, frame_s)
        out["python"] = agreement(py, out)
    return out


def _emulate_sine(spec: AppSpec, rec: dict[str, Any], inferences: int | None, board: str | None,
                  compare: bool, **overrides: Any) -> dict[str, Any]:
    from edgecraft.apps.firmware import run_program, sine_program, sine_rows
    from edgecraft.apps.loops import only, sine_loop
    from edgecraft.emulate import machine
    from edgecraft.targets import get_board
    from edgecraft.targets.cycles import core_model

    only(overrides, ())
    steps = spec.stream.steps
    n = inferences or steps
    stride_s = (spec.stream.stride_ms or 0.0) / 1e3
    graph = _graph(rec)
    b = board or spec.board
    m = machine(core_model(get_board(b).core).machine)
    raw, emulation, power = run_program(sine_program(graph, steps, n, dsp=m.dsp), np.zeros(1, np.uint8), b,
                                        n * stride_s if stride_s > 0 else 1.0, n)
    rows = sine_rows(raw, stride_s)
    out: dict[str, Any] = {"app": str(spec.root), "model": rec["model"], "steps": steps, "inferences": n,
                           "stride_s": stride_s, "rows": rows, "detections": [],
                           "emulation": emulation, "power": power}
    if compare:
        py = sine_loop(graph, steps, n, stride_s)["rows"]
        out["python"] = {"rows_equal": sum(a == c for a, c in zip(py, rows, strict=True)), "rows": len(py)}
    return out


def build_app(root: str | Path, out: Path | None = None, board: str | None = None) -> dict[str, Any]:
    """The trained app's C project (int8 model, front end C twin, feature scaling) for its board
    (or ``board``) in ``out`` (default: ``c/`` beside the trained model), as ``train`` writes it."""
    from edgecraft.apps.build import build_c
    from edgecraft.apps.run import _c_name, project_loop
    from edgecraft.formats import read_tflite

    spec, rec = trained(root)
    s = rec.get("scaling")
    scaling = Scaling(tuple(s["offset"]), tuple(s["scale"])) if s else None
    dest = out if out is not None else Path(rec["model"]).parent / "c"
    graph = read_tflite(Path(rec["model"]))
    return build_c(graph, _c_name(spec.name), board or spec.board, dest, front_end(spec), scaling,
                   project_loop(spec, graph, rec["labels"]))


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
