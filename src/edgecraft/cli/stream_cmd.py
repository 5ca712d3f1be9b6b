"""``edgecraft stream MODEL --wav FILE --features kws-mfcc --labels down,go,...``: the device
loop on a recording (audio from a WAV file or motion from a CSV file), with detections and,
given ``--board``, the power and battery estimate."""

from __future__ import annotations

from math import gcd
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from edgecraft.cli.common import FORMAT_OPTION, Format, UserError, console, print_json
from edgecraft.device.postprocess import DEFAULT_IGNORE, PostProcessing
from edgecraft.device.power import (
    Battery,
    PowerError,
    board_power,
    estimate,
    parse_battery,
    plot_power,
    power_timeline,
)
from edgecraft.device.stream import (
    ModelRunner,
    StreamLoop,
    audio_featurizer,
    energy_gate,
    motion_featurizer,
    motion_gate,
)
from edgecraft.device.tuning import Event, operating_point, pareto, score_recording, sweep
from edgecraft.dsp.audio import AudioFeatures
from edgecraft.dsp.firmware import M4_INSTRUCTIONS, front_end_ms
from edgecraft.dsp.motion import MotionFeatures
from edgecraft.dsp.presets import get_preset
from edgecraft.formats import read_tflite


def parse_labels(text: str) -> list[str]:
    """Labels from ``a,b,c`` or from a file with one label a line."""
    p = Path(text)
    if p.is_file():
        labels = [ln.strip() for ln in p.read_text().splitlines() if ln.strip()]
    else:
        labels = [s.strip() for s in text.split(",") if s.strip()]
    if not labels:
        raise UserError("--labels is empty; give L1,L2,... or a file with one label a line")
    return labels


