"""``edgecraft export MODEL --onnx OUT.onnx``: the int8 graph as an ONNX QDQ model."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from edgecraft.cli.common import FORMAT_OPTION, Format, UserError, console, output_file, print_json

MODEL_ARG = typer.Argument(..., help="A .tflite or .onnx model file.", show_default=False)
ONNX_OPT = typer.Option(None, "--onnx", help="Write an ONNX QDQ model (ONNX Runtime runs it) here.")


def export(model: Path = MODEL_ARG, onnx: Path | None = ONNX_OPT, fmt: Format = FORMAT_OPTION) -> None:
    """Write the model in another format: --onnx OUT.onnx (QuantizeLinear/DequantizeLinear
    around float ops, the int8 graph's scales and zero points)."""
    if onnx is None:
        raise UserError("say what to write: --onnx OUT.onnx")
    output_file(onnx, "--onnx")
    from edgecraft.formats import read_model
    from edgecraft.formats.onnx_write import to_onnx

    graph = read_model(model)
    proto = to_onnx(graph)
    from edgecraft.files import write_bytes

    data = proto.SerializeToString()
    write_bytes(onnx, data)
    info = {"out": str(onnx), "size_bytes": len(data), "nodes": len(proto.graph.node),
            "ops": [op.type for op in graph.operators], "opset": proto.opset_import[0].version}
    if fmt is Format.json:
        print_json(info)
        return
    console.print(f"wrote {escape(str(onnx))}: {len(data):,} bytes, {info['nodes']} ONNX nodes "
                  f"(opset {info['opset']}) for {len(graph.operators)} int8 ops", emoji=False)
