"""``edgecraft stream MODEL --wav FILE --features kws-mfcc --labels down,go,...``: the device
loop on a recording (audio from a WAV file or motion from a CSV file), with detections and,
given ``--board``, the power and battery estimate.

``edgecraft stream DIR --wav/--csv FILE`` takes model, front end, labels and post-processing
from a trained application (``edgecraft train DIR``); options given on the command line win."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from edgecraft.cli.common import (
    FORMAT_OPTION,
    Format,
    UserError,
    at_least_one,
    console,
    finite,
    non_empty,
    non_negative,
    output_file,
    positive,
    print_json,
    probability,
)
from edgecraft.device.pipeline import StreamOptions, stream_file
from edgecraft.device.postprocess import DEFAULT_IGNORE
from edgecraft.device.power import PowerError, parse_battery
from edgecraft.device.recordings import StreamError, read_events


def parse_labels(text: str) -> list[str]:
    """Labels from ``a,b,c`` or from a file with one label a line."""
    p = Path(text)
    if p.is_file():
        try:
            labels = [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except UnicodeDecodeError:
            raise UserError(f"--labels file {p} is not text; write one label a line") from None
    else:
        labels = [s.strip() for s in text.split(",") if s.strip()]
    if not labels:
        raise UserError("--labels is empty; give L1,L2,... or a file with one label a line")
    return labels


def stream(
    model: Annotated[Path, typer.Argument(help="A .tflite model file, or a trained application directory.",
                                          show_default=False)],
    labels: Annotated[str | None, typer.Option("--labels", help="L1,L2,... in model output order, or a "
                                               "file (not needed for an application).")] = None,
    wav: Annotated[Path | None, typer.Option("--wav", help="Audio recording (WAV).")] = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="Motion recording (CSV).")] = None,
    images: Annotated[str | None, typer.Option("--images", help="Application (person): camera frames, a "
                                               "folder or a glob pattern, in sorted order.")] = None,
    inferences: Annotated[int | None, typer.Option("--inferences", help="Application (sine): steps of the "
                                                   "hello-world loop [one sweep].", callback=at_least_one)]
    = None,
    features: Annotated[str | None, typer.Option(help="Front end: kws-mfcc, kws-log-mel, micro-speech, "
                                                     "str-ww-lfbe, imu.")] = None,
    channel: Annotated[int, typer.Option(help="WAV channel to use.", callback=non_negative)] = 0,
    threshold: Annotated[float | None, typer.Option(help="Detection threshold on the smoothed score [0.6].",
                                                    callback=probability)] = None,
    smoothing_ms: Annotated[float | None, typer.Option(help="Posterior smoothing window [500].",
                                                       callback=non_negative)] = None,
    suppression_ms: Annotated[float | None, typer.Option(help="Quiet time after a detection [1000].",
                                                         callback=non_negative)] = None,
    min_count: Annotated[int | None, typer.Option(help="Consecutive hits needed for a detection [1].",
                                                  callback=at_least_one)] = None,
    stride_ms: Annotated[float | None, typer.Option(help="Time between windows (audio: 250).",
                                                    callback=positive)] = None,
    ignore: Annotated[str | None, typer.Option(
        help="Labels never reported [" + ",".join(DEFAULT_IGNORE) + "].")] = None,
    gate_dbfs: Annotated[float | None, typer.Option(help="Audio energy gate, dB full scale.",
                                                    callback=finite)] = None,
    gate_motion: Annotated[float | None, typer.Option(help="Motion gate: RMS acceleration change.",
                                                      callback=non_negative)] = None,
    duty_ms: Annotated[float, typer.Option(help="Run the model at most every N ms.",
                                           callback=non_negative)] = 0.0,
    csv_rate: Annotated[float | None, typer.Option(help="CSV sample rate in Hz.", callback=positive)] = None,
    board: Annotated[str | None, typer.Option(help="Board for the power estimate, e.g. nano33ble.")] = None,
    battery: Annotated[str | None, typer.Option(help="Battery, e.g. 220mAh@3.0V.",
                                                callback=non_empty)] = None,
    event_mj: Annotated[float, typer.Option(help="Energy per reported detection (radio), mJ.",
                                           callback=non_negative)] = 0.0,
    always_on_mw: Annotated[float, typer.Option(help="Sensor and gate power that never sleeps, mW.",
                                               callback=non_negative)] = 0.0,
    cycles: Annotated[bool, typer.Option("--cycles", help="Model latency for the power estimate from "
                                         "instructions counted on QEMU and the cycle model.")] = False,
    plot: Annotated[Path | None, typer.Option("--plot-power", help="Write power over time as PNG.")] = None,
    tune: Annotated[Path | None, typer.Option(help="Labelled events CSV (start_s,end_s,label): sweep the "
                                              "post-processing, use the operating point.")] = None,
    max_fa_per_hour: Annotated[float, typer.Option(help="False accepts per hour allowed by --tune.",
                                                  callback=non_negative)] = 1.0,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Run MODEL continuously over a recording and print detections (time, label, score).
    An application directory takes what its kind streams: --wav, --csv, --images (person) or
    nothing (sine's hello-world loop)."""
    if not model.is_dir() and (wav is None) == (csv is None):
        raise UserError("give exactly one of --wav FILE (audio) or --csv FILE (motion)")
    if not model.is_dir() and (images is not None or inferences is not None):
        raise UserError("--images and --inferences run an application's loop: give an application directory")
    if (battery is not None or plot is not None) and not board:
        raise UserError("--battery and --plot-power need --board, e.g. --board nano33ble")
    output_file(plot, "--plot-power")
    if stride_ms is not None and stride_ms <= 0:
        raise UserError("--stride-ms must be positive")
    post: dict[str, Any] = {k: v for k, v in (("threshold", threshold), ("smoothing_ms", smoothing_ms),
                            ("suppression_ms", suppression_ms), ("min_count", min_count),
                            ("stride_ms", stride_ms)) if v is not None}
    if ignore is not None:
        post["ignore"] = tuple(s.strip() for s in ignore.split(",") if s.strip())
    try:
        bat = parse_battery(battery) if battery is not None else None
        extra = dict(gate_dbfs=gate_dbfs, gate_motion=gate_motion, duty_ms=duty_ms, board=board, battery=bat,
                     event_mj=event_mj, always_on_mw=always_on_mw, plot=plot, cycles=cycles,
                     events=tuple(read_events(tune)) if tune is not None else None,
                     max_fa_per_hour=max_fa_per_hour)
        if model.is_dir():
            result = _stream_app(model, labels, features, wav, csv,
                                 {**post, **extra, "images": images, "inferences": inferences})
        else:
            if labels is None:
                raise UserError("--labels is required with a model file (L1,L2,... or a file)")
            options = StreamOptions(features=features, **post, **extra)  # type: ignore[arg-type]
            result = stream_file(model, parse_labels(labels), wav=wav, csv=csv, channel=channel,
                                 csv_rate=csv_rate, options=options)
    except (StreamError, PowerError) as e:
        raise UserError(str(e)) from None
    if "rows" in result:
        _print_rows(result, fmt)
        return
    if fmt is Format.json:
        print_json(result)
        return
    _print(result)