def read_wav(path: Path, channel: int, rate: int) -> np.ndarray:
    """One channel of a WAV file as int16 at ``rate`` Hz (resampled if the file differs)."""
    from scipy.io import wavfile
    from scipy.signal import resample_poly

    if not path.is_file():
        raise UserError(f"WAV file {path} does not exist")
    try:
        sr, data = wavfile.read(path)
    except ValueError as e:
        raise UserError(f"cannot read {path} as WAV: {e}") from None
    if data.ndim == 2:
        if not 0 <= channel < data.shape[1]:
            raise UserError(f"{path} has {data.shape[1]} channels; --channel must be 0..{data.shape[1] - 1}")
        data = data[:, channel]
    if data.dtype.kind == "f":
        x = data.astype(np.float64) * 32768.0
    else:
        bits = data.dtype.itemsize * 8
        x = data.astype(np.float64) * (2.0 ** (16 - bits)) if data.dtype.kind == "i" else \
            (data.astype(np.float64) - 128.0) * 256.0
    if sr != rate:
        g = gcd(sr, rate)
        x = resample_poly(x, rate // g, sr // g)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def read_csv(path: Path, axes: int, rate: float | None, default_rate: float) -> tuple[np.ndarray, float]:
    """``(samples, axes)`` floats and the sample rate from a CSV (header optional; a first
    column named t, time or timestamp in seconds gives the rate)."""
    if not path.is_file():
        raise UserError(f"CSV file {path} does not exist")
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    header = lines[0].split(",") if lines and any(c.isalpha() for c in lines[0]) else None
    try:
        data = np.loadtxt(lines[1:] if header else lines, delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError as e:
        raise UserError(f"cannot read {path} as numeric CSV: {e}") from None
    if header and header[0].strip().lower() in ("t", "time", "timestamp", "time_s"):
        if rate is None and len(data) > 1:
            rate = 1.0 / float(np.median(np.diff(data[:, 0])))
        data = data[:, 1:]
    if data.shape[1] != axes:
        raise UserError(f"{path} has {data.shape[1]} data columns but the motion preset expects {axes}")
    return data.astype(np.float32), float(rate or default_rate)


def stream(
    model: Annotated[Path, typer.Argument(help="A .tflite model file.", show_default=False)],
    labels: Annotated[str, typer.Option("--labels", help="L1,L2,... in model output order, or a file.")],
    wav: Annotated[Path | None, typer.Option("--wav", help="Audio recording (WAV).")] = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="Motion recording (CSV).")] = None,
    features: Annotated[str | None, typer.Option(help="Front end: kws-mfcc, kws-log-mel, imu.")] = None,
    channel: Annotated[int, typer.Option(help="WAV channel to use.")] = 0,
    threshold: Annotated[float, typer.Option(help="Detection threshold on the smoothed score.")] = 0.6,
    smoothing_ms: Annotated[float, typer.Option(help="Posterior smoothing window.")] = 500.0,
    suppression_ms: Annotated[float, typer.Option(help="Quiet time after a detection.")] = 1000.0,
    min_count: Annotated[int, typer.Option(help="Consecutive hits needed for a detection.")] = 1,
    stride_ms: Annotated[float | None, typer.Option(help="Time between windows (audio: 250).")] = None,
    ignore: Annotated[str, typer.Option(help="Labels never reported.")] = ",".join(DEFAULT_IGNORE),
    gate_dbfs: Annotated[float | None, typer.Option(help="Audio energy gate, dB full scale.")] = None,
    gate_motion: Annotated[float | None, typer.Option(help="Motion gate: RMS acceleration change.")] = None,
    duty_ms: Annotated[float, typer.Option(help="Run the model at most every N ms.")] = 0.0,
    csv_rate: Annotated[float | None, typer.Option(help="CSV sample rate in Hz.")] = None,
    board: Annotated[str | None, typer.Option(help="Board for the power estimate, e.g. nano33ble.")] = None,
    battery: Annotated[str | None, typer.Option(help="Battery, e.g. 220mAh@3.0V.")] = None,
    event_mj: Annotated[float, typer.Option(help="Energy per reported detection (radio), mJ.")] = 0.0,
    always_on_mw: Annotated[float, typer.Option(help="Sensor and gate power that never sleeps, mW.")] = 0.0,
    plot: Annotated[Path | None, typer.Option("--plot-power", help="Write power over time as PNG.")] = None,
    tune: Annotated[Path | None, typer.Option(help="Labelled events CSV (start_s,end_s,label): sweep the "
                                              "post-processing, use the operating point.")] = None,
    max_fa_per_hour: Annotated[float, typer.Option(help="False accepts per hour allowed by --tune.")] = 1.0,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Run MODEL continuously over a recording and print detections (time, label, score)."""
    if (wav is None) == (csv is None):
        raise UserError("give exactly one of --wav FILE (audio) or --csv FILE (motion)")
    if (battery or plot) and not board:
        raise UserError("--battery and --plot-power need --board, e.g. --board nano33ble")
    names = parse_labels(labels)
    try:
        bat = parse_battery(battery) if battery else None
    except PowerError as e:
        raise UserError(str(e)) from None
    try:
        cfg = get_preset(features or ("kws-mfcc" if wav else "imu"))
    except ValueError as e:
        raise UserError(str(e)) from None
    graph = read_tflite(model)
    runner = ModelRunner(graph)
    if runner.num_classes != len(names):
        raise UserError(f"the model has {runner.num_classes} outputs but {len(names)} labels were given")
    post = PostProcessing(threshold, smoothing_ms / 1e3, suppression_ms / 1e3, min_count,
                          tuple(s.strip() for s in ignore.split(",") if s.strip()))
    if wav is not None:
        if not isinstance(cfg, AudioFeatures):
            raise UserError(f"--wav needs an audio front end (kws-mfcc, kws-log-mel), not {features}")
        rate = float(cfg.sample_rate)
        samples: np.ndarray = read_wav(wav, channel, cfg.sample_rate)
        window = cfg.clip_samples or cfg.sample_rate
        stride = round((stride_ms if stride_ms is not None else 250.0) * rate / 1e3)
        featurize, channels, dtype = audio_featurizer(cfg), 0, "int16"
        gate = energy_gate(gate_dbfs) if gate_dbfs is not None else None
    else:
        if not isinstance(cfg, MotionFeatures):
            raise UserError(f"--csv needs a motion front end (imu), not {features}")
        assert csv is not None
        samples, rate = read_csv(csv, cfg.axes, csv_rate, cfg.sample_rate)
        window = cfg.window_samples
        stride = round(stride_ms * rate / 1e3) if stride_ms is not None else cfg.hop_samples
        featurize, channels, dtype = motion_featurizer(cfg), cfg.axes, "float32"
        gate = motion_gate(gate_motion) if gate_motion is not None else None
    if stride <= 0:
        raise UserError("--stride-ms must be positive")
    tuning = None
    if tune is not None:
        tuning = _tune(tune, samples, runner, featurize, names, rate, window, stride, post, max_fa_per_hour)
        op = tuning["operating_point"]
        post = PostProcessing(op["threshold"], op["smoothing_s"], op["suppression_s"], op["min_count"],
                              post.ignore)
    loop = StreamLoop(runner, featurize, names, rate, window, stride, channels, post, gate,
                      duty_ms / 1e3, dtype=dtype)
    try:
        loop.feed(samples)
        loop.finish()
    except ValueError as e:
        raise UserError(str(e)) from None
    duration = max(len(samples), window) / rate
    result: dict[str, Any] = {
        "model": str(model), "features": features or ("kws-mfcc" if wav else "imu"),
        "duration_s": round(duration, 4), "window_s": window / rate, "stride_s": stride / rate,
        "postprocessing": post.to_dict(), "stats": loop.stats.to_dict(),
        "detections": [d.to_dict() for d in loop.detections],
        "windows": [{"time_s": round(r.time_s, 4), "label": r.label, "score": round(r.score, 4)}
                    for r in loop.results],
    }
    if tuning is not None:
        result["tuning"] = tuning
    if board:
        preset = features or ("kws-mfcc" if wav else "imu")
        extra = (event_mj, always_on_mw)
        result["power"] = _power(graph, board, bat, loop, duration, extra, plot, preset)
    if fmt is Format.json:
        print_json(result)
        return
    _print(result)


def read_events(path: Path) -> list[Event]:
    """Labelled events from a CSV: ``start_s,end_s,label`` a line (a header line is skipped)."""
    if not path.is_file():
        raise UserError(f"events file {path} does not exist")
    events = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        parts = [p.strip() for p in line.split(",")]
        if not line.strip() or (n == 1 and parts[0].lower() in ("start", "start_s")):
            continue
        try:
            events.append(Event(float(parts[0]), float(parts[1]), parts[2]))
        except (ValueError, IndexError):
            raise UserError(f"{path}:{n}: expected start_s,end_s,label, got {line!r}") from None
    if not events:
        raise UserError(f"{path} holds no events; write one start_s,end_s,label a line")
    return events


def _tune(path: Path, samples: np.ndarray, runner: ModelRunner, featurize: Any, names: list[str], rate: float,
          window: int, stride: int, post: PostProcessing, max_fa: float) -> dict[str, Any]:
    events = read_events(path)
    unknown = sorted({e.label for e in events} - set(names))
    if unknown:
        raise UserError(f"{path} has labels the model does not know: {', '.join(unknown)}")
    times, scores = score_recording(samples, runner, featurize, window, stride, rate)
    duration = max(len(samples), window) / rate
    rows = sweep(times, scores, names, events, duration, window / rate, ignore=post.ignore)
    return {"events": len(events), "grid": len(rows), "max_fa_per_hour": max_fa,
            "pareto": pareto(rows), "operating_point": operating_point(rows, max_fa)}


def _power(graph: Any, board: str, bat: Battery | None, loop: StreamLoop, duration: float,
           extra: tuple[float, float], plot: Path | None, preset: str) -> dict[str, Any]:
    event_mj, always_on_mw = extra
    try:
        bp = board_power(graph, board)
    except PowerError as e:
        raise UserError(str(e)) from None
    rate = loop.stats.inferences / duration
    events = len(loop.detections) * 3600.0 / duration
    feature_ms = front_end_ms(preset, bp.clock_mhz)
    summary = estimate(bp, rate, bat, events, event_mj, always_on_mw, feature_ms=feature_ms)
    if feature_ms:
        summary["source"] += (f"; front end: {M4_INSTRUCTIONS[preset]:,} Cortex-M4 instructions per window "
                              "(qemu-m4) at one per cycle")
    if plot is not None:
        t, p = power_timeline(loop.stats.inference_times_s, duration, bp, always_on_mw=always_on_mw,
                              busy_ms=bp.latency_ms + feature_ms)
        plot_power(plot, t, p, summary)
        summary["plot"] = str(plot)
    return summary


def _print(result: dict[str, Any]) -> None:
    console.print(f"{Path(result['model']).name}: {result['features']}, {result['duration_s']:.2f} s, window "
                  f"{result['window_s']:g} s every {result['stride_s']:g} s")
    table = Table()
    for col in ("time (s)", "label", "score"):
        table.add_column(col)
    for d in result["detections"]:
        table.add_row(f"{d['time_s']:.2f}", d["label"], f"{d['score']:.3f}")
    console.print(table)
    if not result["detections"]:
        top = max(result["windows"], key=lambda w: w["score"], default=None)
        extra = f"; top window: {top['label']} {top['score']:.3f} at {top['time_s']:.2f} s" if top else ""
        console.print(f"no detections{extra}")
    if "tuning" in result:
        tt = result["tuning"]
        console.print(f"tuning over {tt['grid']} settings, {tt['events']} events; the best trade-offs:")
        tab = Table()
        for col in ("threshold", "smoothing s", "suppression s", "min count", "FA/hour", "FRR"):
            tab.add_column(col)
        for r in tt["pareto"]:
            tab.add_row(*(str(r[k]) for k in ("threshold", "smoothing_s", "suppression_s", "min_count")),
                        f"{r['fa_per_hour']:.2f}", f"{r['frr']:.3f}")
        console.print(tab)
        op = tt["operating_point"]
        console.print(f"operating point (FA/hour <= {tt['max_fa_per_hour']}): threshold {op['threshold']}, "
                      f"smoothing {op['smoothing_s']} s, suppression {op['suppression_s']} s, min count "
                      f"{op['min_count']}: {op['fa_per_hour']:.2f} FA/hour, FRR {op['frr']:.3f}")
    s = result["stats"]
    console.print(f"windows {s['windows']}, inferences {s['inferences']}, gated {s['gated']}, "
                  f"duty-skipped {s['duty_skipped']}")
    if "power" in result:
        p = result["power"]
        line = (f"power on {p['board']}: {p['latency_ms']:.3g} ms/inference + {p['feature_ms']:.3g} ms "
                f"front end, {p['inferences_per_s']} /s, "
                f"duty {p['duty_cycle']:.2%}, average {p['average_mw']:.4g} mW, "
                f"{p['energy_per_day_j']:.4g} J/day")
        if "battery_life_h" in p:
            line += f", battery {p['battery_mah']:g} mAh @ {p['battery_v']:g} V lasts " \
                    f"{p['battery_life_h']:.1f} h ({p['battery_life_days']:.1f} days)"
        console.print(line)
        if not p["keeps_up"]:
            console.print("[yellow]the board cannot keep up with this rate: raise --duty-ms or --stride-ms"
                          "[/yellow]")
        console.print(f"[dim]figures: {p['source']}[/dim]")
        if "plot" in p:
            console.print(f"wrote {p['plot']}")
