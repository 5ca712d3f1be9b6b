"""The device loops of the two applications that do not listen to a sample stream, in Python
(their C twins are in :mod:`edgecraft.apps.firmware`; both give the same values).

- ``sine``, TFLite Micro's hello world: inference ``k`` puts ``x = (k mod steps) / steps *
  2 pi`` through the int8 model (``x`` quantized by truncation, as TFLM's example writes
  ``int8_t x_quantized = x / scale + zero_point``), takes ``y`` back and drives an LED with
  brightness ``(int)(127.5 * (y + 1))`` (0..255). Every step is float32 arithmetic in the
  order the C loop does it.
- ``person``, visual wake words over a camera's frames: every frame (a picture, one every
  ``stride_ms``) goes through the image front end (crop, resize, normalize, quantize to the
  model's input), the int8 model and the post-processing of the other apps (smoothing over
  frames, threshold, consecutive hits, suppression), so a person who walks by is reported
  once, not on every frame.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.apps.spec import AppSpec
from edgecraft.device.postprocess import Detector, PostProcessing
from edgecraft.device.recordings import StreamError
from edgecraft.dsp.image import ImagePreprocess
from edgecraft.ir.graph import Graph

#: TFLM's hello world: kXrange = 2.f * 3.14159265359f
X_RANGE = np.float32(2.0 * 3.14159265359)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def int8_io(graph: Graph) -> tuple[float, int, float, int]:
    """Scale and zero point of the model's input and output (a full int8 model)."""
    inp, out = graph.input_tensors()[0], graph.output_tensors()[0]
    for t, what in ((inp, "input"), (out, "output")):
        if t.dtype != "int8" or t.quant is None:
            raise StreamError(f"the device loop needs a full int8 model; its {what} is {t.dtype}")
    assert inp.quant is not None and out.quant is not None
    return (float(inp.quant.scale[0]), int(inp.quant.zero_point[0]),
            float(out.quant.scale[0]), int(out.quant.zero_point[0]))


def sine_input(k: int, steps: int, scale: float, zero_point: int) -> tuple[float, int]:
    """Inference ``k``'s ``x`` (float32) and its int8 value, as TFLM's hello world computes them."""
    f = np.float32
    position = f(k % steps) / f(steps)
    x = f(position * X_RANGE)
    v = f(x / f(scale)) + f(zero_point)
    return float(x), int(np.clip(np.trunc(v), -128, 127))


def sine_output(y_q: int, scale: float, zero_point: int) -> tuple[float, int]:
    """``y`` (float32) from the model's int8 output and the LED brightness it drives (0..255)."""
    f = np.float32
    y = f(f(y_q - zero_point) * f(scale))
    brightness = int(np.trunc(f(f(127.5) * f(y + f(1)))))
    return float(y), min(255, max(0, brightness))


def sine_loop(graph: Graph, steps: int, inferences: int, stride_s: float = 0.0) -> dict[str, Any]:
    """Run the hello-world loop ``inferences`` times (``steps`` per sweep of ``x``) on edgecraft's
    runtime; each row: step, time, x, its int8 value, the int8 output, y, LED brightness."""
    from edgecraft.runtime import Interpreter

    if steps < 1 or inferences < 1:
        raise StreamError("the sine loop needs at least one step per sweep and one inference")
    s_in, zp_in, s_out, zp_out = int8_io(graph)
    interp = Interpreter(graph)
    shape = graph.input_tensors()[0].shape
    rows = []
    for k in range(inferences):
        x, x_q = sine_input(k, steps, s_in, zp_in)
        y_q = int(interp.run([np.full(shape, x_q, np.int8)])[0].reshape(-1)[0])
        y, led = sine_output(y_q, s_out, zp_out)
        rows.append({"step": k, "time_s": round(k * stride_s, 6), "x": x, "x_q": x_q, "y_q": y_q, "y": y,
                     "brightness": led})
    return {"steps": steps, "inferences": inferences, "stride_s": stride_s, "rows": rows, "detections": []}


def frame_files(where: str | Path) -> list[Path]:
    """The frames of ``where``: the pictures in a folder, or the files a glob pattern matches,
    in sorted (name) order."""
    p = Path(where)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
        if not files:
            raise StreamError(f"folder {p} holds no pictures ({', '.join(IMAGE_SUFFIXES)})")
        return files
    files = sorted(Path(f) for f in glob.glob(str(where)) if Path(f).is_file())
    if not files:
        raise StreamError(f"--images {where}: no such folder, and no file matches it as a pattern")
    return files


