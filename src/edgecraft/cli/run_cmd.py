"""``edgecraft run MODEL --input X.npy``: run a model in the reference runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from edgecraft.cli.common import FORMAT_OPTION, Format, UserError, console, print_json
from edgecraft.formats import read_tflite
from edgecraft.ir.graph import Graph
from edgecraft.runtime import Interpreter


def load_inputs(paths: list[Path], graph: Graph) -> list[np.ndarray]:
    """Arrays from .npy files (one per input, in order) or one .npz (keyed by input name, or
    taken in file order)."""
    names = [t.name for t in graph.input_tensors()]
    arrays: list[np.ndarray] = []
    for p in paths:
        if not p.exists():
            raise UserError(f"input file {p} does not exist")
        try:
            loaded = np.load(p, allow_pickle=False)
        except (ValueError, OSError) as e:
            raise UserError(f"cannot read {p} as .npy or .npz: {e}") from None
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                keys = list(loaded.keys())
                if set(names) <= set(keys):
                    keys = names
                arrays.extend(loaded[k] for k in keys)
        else:
            arrays.append(loaded)
    return arrays


def save_outputs(path: Path, outputs: list[np.ndarray], graph: Graph) -> None:
    if path.suffix == ".npz":
        named: dict[str, np.ndarray] = {t.name or f"output_{i}": y for i, (t, y) in
                                        enumerate(zip(graph.output_tensors(), outputs, strict=True))}
        np.savez(path, **named)  # type: ignore[arg-type]  # numpy's stub types the first kwarg
    elif len(outputs) == 1:
        np.save(path, outputs[0])
    else:
        raise UserError(f"the model has {len(outputs)} outputs: give --output a .npz file name")


def run(
    model: Path = typer.Argument(..., help="A .tflite model file.", show_default=False),
    inputs: list[Path] = typer.Option(..., "--input", "-i",
                                      help="Input .npy (repeat for several inputs) or one .npz."),
    output: Path | None = typer.Option(None, "--output", "-o",
                                       help="Write outputs here (.npy, or .npz for several)."),
    reference: bool = typer.Option(False, "--reference",
                                   help="Run the reference kernels alone (the specification), no fast path."),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Run MODEL once on the given inputs with edgecraft's runtime (same bytes with or without
    its fast paths)."""
    graph = read_tflite(model)
    interp = Interpreter(graph, reference=reference)
    outputs = interp.run(load_inputs(inputs, graph))
    if output is not None:
        save_outputs(output, outputs, graph)
    if fmt is Format.json:
        print_json({
            "outputs": [{"shape": list(y.shape), "dtype": str(y.dtype),
                         "values": y.reshape(-1).tolist() if y.size <= 64 else None} for y in outputs],
            "output_file": str(output) if output is not None else None,
            "kernels": "reference" if reference else "default",
            "fast_path_ops": len(interp.fast_paths),
        })
        return
    table = Table(title=f"{model.name} outputs", title_justify="left")
    for col in ("#", "name", "dtype", "shape", "values"):
        table.add_column(col)
    for i, (t, y) in enumerate(zip(graph.output_tensors(), outputs, strict=True)):
        vals = np.array2string(y.reshape(-1)[:16], separator=" ") + (" ..." if y.size > 16 else "")
        table.add_row(str(i), t.name, str(y.dtype), str(list(y.shape)), vals)
    console.print(table)
    if output is not None:
        console.print(f"wrote {output}")
