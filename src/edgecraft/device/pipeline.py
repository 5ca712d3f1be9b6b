"""The streaming pipeline as one call: a model and a recording in; detections, each window's top
label, the loop's statistics and (given a board) the power and battery estimate out.

``stream_file(model, labels, wav=...)`` (or ``csv=...``) is what ``edgecraft stream`` runs;
``stream_recording(graph, labels, samples)`` does the same on samples already in memory. Steps:
the front-end preset (audio or motion) sets the window and the features; with labelled
``events`` a tuning pass sweeps the post-processing and keeps the operating point; a
:class:`~edgecraft.device.stream.StreamLoop` runs over the samples; the power model prices the
inferences it made on the board. Bad input raises :class:`StreamError` with a one-line message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.device.postprocess import DEFAULT_IGNORE, PostProcessing
from edgecraft.device.power import Battery, PowerError, board_power, estimate, plot_power, power_timeline
from edgecraft.device.recordings import StreamError, read_csv, read_wav
from edgecraft.device.stream import (
    ModelRunner,
    StreamLoop,
    audio_featurizer,
    energy_gate,
    motion_featurizer,
    motion_gate,
)
from edgecraft.device.tuning import Event, operating_point, pareto, score_recording, sweep
from edgecraft.dsp.firmware import M4_INSTRUCTIONS, front_end_ms
from edgecraft.dsp.motion import MotionFeatures
from edgecraft.dsp.presets import AUDIO_PRESETS, AudioPreset, get_preset
from edgecraft.ir.graph import Graph

#: Time between audio windows when ``stride_ms`` is not given (motion uses its preset's hop).
AUDIO_STRIDE_MS = 250.0


@dataclass(frozen=True)
class StreamOptions:
    """How to run the loop; the names and units are those of ``edgecraft stream``'s options."""

    features: str | None = None  # front-end preset; None: kws-mfcc for audio, imu for motion
    threshold: float = 0.6  # detection threshold on the smoothed score
    smoothing_ms: float = 500.0
    suppression_ms: float = 1000.0
    min_count: int = 1  # consecutive hits needed for a detection
    stride_ms: float | None = None  # between windows; None: 250 ms (audio) or the preset's hop
    ignore: tuple[str, ...] = DEFAULT_IGNORE  # labels never reported
    gate_dbfs: float | None = None  # audio energy gate, dB full scale
    gate_motion: float | None = None  # motion gate: RMS acceleration change
    duty_ms: float = 0.0  # run the model at most every N ms
    board: str | None = None  # physical board for the power estimate, e.g. nano33ble
    battery: Battery | None = None
    event_mj: float = 0.0  # energy per reported detection (radio)
    always_on_mw: float = 0.0  # sensor and gate power that never sleeps
    cycles: bool = False  # latency from instruction classes counted on QEMU, not the MAC fit
    plot: Path | None = None  # write power over time there as PNG
    events: tuple[Event, ...] | None = None  # labelled events: tune the post-processing first
    max_fa_per_hour: float = 1.0  # false accepts per hour the tuning allows
    front_end: AudioPreset | MotionFeatures | None = None  # a front end's parameters instead of a preset
    normalize: tuple[tuple[float, ...], tuple[float, ...]] | None = None  # per feature (offset, scale)

    def preset(self, audio: bool) -> str:
        """The front end's name: ``features`` or the default for the recording's kind."""
        return self.features or ("kws-mfcc" if audio else "imu")


def stream_file(model: Path, labels: Sequence[str], *, wav: Path | None = None, csv: Path | None = None,
                channel: int = 0, csv_rate: float | None = None,
                options: StreamOptions | None = None) -> dict[str, Any]:
    """Run the .tflite ``model`` over one recording: a WAV file (``channel`` of it, resampled to
    the front end's rate) or a motion CSV (``csv_rate`` Hz, else its time column, else the
    preset's rate). Returns what ``edgecraft stream --format json`` prints."""
    from edgecraft.formats import read_model

    opts = options or StreamOptions()
    if (wav is None) == (csv is None):
        raise StreamError("give exactly one recording: a WAV file (audio) or a CSV file (motion)")
    _check_power_options(opts)
    cfg = _preset(opts, audio=wav is not None)
    graph = read_model(model)
    runner = _runner(graph, labels)
    _check_kind(cfg, opts, audio=wav is not None)
    rate = None
    if wav is not None:
        assert isinstance(cfg, AUDIO_PRESETS)
        samples = read_wav(wav, channel, cfg.sample_rate)
    else:
        assert isinstance(cfg, MotionFeatures) and csv is not None
        samples, rate = read_csv(csv, cfg.axes, csv_rate, cfg.sample_rate)
    return _run(graph, runner, cfg, list(labels), samples, rate, opts, str(model))


