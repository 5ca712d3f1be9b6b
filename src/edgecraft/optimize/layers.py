"""Per-layer quantization error: float activations vs int8 activations, layer by layer.

How it is measured (one method, stated): the int8 graph is run in edgecraft's runtime with every
activation tensor made a graph output, so each intermediate int8 tensor is read exactly as TFLM
would compute it; it is dequantized (``scale * (q - zero_point)``). The float activations come
from forward hooks on the PyTorch model's leaf modules. The two are matched by name: the
converter names each tensor after the module scope that produced it, and the first op writing a
module's output is the one compared (views that follow only move it). Like is compared with like:
an op with a fused activation (Linear + ReLU, conv + ReLU6) is compared after the activation, a
convolution followed by a BatchNorm (folded into it) after the BatchNorm, and
a channels-last int8 tensor (NHWC, NLC) with the float activation's channel axis moved last
(never reshaped, which would pair unrelated values). Errors
therefore accumulate from the input on, as they do on the device: each layer reports its
relative error (rmse over the rms of the float activation), the same for its worst channel (a
channel crushed by a loud neighbour shows there), and how much relative error it adds over the
layer before it; layers are listed by that last number, so the one that loses the most comes
first. Tensors with no matching leaf module are skipped.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from edgecraft.ir.graph import Graph

if TYPE_CHECKING:
    import torch


class Int8Model(Protocol):
    """What :func:`layer_errors` reads from a quantized model (``ptq.QuantizedModel`` is one);
    a protocol, so this module does not import ``ptq``, which imports it."""

    graph: Graph

    def input_int8(self, x: np.ndarray) -> np.ndarray: ...


@dataclass
class LayerError:
    """Error of one layer's int8 output against the float model, over the samples."""

    layer: str  # the PyTorch module path, e.g. "features.3"
    op: str  # the int8 op that produced it
    tensor: str
    rmse: float
    max_abs: float
    relative: float  # rmse / rms of the float activation (errors accumulated from the input on)
    worst_channel: float  # the same for the worst used channel (last axis): a crushed channel shows
    added: float  # relative error this layer adds over the layer before it (the sort key)
    index: int = -1  # the operator's position in the int8 graph

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def scope_keys(model: torch.nn.Module) -> dict[str, str]:
    """The converter's scope text (root excluded) -> module path, for every leaf module.
    ``nn.ModuleList`` and ``nn.ModuleDict`` are never called, so they leave no scope."""
    from torch import nn

    keys = {}
    for path, m in model.named_modules():
        if not path or any(True for _ in m.children()):
            continue
        parts, node = [], model
        for name in path.split("."):
            node = node._modules[name]  # type: ignore[assignment]
            if not isinstance(node, (nn.ModuleList, nn.ModuleDict)):
                parts.append(f"{type(node).__module__}.{type(node).__qualname__}_{name}")
        keys["/".join(parts)] = path
    return keys


def module_for(tensor_name: str, keys: dict[str, str]) -> str | None:
    """The module path whose scope named ``tensor_name`` (its first ';' part), if any."""
    first = tensor_name.split(";")[0]
    for key in sorted(keys, key=len, reverse=True):
        if first == key or first.endswith("/" + key):
            return keys[key]
    return None


