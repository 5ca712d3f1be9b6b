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
    """The converter's scope text (root excluded) -> module path, for every leaf module."""
    keys = {}
    for path, m in model.named_modules():
        if not path or any(True for _ in m.children()):
            continue
        parts, node = [], model
        for name in path.split("."):
            node = node._modules[name]  # type: ignore[assignment]
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


def _float_activations(model: torch.nn.Module, x: torch.Tensor, paths: set[str]) -> dict[str, np.ndarray]:
    """Each path's output on ``x``; for a layer whose output feeds straight into a BatchNorm
    (folded into it by the converter), the BatchNorm's output, which is what the int8 tensor holds."""
    import torch

    outputs: dict[str, Any] = {}
    values: dict[str, np.ndarray] = {}
    inputs: dict[str, Any] = {}
    handles = []
    for path, m in model.named_modules():
        if path and not any(True for _ in m.children()):
            def hook(_m: Any, i: Any, o: Any, path: str = path) -> None:
                outputs[path] = o  # kept alive until the end: identities below stay unique
                inputs[path] = i[0] if isinstance(i, tuple) and i else None
                if isinstance(o, torch.Tensor):  # copied now: an inplace ReLU/Hardswish overwrites it
                    values[path] = o.detach().clone().numpy()
            handles.append(m.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model.eval()(x)
    finally:
        for h in handles:
            h.remove()
    folded = {p: b for b, m in model.named_modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
              for p in paths if p in outputs and b in inputs and inputs[b] is outputs[p]}
    return {p: values[folded.get(p, p)] for p in paths if folded.get(p, p) in values}


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
#: fused activation -> what it does to the float reference (the int8 tensor is after it).
FUSED: dict[str, tuple[float, float]] = {"RELU": (0.0, np.inf), "RELU6": (0.0, 6.0),
                                         "RELU_N1_TO_1": (-1.0, 1.0)}


def layer_errors(qm: Int8Model, model: torch.nn.Module, samples: np.ndarray) -> list[LayerError]:
    """Per-layer errors of ``qm`` vs ``model`` on float ``samples`` (N, ...); worst first."""
    import torch

    from edgecraft.runtime import Interpreter

    g = qm.graph
    keys = scope_keys(model)
    produced = [(op.type, op.outputs[0]) for op in g.operators]
    position = {k: j for j, (_, k) in enumerate(produced)}
    seen: set[str] = set()
    matched = []
    for op, k in produced:  # the first op writing a module's output computes it; views follow
        path = module_for(g.tensors[k].name, keys) if g.tensors[k].dtype == "int8" else None
        if path is not None and path not in seen:
            seen.add(path)
            matched.append((op, k, path))
    clamp = {k: FUSED.get(str(g.operators[position[k]].attrs.get("fused_activation_function", "NONE")))
             for _, k, _ in matched}
    if not matched:
        return []
    probe = copy.copy(g)
    probe.outputs = list(dict.fromkeys([*g.outputs, *(k for _, k, _ in matched)]))
    interp = Interpreter(probe)
    stats: dict[int, _Stats] = {k: _Stats() for _, k, _ in matched}
    for s in samples:
        values = dict(zip(probe.outputs, interp.run([qm.input_int8(s)]), strict=True))
        acts = _float_activations(model, torch.from_numpy(np.asarray(s, np.float32)[None]),
                                  {p for _, _, p in matched})
        for _, k, path in matched:
            t = g.tensors[k]
            view = g.operators[position[k]].type in VIEWS
            ref = _to_ir_layout(acts[path], t.shape, view) if path in acts else None
            if ref is not None and clamp[k] is not None:  # compare after the fused activation
                ref = np.clip(ref, *clamp[k])  # type: ignore[misc]
            if ref is not None:
                stats[k].add((values[k].astype(np.float32) - t.zero_point) * np.float32(t.scale), ref)
    result, before = [], 0.0
    for op, k, path in matched:
        st = stats[k]
        if st.n == 0:
            continue
        rel = st.relative(st.se.sum(), st.energy.sum())
        live = st.energy > 1e-3 * np.median(st.energy)  # channels the float model actually uses
        worst = max((st.relative(se, en) for se, en in zip(st.se[live], st.energy[live], strict=True)),
                    default=rel)
        name = g.tensors[k].name.split(";")[0].rsplit("/", 1)[-1]
        result.append(LayerError(path, op, name, float((st.se.sum() / st.n) ** 0.5), st.max_abs, rel, worst,
                                 max(rel - before, 0.0), position[k]))
        before = rel
    return sorted(result, key=lambda e: -e.added)
