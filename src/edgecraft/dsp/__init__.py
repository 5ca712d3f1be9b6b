"""Feature front ends in Python, each with a C twin (``c_sources``).

- audio: :func:`mfcc`, :func:`log_mel` with every parameter in :class:`AudioFeatures`; the
  ``kws-mfcc`` preset is the MLPerf Tiny KWS front end.
- motion: :func:`motion_features` (windows with overlap, per-axis statistics, spectral bands,
  peak frequencies).
- image: :class:`ImagePreprocess` (crop, resize, grayscale/RGB, normalize, quantize).
"""

from edgecraft.dsp.audio import KWS_LOG_MEL, KWS_MFCC, AudioFeatures, features, log_mel, mfcc
from edgecraft.dsp.csrc import c_sources
from edgecraft.dsp.image import VWW_96, ImagePreprocess
from edgecraft.dsp.motion import IMU_DEFAULT, MotionFeatures, motion_features
from edgecraft.dsp.presets import PRESETS, get_preset
from edgecraft.dsp.quantize import dequantize, quantize

__all__ = [
    "IMU_DEFAULT", "KWS_LOG_MEL", "KWS_MFCC", "PRESETS", "VWW_96", "AudioFeatures", "ImagePreprocess",
    "MotionFeatures", "c_sources", "dequantize", "features", "get_preset", "log_mel", "mfcc",
    "motion_features", "quantize",
]