def stream_recording(graph: Graph, labels: Sequence[str], samples: np.ndarray,
                     options: StreamOptions | None = None, rate: float | None = None,
                     model: str = "") -> dict[str, Any]:
    """Run ``graph`` over ``samples`` in memory: int16 audio ``(n,)`` at the front end's rate,
    or motion ``(n, axes)`` at ``rate`` Hz (default: the preset's). Returns the same record as
    :func:`stream_file` (``model`` names the model in it)."""
    opts = options or StreamOptions()
    x = np.asarray(samples)
    audio = x.ndim == 1
    _check_power_options(opts)
    cfg = _preset(opts, audio)
    runner = _runner(graph, labels)
    _check_kind(cfg, opts, audio)
    if isinstance(cfg, MotionFeatures):
        if x.shape[1] != cfg.axes:
            raise StreamError(f"the samples have {x.shape[1]} axes but the motion preset expects {cfg.axes}")
        x = x.astype(np.float32)
        rate = float(rate or cfg.sample_rate)
    elif x.dtype != np.int16:
        raise StreamError(f"audio samples must be int16 at {cfg.sample_rate} Hz, got {x.dtype}")
    return _run(graph, runner, cfg, list(labels), x, rate, opts, model)


def tune_recording(graph: Graph, labels: Sequence[str], samples: np.ndarray, options: StreamOptions,
                   rate: float | None = None) -> dict[str, Any]:
    """Only the tuning pass of :func:`stream_recording` (``options.events`` labels the samples):
    the model runs once per window, the post-processing sweep gives the Pareto front and the
    operating point within ``options.max_fa_per_hour``."""
    x = np.asarray(samples)
    audio = x.ndim == 1
    cfg = _preset(options, audio)
    runner = _runner(graph, labels)
    _check_kind(cfg, options, audio)
    if isinstance(cfg, MotionFeatures):
        x, rate = x.astype(np.float32), float(rate or cfg.sample_rate)
    rate, window, stride, post = loop_settings(cfg, options, rate)
    featurize = audio_featurizer(cfg) if isinstance(cfg, AUDIO_PRESETS) else motion_featurizer(cfg)
    if options.normalize is not None:
        featurize = _normalized(featurize, options.normalize)
    return _tune(list(options.events or ()), x, runner, featurize, list(labels), rate, window, stride, post,
                 options.max_fa_per_hour)


def _check_power_options(opts: StreamOptions) -> None:
    if (opts.battery is not None or opts.plot is not None) and not opts.board:
        raise StreamError("a battery or a power plot needs a board, e.g. nano33ble")


def _preset(opts: StreamOptions, audio: bool) -> AudioPreset | MotionFeatures:
    if opts.front_end is not None:
        return opts.front_end
    try:
        cfg = get_preset(opts.preset(audio))
    except ValueError as e:
        raise StreamError(str(e)) from None
    if not isinstance(cfg, (*AUDIO_PRESETS, MotionFeatures)):
        raise StreamError(f"front end {opts.preset(audio)!r} is not an audio or motion preset")
    return cfg


def _check_kind(cfg: AudioPreset | MotionFeatures, opts: StreamOptions, audio: bool) -> None:
    if audio and not isinstance(cfg, AUDIO_PRESETS):
        raise StreamError("an audio recording needs an audio front end (kws-mfcc, kws-log-mel, micro-speech, "
                          "str-ww-lfbe), "
                          f"not {opts.features}")
    if not audio and not isinstance(cfg, MotionFeatures):
        raise StreamError(f"a motion recording needs a motion front end (imu), not {opts.features}")


def _runner(graph: Graph, labels: Sequence[str]) -> ModelRunner:
    runner = ModelRunner(graph)
    if runner.num_classes != len(labels):
        raise StreamError(f"the model has {runner.num_classes} outputs but {len(labels)} labels were given")
    return runner


def _run(graph: Graph, runner: ModelRunner, cfg: AudioPreset | MotionFeatures, names: list[str],
         samples: np.ndarray, rate: float | None, opts: StreamOptions, model: str) -> dict[str, Any]:
    rate, window, stride, post = loop_settings(cfg, opts, rate)
    featurize: Callable[[np.ndarray], np.ndarray]
    if isinstance(cfg, AUDIO_PRESETS):
        featurize, channels, dtype = audio_featurizer(cfg), 0, "int16"
        gate = energy_gate(opts.gate_dbfs) if opts.gate_dbfs is not None else None
    else:
        featurize, channels, dtype = motion_featurizer(cfg), cfg.axes, "float32"
        gate = motion_gate(opts.gate_motion) if opts.gate_motion is not None else None
    if opts.normalize is not None:
        featurize = _normalized(featurize, opts.normalize)
    tuning = None
    if opts.events is not None:
        tuning = _tune(list(opts.events), samples, runner, featurize, names, rate, window, stride, post,
                       opts.max_fa_per_hour)
        op = tuning["operating_point"]
        post = PostProcessing(op["threshold"], op["smoothing_s"], op["suppression_s"], op["min_count"],
                              post.ignore)
    loop = StreamLoop(runner, featurize, names, rate, window, stride, channels, post, gate,
                      opts.duty_ms / 1e3, dtype=dtype)
    try:
        loop.feed(samples)
        loop.finish()
    except ValueError as e:
        raise StreamError(str(e)) from None
    duration = max(len(samples), window) / rate
    audio = isinstance(cfg, AUDIO_PRESETS)
    result: dict[str, Any] = {
        "model": model, "features": opts.preset(audio),
        "duration_s": round(duration, 4), "window_s": window / rate, "stride_s": stride / rate,
        "postprocessing": post.to_dict(), "stats": loop.stats.to_dict(),
        "detections": [d.to_dict() for d in loop.detections],
        "windows": [{"time_s": round(r.time_s, 4), "label": r.label, "score": round(r.score, 4)}
                    for r in loop.results],
    }
    if tuning is not None:
        result["tuning"] = tuning
    if opts.board:
        result["power"] = _power(graph, opts.board, loop, duration, opts, opts.preset(audio))
    return result


