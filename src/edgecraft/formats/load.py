"""One way in for every command that takes a model: ``.tflite`` or ``.onnx``.

An ONNX model is read into the IR and its quantize/dequantize steps folded into int8 ops
(:mod:`edgecraft.formats.qdq`); a float ONNX model is refused with the command that
quantizes it (``edgecraft quantize MODEL.onnx --calibration DATA.npy``).
"""

from __future__ import annotations

from pathlib import Path

from edgecraft.formats.tflite_reader import ModelFormatError, read_tflite
from edgecraft.ir.graph import Graph
from edgecraft.ir.validate import GraphError, validate
from edgecraft.ops.base import OpError
from edgecraft.ops.registry import check_shapes


def read_model(path: str | Path) -> Graph:
    """The int8 graph of the model at ``path`` (``.onnx`` by its suffix, else ``.tflite``)."""
    if Path(path).suffix.lower() == ".onnx":
        return read_onnx_int8(path)
    return read_tflite(path)


def read_onnx_int8(path: str | Path) -> Graph:
    """An ONNX QDQ model (quantized by ONNX Runtime or exported by edgecraft) as int8 IR."""
    from edgecraft.formats.onnx_read import read_onnx
    from edgecraft.formats.qdq import float_left, fold_qdq

    graph = read_onnx(path)
    try:
        graph = fold_qdq(graph)
    except Exception as e:  # a corrupt file's odd structure: one clear error, no traceback
        raise ModelFormatError(f"{path}: cannot make the model int8 ({type(e).__name__}: "
                               f"{' '.join(str(e).split())[:200]})") from None
    left = [graph.operators[j] for j in float_left(graph)]
    if left:
        compute = [op for op in left if op.type not in ("QUANTIZE", "DEQUANTIZE")] or left
        names = ", ".join(f"{op.type} making {graph.tensors[op.outputs[0]].name!r}" for op in compute[:3])
        raise ModelFormatError(
            f"{path}: not fully quantized: {len(compute)} op(s) compute in float ({names}"
            f"{', ...' if len(compute) > 3 else ''}); give the float model to `edgecraft quantize "
            "MODEL.onnx --calibration DATA.npy --out M.tflite`, or quantize every op (ONNX Runtime's "
            "quantize_static leaves some op types in float)")
    try:
        validate(graph)
        check_shapes(graph)
    except (GraphError, OpError) as e:
        raise ModelFormatError(f"{path}: inconsistent model after reading: {e}") from None
    return graph
