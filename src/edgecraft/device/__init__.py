"""The streaming on-device loop: ring buffer, windows, gates, duty cycling, post-processing,
triggers, tuning and the power/battery model."""

from edgecraft.device.postprocess import Detection, Detector, PosteriorSmoother, PostProcessing, detect
from edgecraft.device.power import Battery, BoardPower, board_power, estimate, parse_battery
from edgecraft.device.ring import RingBuffer, Windower
from edgecraft.device.stream import (
    ModelRunner,
    StreamLoop,
    audio_featurizer,
    energy_gate,
    event_trigger,
    motion_featurizer,
    motion_gate,
)
from edgecraft.device.tuning import Event, operating_point, pareto, score_recording, sweep, synth_recording

__all__ = [
    "Battery",
    "BoardPower",
    "Detection",
    "Detector",
    "Event",
    "ModelRunner",
    "PostProcessing",
    "PosteriorSmoother",
    "RingBuffer",
    "StreamLoop",
    "Windower",
    "audio_featurizer",
    "board_power",
    "detect",
    "energy_gate",
    "estimate",
    "event_trigger",
    "motion_featurizer",
    "motion_gate",
    "operating_point",
    "pareto",
    "parse_battery",
    "score_recording",
    "sweep",
    "synth_recording",
]
