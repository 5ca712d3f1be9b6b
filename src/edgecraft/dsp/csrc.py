"""C twins of the front ends: the static sources (package data under ``dsp/c/``) plus one
generated file per preset holding its config struct and tables.

``c_sources("kws-mfcc")`` returns ``{"ec_features.h": ..., "ec_feat_fft.c": ...,
"ec_feat_audio.c": ..., "ec_kws_mfcc.c": ...}``; the generated file defines
``const ec_audio_config ec_kws_mfcc``. The tables (window, twiddles, mel triangles, DCT) are
the very float32 values the Python front end uses, printed with 9 significant digits, which
round-trips float32 exactly.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from edgecraft.dsp.audio import AudioFeatures, dct_matrix, mel_matrix, window
from edgecraft.dsp.image import ImagePreprocess
from edgecraft.dsp.lfbe import LfbeFeatures
from edgecraft.dsp.micro_speech import MicroSpeechFeatures, tables
from edgecraft.dsp.motion import MotionFeatures
from edgecraft.dsp.presets import PRESETS, Preset, get_preset
from edgecraft.ops.kissfft16 import plan
from edgecraft.ops.signal_math import LOG_LUT

STATIC = {"audio": ["ec_feat_audio.c"], "motion": ["ec_feat_motion.c"], "image": ["ec_feat_image.c"],
          "micro": ["ec_feat_micro.c"], "lfbe": ["ec_feat_lfbe.c"]}
COMMON = ["ec_features.h", "ec_feat_fft.c"]


def _static(name: str) -> str:
    return resources.files("edgecraft.dsp").joinpath("c", name).read_text()


def c_ident(preset: str) -> str:
    """The C name of a preset's config: ``kws-mfcc`` -> ``ec_kws_mfcc``."""
    return "ec_" + preset.replace("-", "_")


def _f(v: float | np.floating) -> str:
    """A C float literal that round-trips float32 (9 significant digits)."""
    text = f"{float(np.float32(v)):.9g}"
    return text + ("f" if any(c in text for c in ".e") else ".0f")


def _floats(name: str, values: np.ndarray) -> str:
    vals = [_f(v) for v in np.asarray(values, np.float32).reshape(-1)]
    rows = [", ".join(vals[i:i + 6]) for i in range(0, len(vals), 6)]
    return f"static const float {name}[{len(vals)}] = {{\n    " + ",\n    ".join(rows) + "\n};\n"


def _ints(name: str, values: list[int]) -> str:
    return f"static const int16_t {name}[{len(values)}] = {{{', '.join(str(v) for v in values)}}};\n"


