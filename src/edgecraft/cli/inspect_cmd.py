"""``edgecraft inspect MODEL``: ops, tensors, parameters, MACs and sizes of a model."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from edgecraft.cli.common import FORMAT_OPTION, Format, console, print_json
from edgecraft.formats import read_model
from edgecraft.ir.graph import Graph, Tensor
from edgecraft.ir.validate import validate
from edgecraft.ops.registry import graph_macs, op_cost


def tensor_info(t: Tensor) -> dict[str, Any]:
    """The contract's description of a graph input or output."""
    return {
        "name": t.name,
        "shape": list(t.shape),
        "dtype": t.dtype,
        "scale": t.scale if t.quant is not None else None,
        "zero_point": t.zero_point if t.quant is not None else None,
    }


def describe(graph: Graph) -> dict[str, Any]:
    """Everything ``inspect`` reports, as plain data."""
    validate(graph)
    costs = [op_cost(graph, op) for op in graph.operators]
    consts = [t for t in graph.tensors if t.is_constant]
    layers = []
    for j, (op, c) in enumerate(zip(graph.operators, costs, strict=True)):
        out = graph.tensors[op.outputs[0]] if op.outputs else None  # ASSIGN_VARIABLE has none
        layers.append(
            {"index": j, "op": op.type, "output_shape": list(out.shape) if out else [],
             "output_dtype": out.dtype if out else None,
             "macs": c.macs, "weights_bytes": sum(graph.tensors[k].nbytes for k in op.inputs
                                                  if k != -1 and graph.tensors[k].is_constant)}
        )
    return {
        "name": graph.name,
        "description": graph.description,
        "ops": [op.type for op in graph.operators],
        "op_counts": dict(Counter(op.type for op in graph.operators)),
        "params": sum(t.size for t in consts),
        "macs": graph_macs(graph),
        "weights_bytes": sum(t.nbytes for t in consts),
        "tensors": len(graph.tensors),
        "inputs": [tensor_info(t) for t in graph.input_tensors()],
        "outputs": [tensor_info(t) for t in graph.output_tensors()],
        "layers": layers,
    }


def inspect(
    model: Path = typer.Argument(..., help="A .tflite or .onnx model file.", show_default=False),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Show a model's ops, inputs and outputs, parameter count, MACs and weight size."""
    info = describe(read_model(model))
    if fmt is Format.json:
        print_json(info)
        return
    table = Table(title=f"{model.name}: {len(info['ops'])} ops", title_justify="left")
    for col in ("#", "op", "output", "MACs", "weights (B)"):
        table.add_column(col, justify="right" if col in ("#", "MACs", "weights (B)") else "left")
    for layer in info["layers"]:
        table.add_row(str(layer["index"]), layer["op"],
                      f"{layer['output_dtype']} {layer['output_shape']}",
                      f"{layer['macs']:,}", f"{layer['weights_bytes']:,}")
    console.print(table)
    for kind in ("inputs", "outputs"):
        for t in info[kind]:
            q = "" if t["scale"] is None else f"  scale {t['scale']:.6g} zero point {t['zero_point']}"
            console.print(f"{kind[:-1]:6} {t['name']}: {t['dtype']} {t['shape']}{q}")
    console.print(
        f"params {info['params']:,}   weights {info['weights_bytes']:,} B   MACs {info['macs']:,}"
    )
