"""The app's streaming settings as the device loop's options: front end (with the spec's
parameters), per-feature scaling, post-processing and ignored labels."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.apps.data import Recording
from edgecraft.apps.features import front_end
from edgecraft.apps.spec import AppSpec


def stream_options(spec: AppSpec, scaling: dict[str, Any] | None, **overrides: Any) -> Any:
    """``StreamOptions`` for ``spec`` (``scaling``: the trained app's offsets and scales)."""
    from edgecraft.device.pipeline import StreamOptions

    st = spec.stream
    opts = StreamOptions(
        features=spec.preset,
        threshold=st.threshold,
        smoothing_ms=st.smoothing_ms,
        suppression_ms=st.suppression_ms,
        min_count=st.min_count,
        stride_ms=st.stride_ms,
        ignore=st.ignore,
        front_end=front_end(spec),  # type: ignore[arg-type]
        normalize=(tuple(scaling["offset"]), tuple(scaling["scale"])) if scaling else None,
    )
    return replace(opts, **overrides)


def tune(spec: AppSpec, graph: Any, labels: list[str], rec: Recording, scaling: dict[str, Any] | None
         ) -> dict[str, Any]:
    """The post-processing tuned on ``rec`` (labelled events among other speech, training
    speakers only) for at most ``stream.max_fa_per_hour``: ``overrides`` (threshold,
    smoothing_ms, suppression_ms, min_count, as ``stream_options`` takes them) and what the
    operating point gave on ``rec``."""
    from edgecraft.device.pipeline import tune_recording
    from edgecraft.device.tuning import Event

    events = tuple(Event(a, b, lab) for a, b, lab in rec.events)
    target = spec.stream.max_fa_per_hour
    assert target is not None
    opts = stream_options(spec, scaling, events=events, max_fa_per_hour=target)
    op = tune_recording(graph, labels, rec.samples, opts, rate=rec.rate)["operating_point"]
    overrides = {"threshold": op["threshold"], "smoothing_ms": round(op["smoothing_s"] * 1e3, 3),
                 "suppression_ms": round(op["suppression_s"] * 1e3, 3), "min_count": op["min_count"]}
    return {"overrides": overrides, "max_fa_per_hour": target, "fa_per_hour": op["fa_per_hour"],
            "frr": op["frr"], "events": len(events), "hours": round(len(rec.samples) / rec.rate / 3600, 4)}


def false_accepts(
    spec: AppSpec, graph: Any, labels: list[str], rec: Recording, scaling: dict[str, Any] | None,
    **overrides: Any,
) -> dict[str, Any]:
    """Detections per hour on a recording that holds no target (every detection is false)."""
    from edgecraft.device.pipeline import stream_recording

    x = rec.samples if rec.samples.ndim == 1 else rec.samples.astype(np.float32)
    out = stream_recording(graph, labels, x, stream_options(spec, scaling, **overrides), rate=rec.rate)
    hours = len(rec.samples) / rec.rate / 3600
    return {
        "false_accepts": len(out["detections"]),
        "hours": round(hours, 4),
        "false_accepts_per_hour": round(len(out["detections"]) / hours, 2),
    }


def detection_rate(
    spec: AppSpec, graph: Any, labels: list[str], rec: Recording, scaling: dict[str, Any] | None,
    **overrides: Any,
) -> dict[str, Any]:
    """Events of ``rec`` detected with the right label within their span plus one window."""
    from edgecraft.device.pipeline import stream_recording

    x = rec.samples if rec.samples.ndim == 1 else rec.samples.astype(np.float32)
    out = stream_recording(graph, labels, x, stream_options(spec, scaling, **overrides), rate=rec.rate)
    window = out["window_s"]
    hit = sum(
        any(d["label"] == lab and a <= d["time_s"] <= b + window for d in out["detections"])
        for a, b, lab in rec.events
    )
    return {"events": len(rec.events), "detected": hit, "detections": len(out["detections"])}


def anomaly_settings(spec: AppSpec, rec: dict[str, Any], **overrides: Any) -> Any:
    """The loop settings (``device.firmware.LoopSettings``) of a trained anomaly app: its audio
    front end, a window every ``stride_ms`` (default 500), the spec's post-processing, the
    feature scaling and the threshold chosen on normal data."""
    from edgecraft.device.firmware import LoopSettings
    from edgecraft.device.postprocess import PostProcessing
    from edgecraft.device.recordings import StreamError
    from edgecraft.dsp.audio import AudioFeatures

    cfg = front_end(spec)
    if not isinstance(cfg, AudioFeatures):
        raise StreamError("anomaly streaming needs an audio front end")
    opts = stream_options(spec, rec.get("scaling"), **overrides)
    rate = float(cfg.sample_rate)
    post = PostProcessing(
        opts.threshold, opts.smoothing_ms / 1e3, opts.suppression_ms / 1e3, opts.min_count, tuple(opts.ignore)
    )
    s = rec["scaling"]
    stride = round((opts.stride_ms or 500.0) * rate / 1e3)
    return LoopSettings(cfg, rate, cfg.clip_samples or cfg.sample_rate, stride, post, 0.0,
                        (tuple(s["offset"]), tuple(s["scale"])), float(rec["anomaly_threshold"]))


def anomaly_stream(spec: AppSpec, rec: dict[str, Any], wav: Path, **overrides: Any) -> dict[str, Any]:
    """The device loop on machine sound: each window's int8 reconstruction error ``s`` becomes
    the score ``p = s / (s + threshold)`` of the label "anomaly" (0.5 exactly at the threshold
    chosen on normal data), then the usual smoothing, threshold and suppression."""
    from edgecraft.apps.anomaly import reconstruction_scores
    from edgecraft.apps.features import Scaling
    from edgecraft.device.recordings import read_wav
    from edgecraft.device.stream import StreamLoop, audio_featurizer
    from edgecraft.formats import read_tflite
    from edgecraft.optimize.ptq import QuantizedModel

    ls = anomaly_settings(spec, rec, **overrides)
    cfg, rate, window, stride, post = ls.front_end, ls.rate, ls.window, ls.stride, ls.post
    qm = QuantizedModel(read_tflite(Path(rec["model"])), b"")
    scaling = Scaling(*ls.normalize)
    threshold = ls.anomaly_threshold

    def model(features: np.ndarray) -> np.ndarray:
        score = float(reconstruction_scores(qm, scaling(features[None]))[0])
        p = score / (score + threshold)
        return np.array([1 - p, p], np.float32)

    samples = read_wav(wav, 0, cfg.sample_rate)
    loop = StreamLoop(
        model, audio_featurizer(cfg), ["normal", "anomaly"], rate, window, stride, 0, post, dtype="int16"
    )
    loop.feed(samples)
    loop.finish()
    return {
        "model": rec["model"],
        "features": spec.preset,
        "duration_s": round(max(len(samples), window) / rate, 4),
        "window_s": window / rate,
        "stride_s": stride / rate,
        "postprocessing": post.to_dict(),
        "stats": loop.stats.to_dict(),
        "detections": [d.to_dict() for d in loop.detections],
        "windows": [
            {"time_s": round(r.time_s, 4), "label": r.label, "score": round(r.score, 4)} for r in loop.results
        ],
        "anomaly_threshold": threshold,
    }
