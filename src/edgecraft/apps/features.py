"""An application's front end: the ``dsp`` preset with the spec's parameters, applied to raw
samples in a batch, and the per-feature scaling some front ends need.

Motion features mix units (m/s^2 statistics, spectral band sums in the hundreds, peak
frequencies in Hz); one int8 input scale cannot resolve all of them, so motion applications
standardize every feature with offsets and scales measured on the training set
(:class:`Scaling`). The device loop applies the same multiply-add after the front end
(``StreamOptions.normalize``); the C project gets them as constants.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgecraft.apps.spec import AppSpec, SpecError
from edgecraft.dsp.audio import AudioFeatures, features
from edgecraft.dsp.image import ImagePreprocess
from edgecraft.dsp.motion import MotionFeatures, window_features
from edgecraft.dsp.presets import AUDIO_PRESETS, Preset, get_preset


def front_end(spec: AppSpec) -> Preset | None:
    """The spec's front end (preset plus parameters), or None for ``preset = "none"``."""
    params = dict(spec.front_end_params)
    if spec.preset == "none":
        if params:
            raise SpecError(f'{spec.root}/app.toml: front_end.params needs a preset (preset is "none")')
        return None
    try:
        base = get_preset(spec.preset)
    except ValueError as e:
        raise SpecError(f"{spec.root}/app.toml: front_end.preset: {e}") from None
    window_ms = spec.stream.window_ms
    if window_ms is not None and isinstance(base, MotionFeatures):
        rate = float(params.get("sample_rate", base.sample_rate))
        params.setdefault("window_samples", round(window_ms * rate / 1e3))
    elif window_ms is not None and isinstance(base, AudioFeatures):
        params.setdefault(
            "clip_samples", round(window_ms * params.get("sample_rate", base.sample_rate) / 1e3)
        )
    known = {f.name for f in dataclasses.fields(base)}
    extra = sorted(set(params) - known)
    if extra:
        raise SpecError(
            f"{spec.root}/app.toml: front_end.params.{extra[0]} is not a parameter of "
            f"{spec.preset}; known: {', '.join(sorted(known))}"
        )
    if isinstance(base, ImagePreprocess):
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    try:
        cfg: Preset = dataclasses.replace(base, **params)
    except (ValueError, TypeError) as e:
        raise SpecError(f"{spec.root}/app.toml: front_end.params: {e}") from None
    return cfg


def featurize(cfg: Preset | None, raw: np.ndarray) -> np.ndarray:
    """Features of a batch of raw samples: ``(N, ...)`` float32 in the model's input layout
    (images channels first, as PyTorch takes them)."""
    if len(raw) == 0:
        raise ValueError("no samples to compute features of")
    if cfg is None:
        return np.asarray(raw, np.float32)
    if isinstance(cfg, MotionFeatures):
        if raw.ndim != 3 or raw.shape[1:] != (cfg.window_samples, cfg.axes):
            raise ValueError(
                f"motion windows must be (N, {cfg.window_samples}, {cfg.axes}), got {list(raw.shape)}"
            )
        return np.stack([window_features(w, cfg) for w in raw])
    if isinstance(cfg, AUDIO_PRESETS):
        return np.stack([features(c, cfg) for c in raw]).astype(np.float32)
    return np.stack([np.moveaxis(cfg.floats(img), -1, 0) for img in raw])


@dataclass(frozen=True)
class Scaling:
    """Per-feature standardization ``(f - offset) / scale`` measured on training features."""

    offset: tuple[float, ...]
    scale: tuple[float, ...]

    @classmethod
    def fit(cls, x: np.ndarray) -> Scaling:
        """Offsets (means) and scales (standard deviations, at least 1e-3) of ``x`` (N, F)."""
        flat = x.reshape(len(x), -1).astype(np.float64)
        return cls(tuple(float(v) for v in flat.mean(0)), tuple(float(max(v, 1e-3)) for v in flat.std(0)))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        flat = x.reshape(len(x), -1)
        out = (flat - np.asarray(self.offset, np.float32)) / np.asarray(self.scale, np.float32)
        return out.reshape(x.shape).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {"offset": list(self.offset), "scale": list(self.scale)}

    def c_header(self) -> str:
        """The constants as a C header for the generated project."""

        def arr(name: str, v: tuple[float, ...]) -> str:
            return f"static const float {name}[{len(v)}] = {{" + ", ".join(f"{x:.9g}f" for x in v) + "};\n"

        return (
            "/* Per-feature scaling after the front end: feature = (raw - offset) / scale. */\n"
            "#ifndef APP_SCALING_H\n#define APP_SCALING_H\n"
            f"#define APP_NUM_FEATURES {len(self.offset)}\n"
            + arr("app_feature_offset", self.offset)
            + arr("app_feature_scale", self.scale)
            + "#endif\n"
        )


def needs_scaling(cfg: Preset | None, task: str = "classify") -> bool:
    """Whether the features get per-feature scaling: motion features do, and an autoencoder's
    (it reconstructs every feature, so each should count alike)."""
    return isinstance(cfg, MotionFeatures) or (task == "anomaly" and cfg is not None)
