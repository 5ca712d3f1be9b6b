"""The whole streaming loop as one firmware: the front end's C twin, the int8 model's generated C
and the post-processing's C twin (``device/c/ec_stream.c``), run over a recording on QEMU.

:func:`loop_program` writes the C program (a :class:`~edgecraft.codegen.GeneratedModel` whose
``ec_loop_invoke(samples, results)`` runs the loop over a whole recording: samples arrive in
chunks, windows come every stride, each goes through features, per-feature scaling,
quantization, the model, scores as probabilities, smoothing, threshold and suppression), and
:func:`emulate_loop` runs it on the QEMU machine of a board's core, with the loop's
instruction count per second of signal and the power it implies on that board. The settings
are those :func:`edgecraft.device.pipeline.stream_recording` uses, so both report the same
detections (up to a feature rounding that flips a quantized model input; the record counts
the windows whose scores differ).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.device.pipeline import StreamOptions, _check_kind, _preset, loop_settings
from edgecraft.device.postprocess import Detection, PostProcessing
from edgecraft.device.recordings import StreamError
from edgecraft.dsp.motion import MotionFeatures
from edgecraft.dsp.presets import AUDIO_PRESETS, AudioPreset
from edgecraft.ir.graph import Graph, Tensor

STATIC = ("ec_stream.h", "ec_stream.c")
HEADER_BYTES = 16  # windows, inferences, detections, duty-skipped windows (uint32 each)
WINDOW_BYTES = 12  # end sample (uint32), top label (int32), its score (float32)
DETECTION_BYTES = 16  # end sample (uint32), label (int32), averaged score (float64)
CHUNK_MS = 16.0  # samples reach the loop this often (a DMA half-buffer)


@dataclass(frozen=True)
class LoopSettings:
    """What the program is built for: front end, rate, window and stride in samples, the
    post-processing, duty period and per-feature scaling."""

    front_end: AudioPreset | MotionFeatures
    rate: float
    window: int
    stride: int
    post: PostProcessing
    period_s: float = 0.0
    normalize: tuple[tuple[float, ...], tuple[float, ...]] | None = None
    #: an autoencoder's loop: the score of "anomaly" is ``e / (e + threshold)``, ``e`` the int8
    #: reconstruction's mean squared error (``apps/streaming.py``'s ``anomaly_stream``)
    anomaly_threshold: float | None = None

    @property
    def channels(self) -> int:
        """Axes per sample (motion), 0 for mono int16 audio."""
        return self.front_end.axes if isinstance(self.front_end, MotionFeatures) else 0

    def windows(self, samples: int) -> int:
        """Windows the loop sees in ``samples`` (a short recording is padded to one window)."""
        return 1 + max(0, samples - self.window) // self.stride


def settings(graph: Graph, options: StreamOptions, audio: bool, rate: float | None = None) -> LoopSettings:
    """The loop settings ``stream_recording`` would use for these options."""
    opts = options
    if opts.gate_dbfs is not None or opts.gate_motion is not None:
        raise StreamError("the firmware loop has no gates yet; drop --gate-dbfs / --gate-motion")
    cfg = _preset(opts, audio)
    _check_kind(cfg, opts, audio)
    r, window, stride, post = loop_settings(cfg, opts, rate)
    return LoopSettings(cfg, r, window, stride, post, opts.duty_ms / 1e3, opts.normalize)


def _f(v: float) -> str:
    """A C float literal of the float32 nearest ``v`` (9 significant digits round-trip)."""
    text = f"{float(np.float32(v)):.9g}"
    return text + ("f" if any(c in text for c in ".e") else ".0f")


def _quant(t: Tensor, what: str) -> tuple[float, int]:
    if t.dtype != "int8" or t.quant is None:
        raise StreamError(f"the firmware loop needs a full int8 model; its {what} is {t.dtype}")
    return float(t.quant.scale[0]), int(t.quant.zero_point[0])


def _array(ctype: str, name: str, values: list[str]) -> str:
    rows = [", ".join(values[i:i + 8]) for i in range(0, len(values), 8)]
    return f"static const {ctype} {name}[{len(values)}] = {{\n    " + ",\n    ".join(rows) + "\n};\n"


def loop_sources() -> dict[str, str]:
    """The loop's static C files (windows, post-processing): ``{filename: text}``."""
    here = resources.files("edgecraft.device").joinpath("c")
    return {name: here.joinpath(name).read_text() for name in STATIC}