def _stream_app(root: Path, labels: str | None, features: str | None, wav: Path | None, csv: Path | None,
                options: dict[str, Any]) -> dict[str, Any]:
    from edgecraft.apps.spec import SpecError
    from edgecraft.apps.use import stream_app

    if labels is not None or features is not None:
        raise UserError(f"{root} is an application: its labels and front end come from its app.toml; "
                        "drop --labels and --features")
    try:
        return stream_app(root, wav=wav, csv=csv, **_set(options))
    except SpecError as e:
        raise UserError(str(e)) from None


def _set(options: dict[str, Any]) -> dict[str, Any]:
    """The options given (the others left to the application's spec)."""
    unset = {"duty_ms": 0.0, "event_mj": 0.0, "always_on_mw": 0.0, "cycles": False, "max_fa_per_hour": 1.0}
    return {k: v for k, v in options.items() if v is not None and not (k in unset and v == unset[k])}


def _print_rows(result: dict[str, Any], fmt: Format) -> None:
    if fmt is Format.json:
        print_json(result)
        return
    table = Table()
    loop = "brightness" in result["rows"][0] if result["rows"] else False
    cols = ("step", "time (s)", "x", "x int8", "y int8", "y", "LED") if loop else ("x", "y (int8 model)")
    for col in cols:
        table.add_column(col)
    for r in result["rows"]:
        if loop:
            table.add_row(str(r["step"]), f"{r['time_s']:g}", f"{r['x']:.4f}", str(r["x_q"]), str(r["y_q"]),
                          f"{r['y']:.4f}", str(r["brightness"]))
        else:
            table.add_row(f"{r['x']:.4g}", f"{r['y']:.4f}")
    console.print(table)
    if "python" in result:
        py = result["python"]
        console.print(f"Python loop (edgecraft stream): {py['rows_equal']} of {py['rows']} steps with the "
                      "same values")


def _print(result: dict[str, Any]) -> None:
    if "frames" in result:
        console.print(f"{Path(result['model']).name}: {result['features']}, {result['frames']} frames, "
                      f"one every {result['stride_s']:g} s")
    else:
        console.print(f"{Path(result['model']).name}: {result['features']}, {result['duration_s']:.2f} s, "
                      f"window {result['window_s']:g} s every {result['stride_s']:g} s")
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