def _twiddles(prefix: str, n: int) -> str:
    k = np.arange(n // 2)
    return (_floats(f"{prefix}_cos", np.cos(2 * np.pi * k / n))
            + _floats(f"{prefix}_sin", np.sin(2 * np.pi * k / n)))


def _audio(ident: str, cfg: AudioFeatures) -> str:
    mel_text, mel_fields = _sparse_mel(ident, mel_matrix(cfg))
    parts = [
        _floats(f"{ident}_window", window(cfg.window_samples, cfg.window_type, cfg.window_periodic)),
        _twiddles(f"{ident}_tw", cfg.fft_size), mel_text,
    ]
    dct = "0"
    if cfg.kind == "mfcc":
        parts.append(_floats(f"{ident}_dct", dct_matrix(cfg.mel_bins, cfg.num_coefficients, cfg.dct_norm)))
        dct = f"{ident}_dct"
    fields = [cfg.sample_rate, cfg.clip_samples, cfg.window_samples, cfg.hop_samples, cfg.fft_size,
              cfg.magnitude_power, cfg.mel_bins, cfg.num_features, int(cfg.normalize == "peak"),
              _f(cfg.input_scale), _f(cfg.log_offset), f"{ident}_window", f"{ident}_tw_cos",
              f"{ident}_tw_sin", *mel_fields, dct]
    return "".join(parts) + _struct("ec_audio_config", ident, fields)


def _sparse_mel(ident: str, mel: np.ndarray) -> tuple[str, list[str]]:
    first: list[int] = []
    count: list[int] = []
    offset: list[int] = []
    weights: list[float] = []
    for m in range(mel.shape[1]):
        nz = np.flatnonzero(mel[:, m])
        lo, hi = (int(nz[0]), int(nz[-1]) + 1) if len(nz) else (0, 0)
        first.append(lo)
        count.append(hi - lo)
        offset.append(len(weights))
        weights.extend(mel[lo:hi, m].tolist())
    text = (_ints(f"{ident}_mel_first", first) + _ints(f"{ident}_mel_count", count)
            + _ints(f"{ident}_mel_offset", offset) + _floats(f"{ident}_mel_weights", np.array(weights)))
    return text, [f"{ident}_mel_first", f"{ident}_mel_count", f"{ident}_mel_offset", f"{ident}_mel_weights"]


def _lfbe(ident: str, cfg: LfbeFeatures) -> str:
    mel_text, mel_fields = _sparse_mel(ident, cfg.mel_matrix())
    parts = _floats(f"{ident}_window", cfg.window()) + _twiddles(f"{ident}_tw", cfg.fft_size) + mel_text
    fields = [cfg.sample_rate, cfg.clip_samples, cfg.window_samples, cfg.hop_samples, cfg.fft_size,
              cfg.mel_bins, _f(cfg.input_scale), _f(cfg.preemphasis), _f(1.0 / cfg.window_samples),
              _f(cfg.power_floor), _f(cfg.db_offset), _f(cfg.db_range), f"{ident}_window", f"{ident}_tw_cos",
              f"{ident}_tw_sin", *mel_fields]
    return parts + _struct("ec_lfbe_config", ident, fields)


def micro_energy_len(cfg: MicroSpeechFeatures) -> int:
    """Energies the C filter bank reads (its padding reads past the last bin, with zero weights)."""
    t = tables(cfg)
    reads = int(max(int(f) + int(w) for f, w in zip(t.freq_starts, t.widths, strict=True)))
    return max(reads, cfg.fft_size // 2 + 1)


def micro_scratch_words(cfg: MicroSpeechFeatures) -> int:
    """int32 words of scratch ``ec_micro_features`` needs (``EC_MICRO_SCRATCH``)."""
    return (3 * cfg.fft_size // 2 + 1 + micro_energy_len(cfg) + (cfg.window_samples + 1) // 2
            + cfg.num_channels)


def _micro(ident: str, cfg: MicroSpeechFeatures) -> str:
    t = tables(cfg)
    _, _, tw_re, tw_im, sup_re, sup_im = plan(cfg.fft_size // 2)
    arrays = {"window": t.window.tolist(), "twiddles": np.stack([tw_re, tw_im], 1).reshape(-1).tolist(),
              "super_twiddles": np.stack([sup_re, sup_im], 1).reshape(-1).tolist(),
              "freq_starts": t.freq_starts.tolist(), "weight_starts": t.weight_starts.tolist(),
              "widths": t.widths.tolist(), "weights": t.weights.tolist(), "unweights": t.unweights.tolist(),
              "gain_lut": t.gain_lut.tolist(), "log_lut": LOG_LUT.tolist()}
    parts = "".join(_ints(f"{ident}_{k}", [int(x) for x in v]) for k, v in arrays.items())
    even, _, odd, _ = t.smoothing
    fields: list[object] = [
        cfg.sample_rate, cfg.clip_samples, cfg.window_samples, cfg.hop_samples, cfg.fft_size,
        cfg.num_channels, cfg.window_bits, t.start, t.end, micro_energy_len(cfg), cfg.smoothing_bits,
        cfg.subtraction_bits, f"{even}u", f"{odd}u", f"{t.min_signal}u", int(cfg.clamping),
        cfg.correction_bits, cfg.log_scale_bits, cfg.output_div, *(f"{ident}_{k}" for k in arrays)]
    return parts + _struct("ec_micro_config", ident, fields)


def _motion(ident: str, cfg: MotionFeatures) -> str:
    fields = [_f(cfg.sample_rate), cfg.window_samples, cfg.axes, cfg.fft_size, cfg.fft_bins,
              cfg.peaks, f"{ident}_tw_cos", f"{ident}_tw_sin"]
    return _twiddles(f"{ident}_tw", cfg.fft_size) + _struct("ec_motion_config", ident, fields)


def _image(ident: str, cfg: ImagePreprocess) -> str:
    mean = np.broadcast_to(np.asarray(cfg.mean, np.float32), (cfg.channels,))
    std = np.broadcast_to(np.asarray(cfg.std, np.float32), (cfg.channels,))
    fields = [cfg.height, cfg.width, cfg.channels, int(cfg.crop), f"{ident}_mean", f"{ident}_std",
              _f(cfg.scale), cfg.zero_point]
    return (_floats(f"{ident}_mean", mean) + _floats(f"{ident}_std", std)
            + _struct("ec_image_config", ident, fields))


def _struct(ctype: str, ident: str, fields: list[object]) -> str:
    body = ",\n    ".join(str(f) for f in fields)
    return f"\nconst {ctype} {ident} = {{\n    {body}\n}};\n"


def c_sources(preset: str | Preset, name: str | None = None) -> dict[str, str]:
    """C files for one front end: ``{filename: text}``, ready to compile with the model.

    ``preset`` is a preset name (see :data:`edgecraft.dsp.presets.PRESETS`) or a config object
    (then ``name`` names the generated struct). The generated ``<ident>.c`` defines
    ``const ec_<kind>_config <ident>``; declare it ``extern`` where it is used.
    """
    cfg = get_preset(preset) if isinstance(preset, str) else preset
    label = preset if isinstance(preset, str) else (name or "custom")
    ident = c_ident(label)
    if isinstance(cfg, AudioFeatures):
        kind, body = "audio", _audio(ident, cfg)
    elif isinstance(cfg, MotionFeatures):
        kind, body = "motion", _motion(ident, cfg)
    elif isinstance(cfg, ImagePreprocess):
        kind, body = "image", _image(ident, cfg)
    elif isinstance(cfg, MicroSpeechFeatures):
        kind, body = "micro", _micro(ident, cfg)
    elif isinstance(cfg, LfbeFeatures):
        kind, body = "lfbe", _lfbe(ident, cfg)
    else:
        raise ValueError(f"no C twin for {type(cfg).__name__}")
    header = (f"/* Generated by edgecraft from the '{label}' front end; do not edit. */\n"
              "#include <stdint.h>\n\n#include \"ec_features.h\"\n\n")
    files = {f: _static(f) for f in COMMON + STATIC[kind]}
    files[f"{ident}.c"] = header + body
    return files


def all_presets() -> list[str]:
    """Names of the presets that have a C twin (all of them)."""
    return sorted(PRESETS)