def loop_program(graph: Graph, labels: list[str], s: LoopSettings, samples: int, dsp: bool = False) -> Any:
    """The C program of the whole loop over a recording of ``samples`` samples (see the module
    docstring); its one output is the result bytes :func:`read_results` decodes."""
    from edgecraft.codegen import GeneratedModel, generate
    from edgecraft.dsp.firmware import feature_program, io_buffers

    cfg = s.front_end
    fe = feature_program(cfg, name="app")
    if fe.inputs[0].shape[0] != s.window:
        raise StreamError(f"the front end takes {fe.inputs[0].shape[0]} samples but the loop's window is "
                          f"{s.window}; set the front end's clip length to the window")
    model = generate(graph, "app_model", dsp=dsp)
    feats, feat_t = int(np.prod(fe.outputs[0].shape)), fe.outputs[0].dtype
    inp, out = graph.input_tensors()[0], graph.output_tensors()[0]
    in_scale, in_zp = _quant(inp, "input")
    out_scale, out_zp = _quant(out, "output")
    if int(np.prod(inp.shape)) != feats:
        raise StreamError(f"the front end gives {feats} values but the model input has shape "
                          f"{list(inp.shape)}")
    n_labels, n_out = len(labels), int(np.prod(out.shape))
    anomaly = s.anomaly_threshold is not None
    if anomaly and (n_out != feats or n_labels != 2 or s.normalize is None):
        raise StreamError("an anomaly loop needs an autoencoder over scaled features and two labels")
    if not anomaly and n_out != n_labels:
        raise StreamError(f"the model has {n_out} outputs but {n_labels} labels were given")
    ignored = {x.lower() for x in s.post.ignore}
    candidate = [int(lbl.lower() not in ignored) for lbl in labels]
    if not any(candidate):
        raise StreamError("every label is ignored; nothing could be detected")
    smooth = max(1, round(s.post.smoothing_s / (s.stride / s.rate)))
    sample_t = "float" if s.channels else "int16_t"
    per_sample = max(1, s.channels)
    n_windows = s.windows(samples)
    out_bytes = HEADER_BYTES + n_windows * (WINDOW_BYTES + DETECTION_BYTES)
    chunk = max(1, round(CHUNK_MS * s.rate / 1e3))
    parts = [
        "/* The streaming loop of one application: generated by edgecraft (device/firmware.py). */",
        "#include <math.h> /* INFINITY */", "#include <stdint.h>", "#include <string.h>", "",
        '#include "ec_loop.h"', '#include "ec_stream.h"', '#include "app_fe.h"', '#include "app_model.h"', "",
        _array("uint8_t", "ec_candidate", [str(c) for c in candidate]),
        f"static const ec_post_config ec_post = {{{n_labels}, ec_candidate, {smooth}, {s.post.threshold!r}, "
        f"{s.post.suppression_s!r}, {s.post.min_count}}};",
    ]
    scaled = s.normalize is not None
    if s.normalize is not None:
        offset, scale = (np.asarray(v, np.float32) for v in s.normalize)
        if offset.size != feats:
            raise StreamError(f"the front end gives {feats} features but the scaling has {offset.size}")
        parts += [_array("float", "ec_offset", [_f(v) for v in offset]),
                  _array("float", "ec_scale", [_f(v) for v in scale])]
    if feat_t == "int8" and not scaled:
        to_input = "    memcpy(ec_in, ec_feat, sizeof ec_in);"
    else:
        x = "((float)ec_feat[i] - ec_offset[i]) / ec_scale[i]" if scaled else "(float)ec_feat[i]"
        keep = "ec_x[i] = x; " if anomaly else ""  # the autoencoder's target
        to_input = (f"    for (int i = 0; i < {feats}; ++i) {{ float x = {x}; {keep}"
                    f"ec_in[i] = ec_quantize_int8(x, {_f(in_scale)}, {in_zp}); }}")
    if anomaly:
        to_scores = "\n".join([
            f"    for (int i = 0; i < {feats}; ++i) {{",
            f"        float d = (float)(ec_out[i] - ({out_zp})) * {_f(out_scale)} - ec_x[i];",
            "        ec_sq[i] = d * d;", "    }",
            f"    double e = (double)(ec_numpy_sum(ec_sq, {feats}) / {feats}.0f);",
            f"    double p = e / (e + {s.anomaly_threshold!r});",
            "    ec_scores[0] = (float)(1.0 - p);", "    ec_scores[1] = (float)p;"])
    else:
        to_scores = "\n".join([
            f"    for (int j = 0; j < {n_labels}; ++j) ec_scores[j] = (float)(ec_out[j] - ({out_zp})) * "
            f"{_f(out_scale)};", f"    ec_scores_as_probabilities(ec_scores, {n_labels});"])
    ctype = {"float32": "float", "int8": "int8_t"}[feat_t]
    parts += [
        f"static float ec_history[{smooth * n_labels}];",
        f"static {sample_t} ec_window_buf[{s.window * per_sample}];",
        f"static {ctype} ec_feat[{feats}];", f"static int8_t ec_in[{feats}];",
        f"static int8_t ec_out[{n_out}];", f"static float ec_scores[{n_labels}];",
        *([f"static float ec_x[{feats}];", f"static float ec_sq[{feats}];"] if anomaly else []),
        "static ec_detector ec_det;", "static ec_windower ec_win;", "",
        "typedef struct {", "    uint8_t *out;", "    uint32_t windows, inferences, detections, skipped;",
        "    double last_run;", "} ec_run;", "",
        "static void ec_put(uint8_t *dst, const void *v, uint32_t n) { memcpy(dst, v, n); }", "",
        "static void ec_on_window(void *ctx, uint32_t end, const void *window)", "{",
        "    ec_run *r = (ec_run *)ctx;",
        f"    double t = (double)end / {s.rate!r};",
        "    r->windows++;",
        f"    if (t - r->last_run < {s.period_s!r} - 1e-9) {{ r->skipped++; return; }}",
        "    r->last_run = t;",
        f"    app_fe_invoke((const {sample_t} *)window, ec_feat);",
        to_input,
        "    app_model_invoke(ec_in, ec_out);",
        to_scores,
        f"    int32_t top = ec_argmax(ec_scores, {n_labels});",
        f"    uint8_t *w = r->out + {HEADER_BYTES} + {WINDOW_BYTES} * r->inferences;",
        "    ec_put(w, &end, 4); ec_put(w + 4, &top, 4); ec_put(w + 8, &ec_scores[top], 4);",
        "    r->inferences++;",
        "    double score;",
        "    int32_t label = ec_detector_update(&ec_det, t, ec_scores, &score);",
        "    if (label < 0) return;",
        f"    uint8_t *d = r->out + {HEADER_BYTES + WINDOW_BYTES * n_windows}"
        f" + {DETECTION_BYTES} * r->detections;",
        "    ec_put(d, &end, 4); ec_put(d + 4, &label, 4); ec_put(d + 8, &score, 8);",
        "    r->detections++;", "}", "",
        f"int ec_loop_invoke(const {sample_t} *input, uint8_t *output)", "{",
        "    ec_run r = {output, 0, 0, 0, 0, -INFINITY};",
        f"    ec_windower_init(&ec_win, {s.window}, {s.stride}, {4 * s.channels or 2},"
        " (uint8_t *)ec_window_buf);",
        "    ec_detector_init(&ec_det, &ec_post, ec_history);",
        f"    for (uint32_t pos = 0; pos < {samples}u; pos += {chunk}u) {{",
        f"        int n = {samples}u - pos < {chunk}u ? (int)({samples}u - pos) : {chunk};",
        f"        ec_windower_push(&ec_win, input + pos * {per_sample}u, n, ec_on_window, &r);", "    }",
        f"    static const {sample_t} zero[{per_sample}];",
        f"    while (ec_win.total < {s.window}u) ec_windower_push(&ec_win, zero, 1, ec_on_window, &r);",
        "    ec_put(output, &r.windows, 4); ec_put(output + 4, &r.inferences, 4);",
        "    ec_put(output + 8, &r.detections, 4); ec_put(output + 12, &r.skipped, 4);",
        "    return 0;", "}", "",
    ]
    files = {**fe.files, **model.files}
    files.update(loop_sources())
    shape = (samples, s.channels) if s.channels else (samples,)
    inputs = [Tensor("samples", shape, "float32" if s.channels else "int16")]
    outputs = [Tensor("results", (out_bytes,), "uint8")]
    buf_decl, buf_src = io_buffers("ec_loop", inputs, outputs)
    files["ec_loop.h"] = ("/* ec_loop: an application's whole streaming loop over one recording. */\n"
                          "#ifndef EC_LOOP_H\n#define EC_LOOP_H\n#include <stdint.h>\n"
                          f"int ec_loop_invoke(const {sample_t} *input, uint8_t *output);\n{buf_decl}"
                          "#endif\n")
    files["ec_loop.c"] = "\n".join(parts) + buf_src
    return GeneratedModel("ec_loop", files, model.arena_bytes, inputs, outputs, dsp, model.algorithm,
                          model.kernels)