def read_frames(files: list[Path]) -> list[np.ndarray]:
    """Each picture as ``(height, width, 3)`` uint8."""
    from PIL import Image, UnidentifiedImageError

    frames = []
    for f in files:
        try:
            with Image.open(f) as im:
                frames.append(np.asarray(im.convert("RGB"), np.uint8))
        except (UnidentifiedImageError, OSError) as e:
            raise StreamError(f"cannot read {f} as a picture: {e}") from None
    return frames


def frame_input(cfg: ImagePreprocess, graph: Graph) -> ImagePreprocess:
    """The image front end sized and quantized for the model's ``(1, h, w, c)`` input."""
    try:
        return cfg.for_input(graph.input_tensors()[0])
    except ValueError as e:
        raise StreamError(f"the model does not take pictures: {e}") from None


def smoothing_length(post: PostProcessing, frame_s: float) -> int:
    """Frames the smoothing averages (as :class:`~edgecraft.device.postprocess.Detector`)."""
    return max(1, round(post.smoothing_s / frame_s))


def frame_loop(graph: Graph, labels: list[str], frames: list[np.ndarray], cfg: ImagePreprocess,
               post: PostProcessing, frame_s: float, names: list[str] | None = None) -> dict[str, Any]:
    """Run the frames (frame ``i`` at ``i * frame_s`` seconds) through the front end, the int8
    model and the post-processing; the record ``stream DIR --images`` prints."""
    from edgecraft.device.stream import ModelRunner

    if not frames:
        raise StreamError("no frames to run")
    if frame_s <= 0:
        raise StreamError("the time between frames (stream.stride_ms) must be positive")
    pre = frame_input(cfg, graph)
    runner = ModelRunner(graph)
    if runner.num_classes != len(labels):
        raise StreamError(f"the model has {runner.num_classes} outputs but {len(labels)} labels were given")
    try:
        detector = Detector(labels, frame_s, post)
    except ValueError as e:
        raise StreamError(str(e)) from None
    windows, detections = [], []
    for i, img in enumerate(frames):
        t = i * frame_s
        scores = runner(pre(img))
        top = int(np.argmax(scores))
        row = {"time_s": round(t, 4), "label": labels[top], "score": round(float(scores[top]), 4)}
        if names is not None:
            row["frame"] = names[i]
        windows.append(row)
        det = detector.update(t, scores)
        if det is not None:
            detections.append(det.to_dict())
    return {
        "frames": len(frames), "frame_s": frame_s, "window_s": frame_s, "stride_s": frame_s,
        "duration_s": round(len(frames) * frame_s, 4), "postprocessing": post.to_dict(),
        "stats": {"windows": len(frames), "inferences": len(frames), "gated": 0, "duty_skipped": 0},
        "detections": detections, "windows": windows,
    }


def only(overrides: dict[str, Any], allowed: tuple[str, ...]) -> None:
    """Refuse the stream options a loop has no use for (those set to something)."""
    unused = sorted(k for k, v in overrides.items() if k not in allowed and v not in (None, 0, False, ()))
    if unused:
        option = {"events": "tune", "plot": "plot-power"}.get(unused[0], unused[0]).replace("_", "-")
        raise StreamError(f"--{option} does not apply to this app's loop")


def frame_settings(spec: AppSpec, overrides: dict[str, Any]) -> tuple[Any, float]:
    """The person loop's post-processing and time between frames: the spec's ``[stream]``
    with the options given (threshold, smoothing_ms, suppression_ms, min_count, stride_ms,
    ignore)."""
    keys = ("threshold", "smoothing_ms", "suppression_ms", "min_count", "stride_ms", "ignore")
    only(overrides, keys)
    st = spec.stream
    o = {k: v for k, v in overrides.items() if k in keys and v is not None}
    post = PostProcessing(float(o.get("threshold", st.threshold)),
                          float(o.get("smoothing_ms", st.smoothing_ms)) / 1e3,
                          float(o.get("suppression_ms", st.suppression_ms)) / 1e3,
                          int(o.get("min_count", st.min_count)), tuple(o.get("ignore", st.ignore)))
    return post, float(o.get("stride_ms", st.stride_ms or 1000.0)) / 1e3
