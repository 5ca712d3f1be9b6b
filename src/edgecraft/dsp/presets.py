"""Named front ends: what ``--features NAME`` selects."""

from __future__ import annotations

from edgecraft.dsp.audio import KWS_LOG_MEL, KWS_MFCC, AudioFeatures
from edgecraft.dsp.image import VWW_96, ImagePreprocess
from edgecraft.dsp.lfbe import STR_WW_LFBE, LfbeFeatures
from edgecraft.dsp.micro_speech import MICRO_SPEECH, MicroSpeechFeatures
from edgecraft.dsp.motion import IMU_DEFAULT, MotionFeatures

AudioPreset = AudioFeatures | MicroSpeechFeatures | LfbeFeatures
"""Front ends that take int16 audio (``features(samples, cfg)`` computes any of them)."""

AUDIO_PRESETS = (AudioFeatures, MicroSpeechFeatures, LfbeFeatures)
"""The audio preset classes, for ``isinstance``."""

Preset = AudioPreset | MotionFeatures | ImagePreprocess

PRESETS: dict[str, Preset] = {
    "kws-mfcc": KWS_MFCC,
    "kws-log-mel": KWS_LOG_MEL,
    "micro-speech": MICRO_SPEECH,
    "str-ww-lfbe": STR_WW_LFBE,
    "imu": IMU_DEFAULT,
    "vww-image": VWW_96,
}


def get_preset(name: str) -> Preset:
    """The front end called ``name``; ValueError listing the known names otherwise."""
    key = name.lower().replace("_", "-")
    if key == "mfcc-kws":
        key = "kws-mfcc"
    if key not in PRESETS:
        raise ValueError(f"unknown feature preset {name!r}; known: {', '.join(sorted(PRESETS))}")
    return PRESETS[key]
