"""Pruning: unstructured magnitude pruning on a polynomial schedule, and structured channel
pruning that really removes channels.

Unstructured: the weights of every Conv2d and Linear with the smallest magnitudes are zeroed,
per layer, while the model fine-tunes; the target sparsity rises along Zhu & Gupta's (2017)
polynomial schedule ``s(t) = s_f + (s_i - s_f) * (1 - t / T) ** 3``. The int8 .tflite keeps
dense tensors (TFLM has no sparse kernels), so this does not shrink the file by itself; the
zeros compress well and show where structure could be removed.

Structured: whole output channels (filters) with the smallest L1 norm are dropped from each
hidden Conv2d/Linear of an ``nn.Sequential``, and the layers after them (BatchNorm, the next
Conv2d's input channels, the flattened features of the next Linear) are cut to match. The
result is a smaller dense model: fewer parameters, fewer MACs, smaller int8 model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from edgecraft.optimize.pt2e import QuantizeError
from edgecraft.optimize.train import fit, logits_of, steps_per_epoch

if TYPE_CHECKING:
    import torch
    from torch import nn


def polynomial_sparsity(step: int, total: int, final: float, initial: float = 0.0,
                        power: float = 3.0) -> float:
    """Target sparsity at ``step`` of ``total`` (reaches ``final`` at ``total`` and stays)."""
    frac = min(max(step / max(total, 1), 0.0), 1.0)
    return final + (initial - final) * (1.0 - frac) ** power


def _prunable(model: torch.nn.Module) -> list[torch.Tensor]:
    from torch import nn

    return [m.weight for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]


def sparsity(model: torch.nn.Module) -> float:
    """Fraction of zero weights over all Conv2d and Linear weights."""
    weights = _prunable(model)
    zeros = sum(int((w == 0).sum()) for w in weights)
    return zeros / max(sum(w.numel() for w in weights), 1)


def magnitude_prune(model: torch.nn.Module, x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor,
                    target: float, epochs: int, lr: float = 5e-3, batch_size: int = 64, seed: int = 0,
                    ramp: float = 0.7, every: int = 10) -> torch.nn.Module:
    """Fine-tune ``model`` while its Conv2d/Linear weights are pruned by magnitude towards
    ``target`` sparsity (per layer); the schedule ramps over the first ``ramp`` of the steps and
    masks are recomputed every ``every`` steps. Returns the model with the zeros in place."""
    import torch

    weights = _prunable(model)
    masks = [torch.ones_like(w, dtype=torch.bool) for w in weights]
    total = int(ramp * epochs * steps_per_epoch(len(x), batch_size))

    def update(step: int) -> None:
        with torch.no_grad():
            if step % every == 0 or step >= total:
                s = polynomial_sparsity(step, total, target)
                for i, w in enumerate(weights):
                    k = int(s * w.numel())
                    if k > 0:
                        cut = w.abs().flatten().kthvalue(k).values
                        masks[i] = w.abs() > cut
            for w, m in zip(weights, masks, strict=True):
                w.mul_(m)

    fit(model, x, y, epochs, lr=lr, batch_size=batch_size, seed=seed, after_step=update)
    update(max(total, 1))  # the final mask at full target, even for a single short epoch
    return model


def prune_channels(model: nn.Sequential, amount: float) -> nn.Sequential:
    """A new ``nn.Sequential`` with ``amount`` of the channels of every hidden Conv2d/Linear
    removed (smallest L1 norm first); fine-tune it afterwards."""
    import copy

    from torch import nn

    body = logits_of(model)
    if not isinstance(body, nn.Sequential):
        raise QuantizeError("structured pruning works on nn.Sequential models; give one")
    layers = list(copy.deepcopy(body))
    param_idx = [i for i, m in enumerate(layers) if isinstance(m, nn.Conv2d | nn.Linear)]
    keep: list[int] | None = None  # channel indices the previous pruned layer kept
    channels = 0  # how many channels that layer had before pruning
    for i, m in enumerate(layers):
        if isinstance(m, nn.Conv2d | nn.Linear):
            if isinstance(m, nn.Conv2d) and m.groups != 1:
                raise QuantizeError(f"layer {i}: prune_channels does not support grouped/depthwise Conv2d")
            if keep is not None:
                m.weight.data = m.weight.data[:, keep]
                _set_size(m, "in", len(keep))
            keep = None
            if i != param_idx[-1]:
                channels = int(m.weight.shape[0])
                keep = _strongest(m.weight.data, amount)
                m.weight.data = m.weight.data[keep]
                if m.bias is not None:
                    m.bias.data = m.bias.data[keep]
                _set_size(m, "out", len(keep))
        elif isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d) and keep is not None:
            for name in ("weight", "bias", "running_mean", "running_var"):
                t = getattr(m, name)
                t.data = t.data[keep]
            m.num_features = len(keep)
        elif isinstance(m, nn.Flatten) and keep is not None:
            # (C, H, W) flattens channel-major: channel c owns features c*HW .. c*HW + HW - 1
            nxt = layers[next(j for j in param_idx if j > i)]
            per = int(nxt.weight.shape[1]) // channels  # type: ignore[index]
            keep = [c * per + p for c in keep for p in range(per)]
            channels *= per
    tail = [nn.Softmax(dim=-1)] if len(body) != len(model) else []
    return nn.Sequential(*layers, *tail)


def _set_size(m: nn.Module, side: str, n: int) -> None:
    from torch import nn

    if isinstance(m, nn.Conv2d):
        setattr(m, f"{side}_channels", n)
    else:
        setattr(m, f"{side}_features", n)


def _strongest(weight: torch.Tensor, amount: float) -> list[int]:
    """Indices of the output channels to keep: the largest L1 norms, in their original order."""
    norms = weight.abs().reshape(weight.shape[0], -1).sum(1)
    n_keep = max(1, round(weight.shape[0] * (1.0 - amount)))
    return sorted(int(i) for i in norms.argsort(descending=True)[:n_keep])
