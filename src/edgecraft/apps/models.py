"""Model families an application names in ``[model]`` (``family`` and ``size``), or the user's
own factory (``factory = "model.py:build"``, called with no arguments).

Classifiers end in ``nn.Softmax`` so the int8 SOFTMAX is part of the deployed graph; the
training loop works on the logits in front of it.

- ``mlp``: fully connected layers with ReLU (sine's regression: one input, one output).
- ``cnn1d``: a 1-D CNN over the motion features laid out as ``(axes, features per axis)``:
  two convolutions across each axis' statistics and spectrum, then a dense classifier.
- ``ds-cnn``: the depthwise-separable CNN of MLPerf Tiny's keyword spotting over
  ``(frames, coefficients)``: a strided 10x4 convolution, then blocks of depthwise 3x3 and
  pointwise 1x1 convolutions (each with batch norm and ReLU), average pooling, dense.
- ``autoencoder``: the dense autoencoder of MLPerf Tiny's anomaly detection, smaller: the
  flattened log-mel features through a bottleneck and back; the reconstruction error is the
  anomaly score.
- ``mobilenet``: MobileNet v1 for images ``(3, H, W)``: a strided 3x3 convolution, then
  depthwise-separable blocks that halve the size four times while the channels grow to 16x the
  base width (8 for ``small``: MobileNet 0.25 as in MLPerf Tiny's visual wake words).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from edgecraft.apps.spec import AppSpec, SpecError

if TYPE_CHECKING:
    from torch import nn

FAMILIES = ("mlp", "cnn1d", "ds-cnn", "autoencoder", "mobilenet")
#: autoencoder hidden and bottleneck widths per size
AUTOENCODER = {"tiny": (32, 8), "small": (64, 16), "medium": (128, 16), "large": (128, 32)}
#: ds-cnn channels and depthwise-separable blocks per size (medium is MLPerf Tiny's DS-CNN)
DS_CNN = {"tiny": (16, 2), "small": (32, 3), "medium": (64, 4), "large": (128, 4)}
WIDTH = {"tiny": 8, "small": 16, "medium": 32, "large": 64}


def build_model(spec: AppSpec, input_shape: tuple[int, ...], outputs: int, cfg: Any = None) -> nn.Module:
    """The spec's model for samples of ``input_shape`` (no batch axis) and ``outputs`` outputs."""
    if spec.factory is not None:
        from edgecraft.optimize.loader import load_factory
        from edgecraft.optimize.pt2e import QuantizeError

        path, _, fn = spec.factory.rpartition(":")
        try:
            model, _ = load_factory(f"{spec.root / path}:{fn}")
        except QuantizeError as e:
            raise SpecError(f"{spec.root}/app.toml: model.factory: {e}") from None
        return model.train()
    if spec.family not in FAMILIES:
        raise SpecError(
            f"{spec.root}/app.toml: model.family must be one of {', '.join(FAMILIES)}, got {spec.family!r}"
        )
    width = WIDTH[spec.size]
    if spec.family == "mlp":
        return mlp(int(input_shape[-1]), outputs, width, classify=spec.task == "classify")
    if spec.family == "mobilenet":
        if len(input_shape) != 3:
            raise SpecError(f"{spec.root}/app.toml: mobilenet needs images (channels, height, width)")
        return mobilenet(int(input_shape[0]), int(input_shape[1]), outputs, WIDTH[spec.size] // 2)
    if spec.family == "autoencoder":
        return autoencoder(int(np.prod(input_shape)), *AUTOENCODER[spec.size])
    if spec.family == "ds-cnn":
        if len(input_shape) != 2:
            raise SpecError(
                f"{spec.root}/app.toml: ds-cnn needs (frames, coefficients) features, got {input_shape}"
            )
        return ds_cnn(int(input_shape[0]), outputs, *DS_CNN[spec.size])
    axes = int(getattr(cfg, "axes", 1))
    return cnn1d(int(input_shape[-1]), axes, outputs, width)


def mlp(inputs: int, outputs: int, width: int, classify: bool = False) -> nn.Module:
    """``inputs -> width -> width -> outputs`` with ReLU (and a softmax for classifiers)."""
    from torch import nn

    layers: list[nn.Module] = [
        nn.Linear(inputs, width),
        nn.ReLU(),
        nn.Linear(width, width),
        nn.ReLU(),
        nn.Linear(width, outputs),
    ]
    if classify:
        layers.append(nn.Softmax(1))
    return nn.Sequential(*layers)


def cnn1d(
    features: int, axes: int, classes: int, width: int, kernel: int = 3, hidden: int | None = None
) -> nn.Module:
    """Flat motion features ``(axes * per_axis,)`` -> two 1-D convolutions (``kernel`` taps,
    unpadded) -> dense (``hidden``, default ``2 * width``) -> softmax."""
    from torch import nn

    if features % axes:
        raise SpecError(f"cnn1d needs features divisible by the axes, got {features} and {axes}")
    per_axis = features // axes
    length = per_axis - 2 * (kernel - 1)  # two unpadded kernels
    if length < 1:
        raise SpecError(f"cnn1d: {per_axis} features per axis are too few for kernels of {kernel}")
    hidden = 2 * width if hidden is None else hidden
    return nn.Sequential(
        nn.Unflatten(1, (axes, per_axis)),
        nn.Conv1d(axes, width, kernel),
        nn.ReLU(),
        nn.Conv1d(width, width, kernel),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(width * length, hidden),
        nn.ReLU(),
        nn.Linear(hidden, classes),
        nn.Softmax(1),
    )


def ds_cnn(
    frames: int, classes: int, width: int, blocks: int, kernel: tuple[int, int] = (10, 4)
) -> nn.Module:
    """``(frames, coefficients)`` -> DS-CNN (see the module docstring; ``kernel`` is the first
    convolution's, padded by half of it) -> softmax."""
    from torch import nn

    kh, kw = kernel
    layers: list[nn.Module] = [
        nn.Unflatten(1, (1, frames)),
        nn.Conv2d(1, width, (kh, kw), stride=(2, 2), padding=(kh // 2, (kw - 1) // 2)),
        nn.BatchNorm2d(width),
        nn.ReLU(),
    ]
    for _ in range(blocks):
        layers += [
            nn.Conv2d(width, width, 3, padding=1, groups=width),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, width, 1),
            nn.BatchNorm2d(width),
            nn.ReLU(),
        ]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, classes), nn.Softmax(1)]
    return nn.Sequential(*layers)