def _float_activations(model: torch.nn.Module, x: torch.Tensor,
                       paths: set[str]) -> tuple[dict[str, list[np.ndarray]], str | None]:
    """Each path's outputs on ``x``, one per call, and the leaf whose output is the model's. For
    a layer whose output feeds straight into a BatchNorm (folded into it by the converter), the
    BatchNorm's output, which is what the int8 tensor holds."""
    import torch

    outputs: dict[str, list[Any]] = {}
    values: dict[str, list[np.ndarray]] = {}
    inputs: dict[str, list[Any]] = {}
    handles = []
    for path, m in model.named_modules():
        if path and not any(True for _ in m.children()):
            def hook(_m: Any, i: Any, o: Any, path: str = path) -> None:
                outputs.setdefault(path, []).append(o)  # kept alive: identities below stay unique
                inputs.setdefault(path, []).append(i[0] if isinstance(i, tuple) and i else None)
                if isinstance(o, torch.Tensor):  # copied now: an inplace ReLU/Hardswish overwrites it
                    values.setdefault(path, []).append(o.detach().clone().numpy())
            handles.append(m.register_forward_hook(hook))
    try:
        with torch.no_grad():
            result = model.eval()(x)
    finally:
        for h in handles:
            h.remove()
    last = next((p for p, outs in outputs.items() if outs and outs[-1] is result), None)
    folded = {p: b for b, m in model.named_modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
              for p in paths if len(outputs.get(p, ())) == 1 and len(inputs.get(b, ())) == 1
              and inputs[b][0] is outputs[p][0]}
    return {p: values[folded.get(p, p)] for p in paths if folded.get(p, p) in values}, last


class _Stats:
    """Running sums of squared error and float energy per channel (last axis)."""

    def __init__(self) -> None:
        self.se = np.zeros(0)
        self.energy = np.zeros(0)
        self.n = 0
        self.max_abs = 0.0

    def add(self, got: np.ndarray, ref: np.ndarray) -> None:
        err = (got - ref).reshape(-1, got.shape[-1]).astype(np.float64)
        r = ref.reshape(-1, got.shape[-1]).astype(np.float64)
        if self.n == 0:
            self.se, self.energy = np.zeros(err.shape[1]), np.zeros(err.shape[1])
        self.se += (err * err).sum(0)
        self.energy += (r * r).sum(0)
        self.n += err.size
        self.max_abs = max(self.max_abs, float(np.abs(err).max()))

    @staticmethod
    def relative(se: float, energy: float) -> float:
        return float((se / max(energy, 1e-12)) ** 0.5)


