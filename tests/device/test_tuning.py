"""Tuning on a labelled synthetic recording: the sweep reports false accepts per hour and false
reject rate, and the operating point it picks has neither."""

from __future__ import annotations

import itertools

import numpy as np
from stream_models import TONE_LABELS, to_int16, tone, tone_detector

from edgecraft.device import ModelRunner, audio_featurizer
from edgecraft.device.postprocess import Detection
from edgecraft.device.tuning import (
    Event,
    match,
    operating_point,
    pareto,
    score_recording,
    sweep,
    synth_recording,
)
from edgecraft.dsp import KWS_MFCC


def test_match_counts_false_accepts_and_rejects() -> None:
    events = [Event(1.0, 1.5, "yes"), Event(4.0, 4.5, "no")]
    dets = [Detection(1.8, "yes", 0.9), Detection(2.0, "yes", 0.9), Detection(4.6, "yes", 0.9)]
    # the second "yes" is a repeat (the event is used), the third has the wrong label; "no" is missed
    assert match(dets, events, window_s=1.0) == (2, 1)


def test_sweep_and_operating_point() -> None:
    clips = [("tone", to_int16(tone(6400))) for _ in range(6)]
    audio, events = synth_recording(clips, 16000, gap_s=(1.5, 3.0), noise_rms=200.0, seed=1)
    assert len(events) == 6 and audio.dtype == np.int16
    times, scores = score_recording(audio, ModelRunner(tone_detector()), audio_featurizer(KWS_MFCC),
                                    16000, 4000, 16000)
    assert scores.shape == (len(times), 2)
    duration = len(audio) / 16000
    rows = sweep(times, scores, TONE_LABELS, events, duration, 1.0, thresholds=(0.5, 0.9),
                 smoothing_s=(0.0, 0.5), suppression_s=(0.0, 1.5), min_counts=(1,))
    assert len(rows) == 8
    lax = next(r for r in rows if r["suppression_s"] == 0.0 and r["smoothing_s"] == 0.0)
    assert lax["fa_per_hour"] > 0  # no suppression: one burst fires several times
    best = operating_point(rows, max_fa_per_hour=0.0)
    assert best["frr"] == 0.0 and best["false_accepts"] == 0 and best["suppression_s"] == 1.5
    front = pareto(rows)
    assert front[0]["fa_per_hour"] == 0.0
    assert all(a["frr"] > b["frr"] for a, b in itertools.pairwise(front))
