"""The search space an application's spec opens, and its candidates.

A candidate is a JSON-ready dict: ``id``, ``front_end`` (parameters written over the spec's
front end), ``arch`` (the model family's shape), ``method`` (``ptq`` or ``qat``), ``pruning``
(final weight sparsity), ``activations`` (``int8``, or ``int16`` for 16x8: int16 activations
with int8 weights, :mod:`.sixteen`), ``lr`` (a multiple of the spec's learning rate) and
``default`` (true for the template's own model, the reference point). Reference candidates
(:func:`reference_candidates`: MLPerf Tiny's architecture for the task) also carry
``reference``, their name; they are trained and shown, never part of the front.

Per front end: motion (``imu``) varies the spectral bins and peaks per axis; MFCC the number of
coefficients and the hop (frames per second); log-mel the mel bands (half to 1.5 times the
spec's), the hop and the level normalization (``none`` or ``peak``: each clip divided by its
largest sample, so the recording level, a nuisance for a machine's sound, drops out; it costs
one pass over the clip in the front end, nothing in the model); images the resolution (half the
spec's to the spec's). Per family, around the template's size (half to twice its widths):
``ds-cnn`` width, blocks (one fewer to one more) and first kernel; ``cnn1d`` width, kernel and
dense width; ``autoencoder`` hidden and bottleneck widths; ``mlp`` width; ``mobilenet`` base
width. QAT and pruning are searched for classifiers (the apps pipeline prunes and runs QAT on
classifiers only). The spec's own values are always among the choices. Sampling is a seeded draw
without repeats, so a seed names one list of candidates.

Audio front ends (MFCC and log-mel) also vary the sample rate and the window
(:func:`audio_timing`): 8, 12 or 16 kHz up to the spec's own rate, which is the data's (clips
are resampled down, :func:`resample_clips`, as a microphone at that rate would give them; rates
that would put the mel bands above the Nyquist frequency are left out), and windows of 0.5,
0.75 or 1 times the spec's. Window and hop count samples at the candidate's rate, so a lower
rate spans the clip in fewer frames: a smaller model input, less RAM and time. The device's C
front end takes any of them (its tables are generated from the same parameters).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np

from edgecraft.apps.models import AUTOENCODER, DS_CNN, WIDTH, autoencoder, cnn1d, ds_cnn, mlp, mobilenet
from edgecraft.apps.spec import AppSpec, SpecError
from edgecraft.dsp.audio import AudioFeatures
from edgecraft.dsp.image import ImagePreprocess
from edgecraft.dsp.motion import MotionFeatures
from edgecraft.dsp.presets import Preset

LR_FACTORS = (0.5, 1.0, 2.0)
ACTIVATIONS = ("int8", "int16")
PRUNING = (0.0, 0.3, 0.5)
SEARCHABLE = ("ds-cnn", "cnn1d", "autoencoder", "mlp", "mobilenet")


def _with(values: tuple[Any, ...], own: Any) -> list[Any]:
    """``values`` plus the spec's own value, in a fixed order."""
    out = list(values)
    if own not in out:
        out.append(own)
    return out


