"""Will the model fit the board: the exact profile when the int8 graph is complete, an estimate
from the PyTorch model when it is not.

The estimate counts what the int8 model would hold once every layer is int8: weights of
convolutions, linear and recurrent layers at one byte per value, their biases at four,
BatchNorm folded away (no bytes); activations from one forward pass with hooks on every leaf
module: the largest ``input + output`` of one layer at one byte per value is a lower bound of the
arena (a planner cannot do with less), and the code estimate is the profile's. It says so in
``estimated`` and ``basis``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from edgecraft.ir.graph import Graph

_FOLDED = ("BatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm")  # scale/shift folded or small


def weight_bytes(model: torch.nn.Module) -> list[tuple[str, int]]:
    """(parameter name, int8 bytes) for every parameter, largest first: multi-dimensional
    weights at 1 byte per value, biases at 4 (int32), normalization parameters folded (0)."""
    out = []
    for mod_path, m in model.named_modules():
        if any(type(m).__name__.startswith(f) for f in _FOLDED):
            continue
        for name, p in m.named_parameters(recurse=False):
            full = f"{mod_path}.{name}" if mod_path else name
            out.append((full, int(p.numel()) * (1 if p.dim() >= 2 else 4)))
    return sorted(out, key=lambda t: -t[1])


def activation_peak(model: torch.nn.Module, example: torch.Tensor) -> tuple[int, str]:
    """(bytes, module path): the largest input + output of one leaf module at int8, one sample."""
    import torch

    best: list[Any] = [0, ""]
    handles = []

    def size(v: Any) -> int:
        if isinstance(v, torch.Tensor):
            return int(v[:1].numel()) if v.dim() else 1
        if isinstance(v, tuple | list):
            return sum(size(x) for x in v)
        return 0

    for path, m in model.named_modules():
        if path and not any(True for _ in m.children()):
            def hook(_m: Any, inputs: Any, output: Any, path: str = path) -> None:
                total = size(inputs) + size(output)
                if total > best[0]:
                    best[:] = [total, path]
            handles.append(m.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model.eval()(example[:1])
    finally:
        for h in handles:
            h.remove()
    if best[0] == 0:  # no leaf modules: the input and output of the whole model
        with torch.no_grad():
            best = [size(example[:1]) + size(model(example[:1])), ""]
    return int(best[0]), str(best[1])


def estimate_fit(model: torch.nn.Module, example: torch.Tensor, board: str, why: str) -> dict[str, Any]:
    """The fit verdict on ``board`` estimated from the PyTorch model (see the module docstring);
    ``why`` says why the exact profile is not available."""
    from edgecraft.targets import get_board
    from edgecraft.targets.profiling import DEFAULT_KERNEL_CODE_BYTES, TFLM_FRAMEWORK_CODE_BYTES

    b = get_board(board)
    weights = weight_bytes(model)
    weight_total = sum(n for _, n in weights)
    arena, where = activation_peak(model, example)
    kinds = {type(m).__name__ for _, m in model.named_modules() if not any(True for _ in m.children())}
    code = TFLM_FRAMEWORK_CODE_BYTES + DEFAULT_KERNEL_CODE_BYTES * len(kinds)
    ram, flash = arena, weight_total + code
    ram_ok, flash_ok = ram <= b.sram_bytes, flash <= b.flash_bytes
    culprits: list[dict[str, Any]] = []
    if not flash_ok:
        culprits += [{"kind": "weights", "name": n, "bytes": v} for n, v in weights[:5]]
    if not ram_ok:
        culprits.append({"kind": "activation", "name": where, "bytes": arena})
    return {
        "board": b.slug, "board_name": b.name, "estimated": True,
        "ram_bytes": ram, "flash_bytes": flash, "arena_bytes": arena, "weights_bytes": weight_total,
        "fits": ram_ok and flash_ok,
        "capacity": {"ram_bytes": b.sram_bytes, "flash_bytes": b.flash_bytes},
        "margins": {"ram_bytes": b.sram_bytes - ram, "flash_bytes": b.flash_bytes - flash},
        "culprits": culprits,
        "basis": f"estimate ({why}): int8 weights of the PyTorch model plus a code estimate for flash; "
                 f"RAM is a lower bound, the largest input + output of one layer ({where or 'the model'}) "
                 "at int8",
    }


def exact_or_estimated(graph: Graph, board: str, complete: bool) -> dict[str, Any]:
    """``targets.profile`` on the converted graph; when the graph still has float ops the result
    is marked as an estimate (those ops counted as float, four bytes per value)."""
    from edgecraft.targets import profile

    p = dict(profile(graph, board))
    p["estimated"] = not complete
    if not complete:
        p["basis"] = ("estimate: the converted graph planned as it is, its float ops at four bytes per "
                      "value (int8 would be smaller)")
    return p