def read_results(raw: np.ndarray, s: LoopSettings, labels: list[str], samples: int) -> dict[str, Any]:
    """Decode the program's result bytes: stats, each inference's top label and detections."""
    b = np.asarray(raw, np.uint8).tobytes()
    windows, inferences, detections, skipped = np.frombuffer(b[:HEADER_BYTES], "<u4").tolist()
    n_windows = s.windows(samples)
    rec = np.dtype([("end", "<u4"), ("top", "<i4"), ("score", "<f4")])
    ws = np.frombuffer(b, rec, inferences, HEADER_BYTES)
    drec = np.dtype([("end", "<u4"), ("label", "<i4"), ("score", "<f8")])
    ds = np.frombuffer(b, drec, detections, HEADER_BYTES + WINDOW_BYTES * n_windows)
    return {
        "stats": {"windows": windows, "inferences": inferences, "gated": 0, "duty_skipped": skipped},
        "detections": [Detection(int(d["end"]) / s.rate, labels[int(d["label"])], float(d["score"])).to_dict()
                       for d in ds],
        "windows": [{"time_s": round(int(w["end"]) / s.rate, 4), "label": labels[int(w["top"])],
                     "score": round(float(w["score"]), 4)} for w in ws],
    }


def emulate_loop(graph: Graph, labels: list[str], samples: np.ndarray, s: LoopSettings, board: str,
                 workdir: Path | None = None) -> dict[str, Any]:
    """Run the loop's firmware over ``samples`` on the QEMU machine of ``board``'s core; returns
    the detections, windows and stats (as ``stream`` reports them), ``emulation`` (machine,
    instructions of the whole loop and per second of signal, flash, RAM, stack) and ``power``
    (cycles per second, duty cycle, average power and energy per day on ``board``)."""
    from edgecraft.emulate import emulate_generated, machine
    from edgecraft.targets import get_board
    from edgecraft.targets.cycles import core_model, cycle_profile_estimate

    b = get_board(board)
    m = machine(core_model(b.core).machine)
    x = np.ascontiguousarray(samples, np.float32 if s.channels else np.int16)
    n = len(x)
    program = loop_program(graph, labels, s, n, dsp=m.dsp)
    if x.nbytes + 64 * 1024 > m.ram_size:
        raise StreamError(f"the recording ({x.nbytes:,} bytes) does not fit {m.slug}'s RAM beside the loop; "
                          "give a shorter one")
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="edgecraft-loop-") as tmp:
            r = emulate_generated(program, m, [x[None]], workdir=Path(tmp), timeout_s=1800.0)
    else:
        r = emulate_generated(program, m, [x[None]], workdir=workdir, timeout_s=1800.0)
    out = read_results(r.outputs[0][0], s, labels, n)
    duration = max(n, s.window) / s.rate
    cyc = cycle_profile_estimate(r.classes, b, inferences_per_day=86400.0 / duration)
    busy_s = cyc["latency_ms"] / 1e3
    duty = min(1.0, busy_s / duration)
    energy_day = cyc["energy_per_day_j"]
    out["emulation"] = {
        "target": m.slug, "machine": m.qemu_machine, "core": m.core, "dsp": m.dsp,
        "instructions": r.instructions, "instructions_per_s": round(r.instructions / duration),
        "instructions_per_inference": round(r.instructions / max(1, out["stats"]["inferences"])),
        "flash_bytes": r.flash_bytes, "ram_bytes": r.ram_bytes, "stack_bytes": r.stack_bytes,
        "arena_bytes": r.arena_bytes,
    }
    out["power"] = {
        "board": b.slug, "clock_mhz": b.clock_mhz, "cycles_per_s": round(cyc["cycles"] / duration),
        "duty_cycle": round(duty, 6), "keeps_up": busy_s <= duration,
        "average_mw": None if energy_day is None else round(energy_day / 86.4, 6),
        "energy_per_day_j": None if energy_day is None else round(energy_day, 4),
        "source": f"{cyc['basis']}; board power from the catalog",
    }
    return out


