"""``edgecraft run MODEL --input X.npy``: run a model in the reference runtime."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from edgecraft.cli.common import (
    FORMAT_OPTION,
    Format,
    UserError,
    console,
    load_arrays,
    output_file,
    print_json,
)
from edgecraft.files import atomic_path
from edgecraft.formats import read_model
from edgecraft.ir.graph import Graph
from edgecraft.runtime import Interpreter


def load_inputs(paths: list[Path], graph: Graph) -> list[np.ndarray]:
    """Arrays from .npy files (one per input, in order) or one .npz (keyed by input name, or
    taken in file order)."""
    names = [t.name for t in graph.input_tensors()]
    arrays: list[np.ndarray] = []
    for p in paths:
        loaded = dict(load_arrays(p))
        if "" in loaded:  # an .npy file
            arrays.append(loaded[""])
            continue
        keys = names if set(names) <= set(loaded) else list(loaded)
        arrays.extend(loaded[k] for k in keys)
    return arrays


@dataclass
class Batches:
    """Inputs as batches: ``arrays`` holds one (N, *input shape) array per model input.

    ``form`` says how the user gave them, so outputs come back the same way: "sample" (exactly
    the input shape: N = 1, no batch axis), "new-axis" (N samples along a new leading axis) or
    "leading" (the input's leading 1 replaced by N, e.g. [4, 3, 96, 96] for [1, 3, 96, 96])."""

    arrays: list[np.ndarray]
    form: str

    @property
    def size(self) -> int:
        return len(self.arrays[0])

    def sample(self, k: int) -> list[np.ndarray]:
        return [a[k] for a in self.arrays]

    def outputs(self, per_sample: list[list[np.ndarray]]) -> list[np.ndarray]:
        """Per-sample outputs (each of the model's output shape) -> arrays in the user's form."""
        stacked = [np.stack(ys) for ys in zip(*per_sample, strict=True)]
        if self.form == "sample":
            return [y[0] for y in stacked]
        if self.form == "leading":
            return [y[:, 0] if y.ndim > 1 and y.shape[1] == 1 else y for y in stacked]
        return stacked


def as_batches(arrays: list[np.ndarray], graph: Graph) -> Batches:
    """Check the arrays against the model's inputs and read them as batches (see :class:`Batches`);
    a mismatch is a :class:`UserError` naming exactly the shapes accepted."""
    tensors = graph.input_tensors()
    if len(arrays) != len(tensors):
        raise UserError(f"the model takes {len(tensors)} input(s), got {len(arrays)}; repeat --input")
    out, forms = [], set()
    for a, t in zip(arrays, tensors, strict=True):
        shape, got = tuple(t.shape), tuple(a.shape)
        if got == shape:
            form, b = "sample", a[None]
        elif got[1:] == shape:
            form, b = "new-axis", a
        elif len(shape) and shape[0] == 1 and len(got) == len(shape) and got[1:] == shape[1:]:
            form, b = "leading", a[:, None]
        else:
            form, b = "", a
        if not form or a.dtype != t.np_dtype:
            rest = ", ".join(str(d) for d in shape)
            also = f" or [N, {', '.join(str(d) for d in shape[1:])}]" if len(shape) and shape[0] == 1 else ""
            raise UserError(f"input '{t.name}' must have shape {list(shape)} (one sample) or [N, {rest}]"
                            f"{also} (N samples) and dtype {t.dtype}; got {list(got)} {a.dtype}")
        out.append(b)
        forms.add(form)
    if len({len(b) for b in out}) != 1:
        raise UserError("every input needs the same number of samples, got "
                        + ", ".join(str(len(b)) for b in out))
    form = "sample" if forms == {"sample"} else next(iter(forms - {"sample"}))
    return Batches(out, form)


def save_outputs(path: Path, outputs: list[np.ndarray], graph: Graph) -> None:
    """Write the outputs to exactly ``path`` (atomically): one array as .npy, several as .npz
    keyed by output name (an .npz name is required then)."""
    if path.suffix != ".npz" and len(outputs) != 1:
        raise UserError(f"the model has {len(outputs)} outputs: give --output a .npz file name")
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        if path.suffix == ".npz":
            named = {t.name or f"output_{i}": y
                     for i, (t, y) in enumerate(zip(graph.output_tensors(), outputs, strict=True))}
            np.savez(f, **named)  # type: ignore[arg-type]  # numpy's stub types the first kwarg
        else:
            np.save(f, outputs[0])


def run(
    model: Path = typer.Argument(..., help="A .tflite or .onnx model file.", show_default=False),
    inputs: list[Path] = typer.Option(..., "--input", "-i",
                                      help="Input .npy (repeat for several inputs) or one .npz; "
                                      "a leading batch axis runs each sample."),
    output: Path | None = typer.Option(None, "--output", "-o",
                                       help="Write outputs here (.npy, or .npz for several)."),
    reference: bool = typer.Option(False, "--reference",
                                   help="Run the reference kernels alone (the specification), no fast path."),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Run MODEL on the given inputs (one sample or a batch) with edgecraft's runtime (same
    bytes with or without its fast paths)."""
    output_file(output, "--output")
    graph = read_model(model)
    interp = Interpreter(graph, reference=reference)
    batches = as_batches(load_inputs(inputs, graph), graph)
    outputs = batches.outputs([interp.run(batches.sample(k)) for k in range(batches.size)])
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
