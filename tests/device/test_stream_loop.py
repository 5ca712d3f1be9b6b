"""The streaming loop end to end on models built in code: detections at the right times, any
chunk sizes, triggers and events, the energy and motion gates, duty cycling."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from stream_models import TONE_LABELS, tone_detector, tone_recording

from edgecraft.device import (
    ModelRunner,
    PostProcessing,
    StreamLoop,
    audio_featurizer,
    energy_gate,
    event_trigger,
    motion_featurizer,
    motion_gate,
)
from edgecraft.dsp import IMU_DEFAULT, KWS_MFCC
from edgecraft.models.motion import SHAKE_LABELS, shake_detector, shake_recording

BURSTS = [2.0, 5.0, 8.0]


@pytest.fixture(scope="module")
def tone_model() -> ModelRunner:
    return ModelRunner(tone_detector())


def tone_loop(model: ModelRunner, **kw: Any) -> StreamLoop:
    return StreamLoop(model, audio_featurizer(KWS_MFCC), TONE_LABELS, 16000, 16000, 4000, dtype="int16", **kw)


def test_tone_bursts_are_detected_once_each(tone_model: ModelRunner) -> None:
    loop = tone_loop(tone_model)
    loop.feed(tone_recording(BURSTS, 10.0))
    times = [d.time_s for d in loop.detections]
    assert [d.label for d in loop.detections] == ["tone"] * 3
    for t, burst in zip(times, BURSTS, strict=True):
        assert burst < t <= burst + 1.4  # the window [t - 1, t] overlaps the burst
    assert loop.stats.windows == loop.stats.inferences == 37  # 1 + (160000 - 16000) / 4000


def test_chunk_sizes_do_not_change_detections(tone_model: ModelRunner) -> None:
    rec = tone_recording(BURSTS, 10.0)
    whole = tone_loop(tone_model)
    whole.feed(rec)
    pieces = tone_loop(tone_model)
    rng = np.random.default_rng(0)
    pos = 0
    while pos < len(rec):
        n = int(rng.integers(1, 9000))
        pieces.feed(rec[pos:pos + n])
        pos += n
    assert pieces.detections == whole.detections


def test_triggers_and_events(tone_model: ModelRunner) -> None:
    seen: list[str] = []
    events: list[dict[str, Any]] = []
    triggers = [lambda d: seen.append(d.label), event_trigger(events.append, "dev-1")]
    loop = tone_loop(tone_model, triggers=triggers)
    loop.feed(tone_recording([3.0], 5.0))
    assert seen == ["tone"]
    assert events == [{"type": "detection", "device_id": "dev-1", **loop.detections[0].to_dict()}]


def test_energy_gate_keeps_the_model_asleep_in_quiet(tone_model: ModelRunner) -> None:
    rec = tone_recording(BURSTS, 10.0)
    quiet = (rec // 16).astype(np.int16)  # noise about -68 dBFS, bursts above -50 dBFS
    loop = tone_loop(tone_model, gate=energy_gate(-55.0))
    loop.feed(quiet)
    assert [d.label for d in loop.detections] == ["tone"] * 3
    assert loop.stats.gated > 20 and loop.stats.inferences < 12


def test_duty_cycling_runs_the_model_every_period(tone_model: ModelRunner) -> None:
    loop = tone_loop(tone_model, period_s=1.0)
    loop.feed(tone_recording(BURSTS, 10.0))
    assert loop.stats.inferences == 10 and loop.stats.duty_skipped == 27
    assert np.allclose(np.diff(loop.stats.inference_times_s), 1.0)


def test_short_recording_gets_one_padded_window(tone_model: ModelRunner) -> None:
    loop = tone_loop(tone_model)
    loop.feed(tone_recording([0.1], 0.6))
    assert loop.stats.windows == 0
    loop.finish()
    assert loop.stats.inferences == 1 and [d.label for d in loop.detections] == ["tone"]


def test_motion_stream_with_gate() -> None:
    model = ModelRunner(shake_detector())
    post = PostProcessing(threshold=0.6, smoothing_s=0.0, suppression_s=3.0)
    rec = shake_recording([3.0, 8.0], 12.0)
    feats = motion_featurizer(IMU_DEFAULT)
    loop = StreamLoop(model, feats, SHAKE_LABELS, 100, 128, 64, channels=3, post=post)
    loop.feed(rec)
    assert [d.label for d in loop.detections] == ["shake", "shake"]
    assert 3.0 < loop.detections[0].time_s < 5.0 and 8.0 < loop.detections[1].time_s < 10.0
    gated = StreamLoop(model, feats, SHAKE_LABELS, 100, 128, 64, channels=3, post=post, gate=motion_gate(0.2))
    gated.feed(rec)
    assert [d.label for d in gated.detections] == ["shake", "shake"]
    assert gated.stats.gated >= 8