def autoencoder(features: int, hidden: int, bottleneck: int) -> nn.Module:
    """``features -> hidden -> hidden -> bottleneck -> hidden -> hidden -> features`` (flat output)."""
    from torch import nn

    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(features, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, bottleneck),
        nn.ReLU(),
        nn.Linear(bottleneck, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, features),
    )


def mobilenet(channels: int, size: int, classes: int, base: int) -> nn.Module:
    """MobileNet v1 (see the module docstring) with base width ``base`` for ``size x size``
    images; ends in an average pool over the last feature map (a fixed kernel: an adaptive
    pool exports as SUM) and softmax."""
    from torch import nn

    def block(cin: int, cout: int, stride: int) -> list[nn.Module]:
        return [
            nn.Conv2d(cin, cin, 3, stride, 1, groups=cin),
            nn.BatchNorm2d(cin),
            nn.ReLU(),
            nn.Conv2d(cin, cout, 1),
            nn.BatchNorm2d(cout),
            nn.ReLU(),
        ]

    layers: list[nn.Module] = [nn.Conv2d(channels, base, 3, 2, 1), nn.BatchNorm2d(base), nn.ReLU()]
    plan = [
        (base, 2 * base, 1),
        (2 * base, 4 * base, 2),
        (4 * base, 4 * base, 1),
        (4 * base, 8 * base, 2),
        (8 * base, 8 * base, 1),
        (8 * base, 16 * base, 2),
        (16 * base, 16 * base, 2),
    ]
    for cin, cout, stride in plan:
        layers += block(cin, cout, stride)
    final = size
    for _ in range(5):  # the first convolution and four strided blocks halve the size
        final = (final + 1) // 2
    layers += [nn.AvgPool2d(final), nn.Flatten(), nn.Linear(16 * base, classes), nn.Softmax(1)]
    return nn.Sequential(*layers)
