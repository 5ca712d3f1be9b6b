"""The streaming on-device loop: ring buffer, windows, gates, duty cycling, post-processing,
triggers, tuning and the power/battery model; :func:`stream_file` / :func:`stream_recording`
run the whole pipeline (what ``edgecraft stream`` calls)."""

from edgecraft.device.pipeline import StreamOptions, stream_file, stream_recording
from edgecraft.device.postprocess import Detection, Detector, PosteriorSmoother, PostProcessing, detect
from edgecraft.device.power import Battery, BoardPower, board_power, estimate, parse_battery
from edgecraft.device.recordings import StreamError, read_csv, read_events, read_wav
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
    "StreamError",
    "StreamLoop",
    "StreamOptions",
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
    "read_csv",
    "read_events",
    "read_wav",
    "score_recording",
    "stream_file",
    "stream_recording",
    "sweep",
    "synth_recording",
]