def front_end_choices(cfg: Preset | None) -> dict[str, list[Any]]:
    """Front-end parameter -> the values the search may give it."""
    if isinstance(cfg, MotionFeatures):
        bins = sorted(b for b in _with((4, 8, 12, 16), cfg.fft_bins) if b <= cfg.fft_size // 2)
        return {"fft_bins": bins, "peaks": sorted(_with((1, 2, 3), cfg.peaks))}
    if isinstance(cfg, AudioFeatures):
        hops = sorted(h for h in _with((320, 400, 480, 640), cfg.hop_samples) if h <= cfg.window_samples * 2)
        timing = {**audio_timing(cfg), "hop_samples": hops}
        if cfg.kind == "mfcc":
            coefs = sorted(c for c in _with((6, 8, 10, 13), cfg.num_coefficients) if c <= cfg.mel_bins)
            return {"num_coefficients": coefs, **timing}
        own = cfg.mel_bins
        return {
            "mel_bins": _scaled(own, (0.5, 0.75, 1.0, 1.5), 4),
            **timing,
            "normalize": sorted(_with(("none", "peak"), cfg.normalize)),
        }
    if isinstance(cfg, ImagePreprocess):
        return {"size": _scaled(cfg.height, (0.5, 0.75, 1.0), 8)}
    return {}


#: sample rates an audio front end may take (at most the data's, which is the spec's rate)
RATES = (8000, 12000, 16000)


def audio_timing(cfg: AudioFeatures) -> dict[str, list[int]]:
    """An audio front end's sample rate and window (samples per frame), where they have a choice:
    rates of :data:`RATES` up to the spec's own (the data's: clips are resampled down to the
    candidate's rate, as a microphone sampled at that rate would give them) that keep its mel
    bands below the Nyquist frequency; windows of 0.5, 0.75 and 1 times the spec's, at most its
    FFT size. The window and the hop are counted in samples at the candidate's rate, so a lower
    rate spans the clip in fewer frames (a smaller input) with longer windows."""
    rates = sorted(
        r for r in _with(RATES, cfg.sample_rate) if r <= cfg.sample_rate and cfg.mel_high_hz <= r / 2
    )
    windows = [w for w in _scaled(cfg.window_samples, (0.5, 0.75, 1.0), 16) if w <= cfg.fft_size]
    out = {"sample_rate": rates, "window_samples": windows}
    return {k: v for k, v in out.items() if len(v) > 1}


def _scaled(own: int, factors: tuple[float, ...], least: int = 2) -> list[int]:
    return sorted({max(least, round(own * f)) for f in factors})


WIDTHS = (0.5, 0.75, 1.0, 1.5, 2.0)


def arch_choices(spec: AppSpec) -> dict[str, list[Any]]:
    """Architecture parameter -> its values, per model family, around the template's size:
    half to twice its widths, one block fewer to one more."""
    a = default_arch(spec)
    if spec.family == "ds-cnn":
        blocks = sorted({max(1, a["blocks"] - 1), a["blocks"], a["blocks"] + 1})
        return {
            "width": _scaled(a["width"], WIDTHS, 4),
            "blocks": blocks,
            "kernel": [[10, 4], [6, 3], [3, 3]],
        }
    if spec.family == "cnn1d":
        return {"width": _scaled(a["width"], WIDTHS), "kernel": [3, 5], "hidden": [1, 2, 4]}
    if spec.family == "autoencoder":
        return {"hidden": _scaled(a["hidden"], WIDTHS, 8), "bottleneck": _scaled(a["bottleneck"], WIDTHS)}
    if spec.family == "mlp":
        return {"width": _scaled(a["width"], WIDTHS)}
    return {"base": _scaled(a["base"], WIDTHS)}


def smallest_candidate(spec: AppSpec, cfg: Preset | None) -> dict[str, Any]:
    """The space's least demanding candidate (fewest features, narrowest and shallowest model):
    when it does not fit a board, no candidate does."""
    fe, arch = front_end_choices(cfg), arch_choices(spec)
    least = {k: (v[-1] if k in ("hop_samples", "window_samples") else v[0]) for k, v in fe.items()}
    small_arch = {k: (v[-1] if k == "kernel" else min(v)) for k, v in arch.items()}
    return {
        **default_candidate(spec),
        "id": "smallest",
        "default": False,
        "front_end": least,
        "arch": small_arch,
    }


def default_arch(spec: AppSpec) -> dict[str, Any]:
    """The template's model (``family`` at ``size``) in the search's terms."""
    if spec.family == "ds-cnn":
        width, blocks = DS_CNN[spec.size]
        return {"width": width, "blocks": blocks, "kernel": [10, 4]}
    if spec.family == "cnn1d":
        return {"width": WIDTH[spec.size], "kernel": 3, "hidden": 2}
    if spec.family == "autoencoder":
        hidden, bottleneck = AUTOENCODER[spec.size]
        return {"hidden": hidden, "bottleneck": bottleneck}
    if spec.family == "mlp":
        return {"width": WIDTH[spec.size]}
    return {"base": WIDTH[spec.size] // 2}


def check_searchable(spec: AppSpec) -> None:
    """SpecError unless the search can vary this application's model and score it."""
    if spec.factory is not None or spec.family not in SEARCHABLE:
        raise SpecError(
            f"{spec.root}/app.toml: the search needs model.family (one of {', '.join(SEARCHABLE)}), "
            "not a factory"
        )
    if spec.task == "regress":
        raise SpecError(
            f"{spec.root}/app.toml: the search scores classifiers and anomaly detectors, not {spec.kind}"
        )


def default_candidate(spec: AppSpec) -> dict[str, Any]:
    """The template's own configuration: the reference point of every search."""
    return {
        "id": "default",
        "default": True,
        "front_end": {},
        "arch": default_arch(spec),
        "method": spec.optimization.method,
        "pruning": spec.optimization.pruning,
        "activations": "int8",
        "lr": 1.0,
    }


def reference_candidates(spec: AppSpec) -> list[dict[str, Any]]:
    """MLPerf Tiny's reference architecture for the application's task, to be trained on its
    data by the same pipeline as the candidates (the template's front end, quantization and
    learning rate): DS-CNN (64 wide, 4 blocks, 10x4 first convolution) for keyword spotting,
    the AD autoencoder (4 x 128, code 8, 4 x 128, BatchNorm) for anomaly detection, none for
    other tasks."""
    base = {**default_candidate(spec), "default": False}
    if spec.kind in ("kws", "wakeword") and spec.family == "ds-cnn":
        return [
            {
                **base,
                "id": "mlperf-ds-cnn",
                "reference": "MLPerf Tiny KWS DS-CNN",
                "arch": {"width": 64, "blocks": 4, "kernel": [10, 4]},
            }
        ]
    if spec.task == "anomaly" and spec.family == "autoencoder":
        return [
            {
                **base,
                "id": "mlperf-ad",
                "reference": "MLPerf Tiny AD autoencoder",
                "arch": {"mlperf": "ad", "hidden": 128, "bottleneck": 8},
            }
        ]
    return []


def sample_candidates(spec: AppSpec, cfg: Preset | None, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` distinct candidates drawn with ``seed`` (fewer when the space is smaller), none
    equal to the default: each draw is, with even odds, a point of the whole space or the
    default changed in one of its parameters (front end, architecture, quantization, pruning or
    learning rate; :func:`neighbour`), so the neighbourhood of the reference is searched too."""
    rng = np.random.default_rng(seed)
    fe, arch = front_end_choices(cfg), arch_choices(spec)
    classify = spec.task == "classify"
    d = default_candidate(spec)
    own = own_front_end(cfg, fe)
    seen = {canonical(d, own)}
    out: list[dict[str, Any]] = []
    for _ in range(50 * n + 100):
        if len(out) == n:
            break
        c = {
            "id": f"c{len(out):03d}",
            "default": False,
            "front_end": {k: _pick(rng, v) for k, v in fe.items()},
            "arch": {k: _pick(rng, v) for k, v in arch.items()},
            "method": _pick(rng, ["ptq", "qat"]) if classify else "ptq",
            "pruning": _pick(rng, list(PRUNING)) if classify else 0.0,
            "activations": _pick(rng, list(ACTIVATIONS)),
            "lr": _pick(rng, list(LR_FACTORS)),
        }
        if rng.random() < 0.5:
            c = neighbour(d, c, own, classify, int(rng.integers(1 << 30)))
        if canonical(c, own) not in seen:
            seen.add(canonical(c, own))
            out.append(c)
    return out


def own_front_end(cfg: Preset | None, fe: dict[str, list[Any]]) -> dict[str, Any]:
    """The spec's own value of each searched front-end parameter."""
    return {k: getattr(cfg, "height" if k == "size" else k) for k in fe}


def canonical(c: dict[str, Any], own: dict[str, Any]) -> str:
    """:func:`key` with the front end written out in full (the spec's values where the
    candidate keeps them), so a draw equal to the default in substance is seen as equal."""
    return key({**c, "front_end": {**own, **c["front_end"]}})


def neighbour(
    d: dict[str, Any], draw: dict[str, Any], own: dict[str, Any], classify: bool, pick: int
) -> dict[str, Any]:
    """The default ``d`` with one parameter (the ``pick``-th, cyclically) taken from ``draw``."""
    dims = [("front_end", k) for k in own] + [("arch", k) for k in d["arch"]]
    dims += [(k, None) for k in (["method", "pruning"] if classify else []) + ["activations", "lr"]]
    where, name = dims[pick % len(dims)]
    c = {**d, "id": draw["id"], "default": False, "front_end": dict(own), "arch": dict(d["arch"])}
    if name is None:
        c[where] = draw[where]
    else:
        c[where][name] = draw[where][name]
    return c


def _pick(rng: np.random.Generator, values: list[Any]) -> Any:
    return values[int(rng.integers(len(values)))]


def key(c: dict[str, Any]) -> str:
    """What makes two candidates the same (everything but ``id`` and ``default``)."""
    return json.dumps({k: v for k, v in c.items() if k not in ("id", "default")}, sort_keys=True)


def shape_key(c: dict[str, Any]) -> str:
    """What fixes the deployed graph's size and cost: the front end, the architecture and the
    activations' type (QAT, pruning and the learning rate change the weights' values, not the
    graph)."""
    return json.dumps(
        {"front_end": c["front_end"], "arch": c["arch"], "activations": c["activations"]}, sort_keys=True
    )


def candidate_front_end(cfg: Preset | None, c: dict[str, Any]) -> Preset | None:
    """The spec's front end with the candidate's parameters written over it."""
    if cfg is None or not c["front_end"]:
        return cfg
    params = dict(c["front_end"])
    if "size" in params:
        size = params.pop("size")
        params.update(height=size, width=size)
    if isinstance(cfg, AudioFeatures) and params.get("sample_rate", cfg.sample_rate) != cfg.sample_rate:
        # the same clip length in seconds at the candidate's rate
        params["clip_samples"] = cfg.clip_samples * params["sample_rate"] // cfg.sample_rate
    return dataclasses.replace(cfg, **params)  # type: ignore[type-var]


def resample_clips(raw: np.ndarray, rate: int, to: int) -> np.ndarray:
    """Audio clips ``(N, samples)`` at ``rate`` as a converter sampling at ``to`` would give them:
    polyphase resampling (its anti-aliasing filter), rounded and clipped to int16."""
    if to == rate:
        return raw
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(to, rate)
    y = resample_poly(np.asarray(raw, np.float64), to // g, rate // g, axis=1)
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


def build(spec: AppSpec, c: dict[str, Any], input_shape: tuple[int, ...], outputs: int, cfg: Any) -> Any:
    """The candidate's PyTorch model for samples of ``input_shape``."""
    a = c["arch"]
    if spec.family == "ds-cnn":
        if len(input_shape) != 2:
            raise SpecError(f"{spec.root}/app.toml: ds-cnn needs (frames, coefficients), got {input_shape}")
        return ds_cnn(int(input_shape[0]), outputs, a["width"], a["blocks"], tuple(a["kernel"]))
    if spec.family == "cnn1d":
        axes = int(getattr(cfg, "axes", 1))
        return cnn1d(int(input_shape[-1]), axes, outputs, a["width"], a["kernel"], a["hidden"] * a["width"])
    if spec.family == "autoencoder" and a.get("mlperf") == "ad":
        from torch import nn

        from edgecraft.models.zoo import autoencoder as mlperf_ad

        return nn.Sequential(nn.Flatten(), mlperf_ad(int(np.prod(input_shape)), a["hidden"], a["bottleneck"]))
    if spec.family == "autoencoder":
        return autoencoder(int(np.prod(input_shape)), a["hidden"], min(a["bottleneck"], a["hidden"]))
    if spec.family == "mlp":
        return mlp(int(input_shape[-1]), outputs, a["width"], classify=spec.task == "classify")
    return mobilenet(int(input_shape[0]), int(input_shape[1]), outputs, a["base"])
