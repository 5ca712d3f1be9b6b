"""The reference task: handwritten digits (scikit-learn's bundled 8x8 set) and small CNNs for it.

Offline and small: 1,797 grey 8x8 images of the digits 0-9, values 0..16, shipped inside
scikit-learn. :func:`load_digits` scales them to [0, 1], optionally upsamples them (nearest
neighbour, so no information is invented) and splits them with a fixed seed.
:func:`digits_cnn` builds the small CNN used by the demo, the tests and
``benchmarks/optimize.py``; it ends in ``nn.Softmax`` so the deployed model outputs
probabilities (training uses the logits in front of it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from torch import nn


@dataclass
class Digits:
    """Train/validation split, images as float32 (N, 1, size, size) in [0, 1]."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def load_digits(size: int = 16, val_fraction: float = 0.25, seed: int = 0) -> Digits:
    """The digits, upsampled to ``size`` x ``size`` (a multiple of 8), split with ``seed``."""
    from sklearn.datasets import load_digits as sk_load

    if size % 8:
        raise ValueError(f"size must be a multiple of 8, got {size}")
    data = sk_load()
    x = (data.images.astype(np.float32) / 16.0)[:, None]
    k = size // 8
    x = np.kron(x, np.ones((1, 1, k, k), np.float32))
    y = data.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = round(len(x) * val_fraction)
    val, train = order[:n_val], order[n_val:]
    return Digits(x[train], y[train], x[val], y[val])


def digits_cnn(width: int = 8, size: int = 16, batchnorm: bool = True, softmax: bool = True) -> nn.Sequential:
    """conv3x3(width) -> [BN] -> ReLU -> maxpool -> conv3x3(2*width) -> [BN] -> ReLU -> maxpool
    -> flatten -> linear(10) [-> softmax]: about 50k MACs at width 8 on 16x16 inputs."""
    from torch import nn

    layers: list[nn.Module] = [nn.Conv2d(1, width, 3, padding=1)]
    layers += [nn.BatchNorm2d(width)] if batchnorm else []
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(width, 2 * width, 3, padding=1)]
    layers += [nn.BatchNorm2d(2 * width)] if batchnorm else []
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * width * (size // 4) ** 2, 10)]
    layers += [nn.Softmax(dim=-1)] if softmax else []
    return nn.Sequential(*layers)


def digits_mlp(hidden: int = 32, size: int = 8, softmax: bool = True) -> nn.Sequential:
    """flatten -> linear(hidden) -> ReLU -> linear(10) [-> softmax]: a tiny student model."""
    from torch import nn

    layers: list[nn.Module] = [nn.Flatten(), nn.Linear(size * size, hidden), nn.ReLU(), nn.Linear(hidden, 10)]
    layers += [nn.Softmax(dim=-1)] if softmax else []
    return nn.Sequential(*layers)


def with_outlier_channel(model: nn.Sequential, factor: float = 1000.0, channel: int = 0) -> nn.Sequential:
    """A copy of a BatchNorm-free :func:`digits_cnn` that computes the same float function but is
    hostile to int8: output ``channel`` of the first conv is multiplied by ``factor`` and the
    matching input weights of the second conv divided by it (ReLU and max-pool commute with a
    positive scale). The per-tensor int8 scale of that activation is then set by the one loud
    channel and the others keep a few levels: an exaggerated form of the activation outliers
    that real models show. Used to give QAT a PTQ accuracy drop to recover."""
    import copy

    import torch
    from torch import nn

    out = copy.deepcopy(model)
    layers: list[nn.Module] = list(out.children())
    convs = [m for m in layers if isinstance(m, nn.Conv2d)]
    if len(convs) < 2:
        raise ValueError("needs a model with two Conv2d layers (digits_cnn)")
    between = layers[layers.index(convs[0]) + 1 : layers.index(convs[1])]
    if not all(isinstance(m, nn.ReLU | nn.MaxPool2d) for m in between):
        raise ValueError("needs only ReLU/MaxPool2d between the first two convs (batchnorm=False)")
    first, second = convs[0], convs[1]
    with torch.no_grad():
        first.weight[channel] *= factor
        if first.bias is not None:
            first.bias[channel] *= factor
        second.weight[:, channel] /= factor
    return out
