"""Per-layer quantization error: float activations vs int8 activations, layer by layer.

How it is measured (one method, stated): the int8 graph is run in edgecraft's runtime with every
activation tensor made a graph output, so each intermediate int8 tensor is read exactly as TFLM
would compute it; it is dequantized (``scale * (q - zero_point)``). The float activations come
from forward hooks on the PyTorch model's leaf modules. The two are matched by name: the
converter names each tensor after the module scope that produced it (for a fused conv + ReLU the
ReLU comes first), and NHWC tensors are compared with the NCHW activations transposed. Errors
therefore accumulate from the input on, as they do on the device; the layer where the relative
error jumps is the one that loses the most. Tensors with no matching leaf module are skipped.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

    from edgecraft.optimize.ptq import QuantizedModel


@dataclass
class LayerError:
    """Error of one layer's int8 output against the float model, over the samples."""

    layer: str  # the PyTorch module path, e.g. "features.3"
    op: str  # the int8 op that produced it
    tensor: str
    rmse: float
    max_abs: float
    relative: float  # rmse / rms of the float activation

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
    import torch

    out: dict[str, np.ndarray] = {}
    handles = []
    for path, m in model.named_modules():
        if path in paths:
            def hook(_m: Any, _i: Any, o: Any, path: str = path) -> None:
                out[path] = o.detach().clone().numpy()
            handles.append(m.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model.eval()(x)
    finally:
        for h in handles:
            h.remove()
    return out


def _to_ir_layout(f: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    if f.ndim == 4 and len(shape) == 4 and (f.shape[0], *f.shape[2:], f.shape[1]) == tuple(shape):
        return np.transpose(f, (0, 2, 3, 1))
    if f.size == int(np.prod(shape)) and (f.ndim != 4 or f.shape[2:] == (1, 1)):
        return f.reshape(shape)
    return None


def layer_errors(qm: QuantizedModel, model: torch.nn.Module, samples: np.ndarray) -> list[LayerError]:
    """Per-layer errors of ``qm`` vs ``model`` on float ``samples`` (N, ...); worst first."""
    import torch

    from edgecraft.runtime import Interpreter

    g = qm.graph
    keys = scope_keys(model)
    produced = [(op.type, op.outputs[0]) for op in g.operators]
    matched = [(op, k, path) for op, k in produced
               if g.tensors[k].dtype == "int8" and (path := module_for(g.tensors[k].name, keys))]
    if not matched:
        return []
    probe = copy.copy(g)
    probe.outputs = list(dict.fromkeys([*g.outputs, *(k for _, k, _ in matched)]))
    interp = Interpreter(probe)
    sums: dict[int, list[float]] = {k: [0.0, 0.0, 0.0, 0.0] for _, k, _ in matched}  # se, ref², n, max
    for s in samples:
        values = dict(zip(probe.outputs, interp.run([qm.input_int8(s)]), strict=True))
        acts = _float_activations(model, torch.from_numpy(np.asarray(s, np.float32)[None]),
                                  {p for _, _, p in matched})
        for _, k, path in matched:
            t = g.tensors[k]
            ref = _to_ir_layout(acts[path], t.shape) if path in acts else None
            if ref is None:
                continue
            deq = (values[k].astype(np.float32) - t.zero_point) * np.float32(t.scale)
            err = deq - ref
            acc = sums[k]
            acc[0] += float(np.sum(err * err))
            acc[1] += float(np.sum(ref * ref))
            acc[2] += err.size
            acc[3] = max(acc[3], float(np.max(np.abs(err))))
    result = []
    for op, k, path in matched:
        se, energy, n, mx = sums[k]
        if n == 0:
            continue
        rmse = (se / n) ** 0.5
        rel = rmse / max((energy / n) ** 0.5, 1e-12)
        result.append(LayerError(path, op, g.tensors[k].name.split(";")[0].rsplit("/", 1)[-1],
                                 rmse, mx, rel))
    return sorted(result, key=lambda e: -e.relative)
