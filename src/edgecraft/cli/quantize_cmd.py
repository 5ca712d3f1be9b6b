"""``edgecraft quantize MODEL.py:FACTORY --weights W.pt --calibration DATA.npy --out M.tflite``:
post-training quantization to a full-int8 .tflite, with what it cost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from edgecraft.cli.common import (
    FORMAT_OPTION,
    Format,
    UserError,
    console,
    finite_float_array,
    load_arrays,
    output_file,
    print_json,
)


def _load_array(path: Path, what: str) -> np.ndarray:
    arrays = load_arrays(path, what)
    if len(arrays) != 1 or arrays[0][0]:
        raise UserError(f"{path}: give one .npy array (N, C, H, W), not an .npz archive")
    return finite_float_array(arrays[0][1], f"{what} file {path}")


def run_quantize(model_spec: str, calibration: Path, out: Path, weights: Path | None = None,
                 holdout: Path | None = None, channels_last: bool = False) -> dict[str, Any]:
    """Quantize and write ``out``; everything ``quantize`` reports, as plain data."""
    from edgecraft.optimize.capture import captured
    from edgecraft.optimize.loader import load_factory
    from edgecraft.optimize.pt2e import QuantizeError
    from edgecraft.optimize.ptq import quantize

    output_file(out, "--out")
    calib = _load_array(calibration, "calibration")
    held = _load_array(holdout, "holdout") if holdout is not None else None
    if model_spec.lower().endswith(".onnx"):
        return _quantize_onnx(model_spec, calib, held, out)
    model_file = model_spec.rpartition(":")[0] or model_spec
    try:
        with captured():  # torch and the converter print; stdout carries only our output
            model, _ = load_factory(model_spec, weights)
            qm = quantize(model, calib, held, channels_last=channels_last)
    except QuantizeError as e:
        message = str(e)  # every message starts with the file it is about (the model's by default)
        files = [str(p) for p in (model_file, weights, calibration, holdout) if p is not None]
        about = any(message.lstrip("'\"").startswith(f) for f in files)
        raise UserError(message if about else f"{model_file}: {message}") from None
    qm.save(out)
    report = qm.report.as_dict() if qm.report is not None else {}
    return {"out": str(out), "agreement": report.get("agreement"),
            "max_abs_error": report.get("max_abs_error"), "ops": [op.type for op in qm.graph.operators],
            "input_shape": list(qm.graph.input_tensors()[0].shape), **report,
            "size_bytes": len(qm.tflite)}


def _quantize_onnx(model: str, calib: np.ndarray, held: np.ndarray | None, out: Path) -> dict[str, Any]:
    """A float ONNX model through edgecraft's IR-level PTQ (:mod:`edgecraft.optimize.ir_ptq`)."""
    from edgecraft.files import write_bytes
    from edgecraft.formats import write_tflite
    from edgecraft.formats.qdq import float_left
    from edgecraft.optimize.ir_ptq import CalibrationError, quantize_onnx

    try:
        graph, report = quantize_onnx(model, calib, held)
    except CalibrationError as e:
        raise UserError(f"{model}: {e}") from None
    left = float_left(graph)
    if left:
        op = graph.operators[left[0]]
        raise UserError(f"{model}: {len(left)} op(s) could not be quantized (first: {op.type} making "
                        f"{graph.tensors[op.outputs[0]].name!r})")
    data = write_tflite(graph)
    write_bytes(out, data)
    return {"out": str(out), **report, "ops": [op.type for op in graph.operators],
            "input_shape": list(graph.input_tensors()[0].shape), "size_bytes": len(data), "layers": []}


MODEL_ARG = typer.Argument(..., help="MODEL.py:FACTORY (a function returning a torch.nn.Module), "
                           "or a float MODEL.onnx.",
                           show_default=False)
CALIBRATION_OPT = typer.Option(..., "--calibration", help="Float inputs (N, C, H, W) as .npy.")
OUT_OPT = typer.Option(..., "--out", help="Where to write the int8 .tflite.")
WEIGHTS_OPT = typer.Option(None, "--weights", help="A torch.save state dict for the model.")
HOLDOUT_OPT = typer.Option(None, "--holdout", help="Held-out inputs for the report "
                           "(default: the last quarter of the calibration data).")
CHANNELS_LAST_OPT = typer.Option(False, "--channels-last", help="Give the .tflite an NHWC input.")


def quantize(model: str = MODEL_ARG, calibration: Path = CALIBRATION_OPT, out: Path = OUT_OPT,
             weights: Path | None = WEIGHTS_OPT, holdout: Path | None = HOLDOUT_OPT,
             channels_last: bool = CHANNELS_LAST_OPT, fmt: Format = FORMAT_OPTION) -> None:
    """Quantize a PyTorch model to a full-int8 .tflite (PTQ) and report what it cost."""
    info = run_quantize(model, calibration, out, weights, holdout, channels_last)
    if fmt is Format.json:
        print_json(info)
        return
    console.print(f"wrote {escape(info['out'])}: {info['size_bytes']:,} bytes (float32 parameters "
                  f"{info.get('float_size_bytes', 0):,} bytes), ops {' '.join(info['ops'])}", emoji=False)
    if info["agreement"] is not None:
        console.print(f"on {info['samples']} held-out samples: top-1 agreement "
                      f"{100 * info['agreement']:.1f}%, max |int8 - float| {info['max_abs_error']:.4g}")
    table = Table(title="per-layer error, float vs int8 activations (most added error first)",
                  title_justify="left")
    for col in ("layer", "op", "rmse", "max abs", "relative", "worst channel", "added"):
        table.add_column(col, justify="left" if col in ("layer", "op") else "right")
    for layer in info.get("layers", []):
        table.add_row(layer["layer"], layer["op"], f"{layer['rmse']:.4g}", f"{layer['max_abs']:.4g}",
                      *(f"{100 * layer[k]:.2f}%" for k in ("relative", "worst_channel", "added")))
    if info.get("layers"):
        console.print(table)
