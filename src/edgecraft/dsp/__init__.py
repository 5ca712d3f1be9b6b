"""Feature front ends in Python, each with a C twin (``c_sources``).

- audio: :func:`mfcc`, :func:`log_mel` with every parameter in :class:`AudioFeatures`; the
  ``kws-mfcc`` preset is the MLPerf Tiny KWS front end.
- motion: :func:`motion_features` (windows with overlap, per-axis statistics, spectral bands,
  peak frequencies).
- micro_speech: TFLite Micro's micro_speech front end in integer arithmetic (``micro-speech``).
- lfbe: MLPerf Tiny's streaming wake word log-mel energies (``str-ww-lfbe``).
- image: :class:`ImagePreprocess` (crop, resize, grayscale/RGB, normalize, quantize).
"""

from edgecraft.dsp.audio import KWS_LOG_MEL, KWS_MFCC, AudioFeatures, features, log_mel, mfcc
from edgecraft.dsp.csrc import c_sources
from edgecraft.dsp.image import VWW_96, ImagePreprocess
from edgecraft.dsp.lfbe import STR_WW_LFBE, LfbeFeatures, lfbe
from edgecraft.dsp.micro_speech import MICRO_SPEECH, MicroSpeechFeatures, micro_features
from edgecraft.dsp.motion import IMU_DEFAULT, MotionFeatures, motion_features
from edgecraft.dsp.presets import PRESETS, get_preset
from edgecraft.dsp.quantize import dequantize, quantize

__all__ = [
    "IMU_DEFAULT", "KWS_LOG_MEL", "KWS_MFCC", "MICRO_SPEECH", "PRESETS", "STR_WW_LFBE", "VWW_96",
    "AudioFeatures", "ImagePreprocess", "LfbeFeatures", "MicroSpeechFeatures", "MotionFeatures", "c_sources",
    "dequantize", "features", "get_preset", "lfbe", "log_mel", "mfcc", "micro_features", "motion_features",
    "quantize",
]