def loop_settings(cfg: AudioPreset | MotionFeatures, opts: StreamOptions, rate: float | None
                  ) -> tuple[float, int, int, PostProcessing]:
    """(sample rate, window and stride in samples, post-processing) of the loop for front end
    ``cfg`` (audio runs at the front end's rate; motion at ``rate``)."""
    post = PostProcessing(opts.threshold, opts.smoothing_ms / 1e3, opts.suppression_ms / 1e3, opts.min_count,
                          tuple(opts.ignore))
    if isinstance(cfg, AUDIO_PRESETS):
        rate = float(cfg.sample_rate)
        window = cfg.clip_samples or cfg.sample_rate
        stride = round((opts.stride_ms if opts.stride_ms is not None else AUDIO_STRIDE_MS) * rate / 1e3)
    else:
        assert rate is not None
        window = cfg.window_samples
        stride = round(opts.stride_ms * rate / 1e3) if opts.stride_ms is not None else cfg.hop_samples
    if stride <= 0:
        raise StreamError("the stride between windows must be positive (at least one sample)")
    return rate, window, stride, post


def _normalized(featurize: Callable[[np.ndarray], np.ndarray],
                normalize: tuple[tuple[float, ...], tuple[float, ...]]) -> Callable[[np.ndarray], np.ndarray]:
    """``featurize`` followed by ``(f - offset) / scale`` per feature (an application's scaling)."""
    offset, scale = (np.asarray(v, np.float32) for v in normalize)

    def run(win: np.ndarray) -> np.ndarray:
        f = np.asarray(featurize(win), np.float32)
        if f.size != offset.size:
            raise StreamError(f"the front end gives {f.size} features but the scaling has {offset.size}")
        return ((f.reshape(-1) - offset) / scale).reshape(f.shape)
    return run


def _tune(events: list[Event], samples: np.ndarray, runner: ModelRunner, featurize: Callable[[np.ndarray],
          np.ndarray], names: list[str], rate: float, window: int, stride: int, post: PostProcessing,
          max_fa: float) -> dict[str, Any]:
    if not events:
        raise StreamError("tuning needs at least one labelled event (start_s, end_s, label)")
    unknown = sorted({e.label for e in events} - set(names))
    if unknown:
        raise StreamError(f"the events have labels the model does not know: {', '.join(unknown)}")
    times, scores = score_recording(samples, runner, featurize, window, stride, rate)
    duration = max(len(samples), window) / rate
    rows = sweep(times, scores, names, events, duration, window / rate, ignore=post.ignore)
    return {"events": len(events), "grid": len(rows), "max_fa_per_hour": max_fa,
            "pareto": pareto(rows), "operating_point": operating_point(rows, max_fa)}


def _power(graph: Graph, board: str, loop: StreamLoop, duration: float, opts: StreamOptions,
           preset: str) -> dict[str, Any]:
    try:
        bp = board_power(graph, board, count_cycles=opts.cycles)
    except PowerError as e:
        raise StreamError(str(e)) from None
    rate = loop.stats.inferences / duration
    events = len(loop.detections) * 3600.0 / duration
    feature_ms = front_end_ms(preset, bp.clock_mhz)
    summary = estimate(bp, rate, opts.battery, events, opts.event_mj, opts.always_on_mw,
                       feature_ms=feature_ms)
    if feature_ms:
        summary["source"] += (f"; front end: {M4_INSTRUCTIONS[preset]:,} Cortex-M4 instructions per window "
                              "(qemu-m4) at one per cycle")
    if opts.plot is not None:
        t, p = power_timeline(loop.stats.inference_times_s, duration, bp, always_on_mw=opts.always_on_mw,
                              busy_ms=bp.latency_ms + feature_ms)
        plot_power(opts.plot, t, p, summary)
        summary["plot"] = str(opts.plot)
    return summary
