"""Model families an application names in ``[model]`` (``family`` and ``size``), or the user's
own factory (``factory = "model.py:build"``, called with no arguments).

Classifiers end in ``nn.Softmax`` so the int8 SOFTMAX is part of the deployed graph; the
training loop works on the logits in front of it.

- ``mlp``: fully connected layers with ReLU (sine's regression: one input, one output).
- ``cnn1d``: a 1-D CNN over the motion features laid out as ``(axes, features per axis)``:
  two convolutions across each axis' statistics and spectrum, then a dense classifier.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edgecraft.apps.spec import AppSpec, SpecError

if TYPE_CHECKING:
    from torch import nn

FAMILIES = ("mlp", "cnn1d")
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


def cnn1d(features: int, axes: int, classes: int, width: int) -> nn.Module:
    """Flat motion features ``(axes * per_axis,)`` -> two 1-D convolutions -> dense -> softmax."""
    from torch import nn

    if features % axes:
        raise SpecError(f"cnn1d needs features divisible by the axes, got {features} and {axes}")
    per_axis = features // axes
    length = per_axis - 4  # two unpadded kernels of 3
    return nn.Sequential(
        nn.Unflatten(1, (axes, per_axis)),
        nn.Conv1d(axes, width, 3),
        nn.ReLU(),
        nn.Conv1d(width, width, 3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(width * length, 2 * width),
        nn.ReLU(),
        nn.Linear(2 * width, classes),
        nn.Softmax(1),
    )