def _squeezed(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(d for d in shape if d != 1)


def _to_ir_layout(f: np.ndarray, shape: tuple[int, ...], view: bool = False) -> np.ndarray | None:
    """The float activation ``f`` (PyTorch layout, channels on axis 1) laid out as the int8
    tensor of ``shape``: channels moved last (NCL -> NLC, NCHW -> NHWC) when that is the int8
    layout, and only axes of size 1 added or dropped; never a reshape that reorders values.
    Computing ops work channels-last; a ``view`` op (RESHAPE, TRANSPOSE) is tried as is first."""
    shape = tuple(shape)
    moved = [np.moveaxis(f, 1, -1)] if f.ndim >= 3 else []
    candidates = [f, *moved] if view else [*moved, f]
    for c in candidates:  # (1, 8, 8, 8) NCHW vs NHWC: a computing op's output is NHWC
        if _squeezed(c.shape) == _squeezed(shape):
            return c.reshape(shape)
    return None


VIEWS = ("RESHAPE", "TRANSPOSE", "SQUEEZE", "EXPAND_DIMS")
#: ops the converter leaves in PyTorch's axis order (attention's (N, heads, L, S) is no NCHW)
SAME_LAYOUT = ("BATCH_MATMUL", "FULLY_CONNECTED", "SOFTMAX")
#: fused activation -> what it does to the float reference (the int8 tensor is after it).
FUSED: dict[str, tuple[float, float]] = {"RELU": (0.0, np.inf), "RELU6": (0.0, 6.0),
                                         "RELU_N1_TO_1": (-1.0, 1.0)}


def _calls(g: Graph, keys: dict[str, str]) -> dict[str, list[int]]:
    """Module path -> the tensor each of its calls writes, in graph order (see the module text).
    The graph output's producer, named without a scope, is listed under ``""``."""
    runs: list[tuple[str | None, list[int]]] = []
    for j, op in enumerate(g.operators):
        t = g.tensors[op.outputs[0]]
        path = module_for(t.name, keys) if t.dtype == "int8" else None
        if runs and path is not None and runs[-1][0] == path:
            runs[-1][1].append(j)
        else:
            runs.append((path, [j]))
    calls: dict[str, list[int]] = {}
    for path, ops in runs:
        if path is not None:
            computing = [j for j in ops if g.operators[j].type not in VIEWS] or ops
            calls.setdefault(path, []).append(g.operators[computing[-1]].outputs[0])
    for k in g.outputs:
        if g.tensors[k].dtype == "int8" and module_for(g.tensors[k].name, keys) is None:
            calls.setdefault("", []).append(k)
    return calls


def _pair(calls: list[int], floats: int) -> list[int | None]:
    """Which int8 tensor each float call is compared with: in order when the counts agree; a
    module called once takes its last run (the converter may split one call)."""
    if len(calls) == floats:
        return list(calls)
    if floats == 1 and calls:
        return [calls[-1]]
    return [None] * floats


def layer_errors(qm: Int8Model, model: torch.nn.Module, samples: np.ndarray) -> list[LayerError]:
    """Per-layer errors of ``qm`` vs ``model`` on float ``samples`` (N, ...); worst first."""
    import torch

    from edgecraft.runtime import Interpreter

    g = qm.graph
    keys = scope_keys(model)
    calls = _calls(g, keys)
    if not calls:
        return []
    producer = {op.outputs[0]: j for j, op in enumerate(g.operators)}
    tensors = {k for ks in calls.values() for k in ks}
    probe = copy.copy(g)
    probe.outputs = list(dict.fromkeys([*g.outputs, *sorted(tensors)]))
    interp = Interpreter(probe)
    stats: dict[str, _Stats] = {}
    first: dict[str, int] = {}  # path -> the tensor of its first compared call (report order)
    for s in samples:
        values = dict(zip(probe.outputs, interp.run([qm.input_int8(s)]), strict=True))
        acts, last = _float_activations(model, torch.from_numpy(np.asarray(s, np.float32)[None]),
                                        {p for p in calls if p} | set(keys.values()))
        for path, ks in calls.items():
            name = last if path == "" else path
            if name is None or name not in acts or (path == "" and name in calls):
                continue
            floats = acts[name]
            pairs = _pair(ks, len(floats)) if path else [None] * (len(floats) - 1) + ks[-1:]
            for ref_call, k in zip(floats, pairs, strict=True):
                if k is None:
                    continue
                t, op = g.tensors[k], g.operators[producer[k]]
                ref = _to_ir_layout(ref_call, t.shape, op.type in VIEWS or op.type in SAME_LAYOUT)
                clamp = FUSED.get(str(op.attrs.get("fused_activation_function", "NONE")))
                if ref is None:
                    continue
                if clamp is not None:  # compare after the fused activation
                    ref = np.clip(ref, *clamp)
                stats.setdefault(name, _Stats()).add((values[k].astype(np.float32) - t.zero_point)
                                                     * np.float32(t.scale), ref)
                first.setdefault(name, k)
    result, before = [], 0.0
    for path in sorted(stats, key=lambda p: producer[first[p]]):
        st, k = stats[path], first[path]
        rel = st.relative(st.se.sum(), st.energy.sum())
        live = st.energy > 1e-3 * np.median(st.energy)  # channels the float model actually uses
        worst = max((st.relative(se, en) for se, en in zip(st.se[live], st.energy[live], strict=True)),
                    default=rel)
        name = g.tensors[k].name.split(";")[0].rsplit("/", 1)[-1]
        rmse = float((st.se.sum() / st.n) ** 0.5)
        result.append(LayerError(path, g.operators[producer[k]].type, name, rmse, st.max_abs, rel, worst,
                                 max(rel - before, 0.0), producer[k]))
        before = rel
    return sorted(result, key=lambda e: -e.added)