def emulate_file(graph: Graph, labels: list[str], options: StreamOptions, board: str, *,
                 wav: Path | None = None, csv: Path | None = None, compare: bool = True) -> dict[str, Any]:
    """:func:`emulate_loop` on a WAV (audio) or motion CSV recording read as ``stream_file``
    reads it; ``compare`` also runs the Python loop (``stream_recording``) on the same samples
    and reports whether detections and per-window scores agree."""
    from edgecraft.device.pipeline import stream_recording
    from edgecraft.device.recordings import read_csv, read_wav

    if (wav is None) == (csv is None):
        raise StreamError("give exactly one recording: a WAV file (audio) or a CSV file (motion)")
    audio = wav is not None
    cfg = _preset(options, audio)
    _check_kind(cfg, options, audio)
    rate: float | None = None
    if wav is not None:
        assert isinstance(cfg, AUDIO_PRESETS)
        samples = read_wav(wav, 0, cfg.sample_rate)
    else:
        assert isinstance(cfg, MotionFeatures) and csv is not None
        samples, rate = read_csv(csv, cfg.axes, None, cfg.sample_rate)
    s = settings(graph, options, audio, rate)
    out = emulate_loop(graph, labels, samples, s, board)
    out["duration_s"] = round(max(len(samples), s.window) / s.rate, 4)
    out["window_s"], out["stride_s"] = s.window / s.rate, s.stride / s.rate
    out["postprocessing"] = s.post.to_dict()
    if compare:
        out["python"] = agreement(stream_recording(graph, labels, samples, options, rate=rate), out)
    return out


def agreement(python: dict[str, Any], emulated: dict[str, Any]) -> dict[str, Any]:
    """How the Python loop's record compares with the firmware's: its detections, whether they
    are the same, and how many windows have the same top label and score."""
    same = sum(a == b for a, b in zip(python["windows"], emulated["windows"], strict=False))
    equal = python["detections"] == emulated["detections"]
    return {"detections": python["detections"], "detections_equal": equal, "windows_equal": same,
            "windows": len(python["windows"])}
