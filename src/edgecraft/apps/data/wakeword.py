"""A streaming wake word, "marvin", in the style of MLPerf Tiny's str_ww (labels marvin,
silence, unknown): espeak-ng voices say "marvin" and other words over background noise; the
test voices are never heard in training. A long recording of other speech and noise gives the
false accepts per hour, a demo recording with several "marvin"s the detections.
"""

from __future__ import annotations

import numpy as np

from edgecraft.apps.data import Dataset, Recording
from edgecraft.apps.data.kws import SENTENCES, UNKNOWN, _lay, _take, speech_cut, voice_dataset
from edgecraft.apps.data.speech import RATE, Voice, clip, say

PARAMS = {
    "voices": 60,
    "test_voices": 16,
    "takes": 6,
    "unknown_per_voice": 6,
    "silence_per_voice": 3,
    "fa_minutes": 10.0,
    "speech_per_voice": 0,
}
WAKE = "marvin"
LABELS = [WAKE, "silence", "unknown"]
OTHERS = [w for w in UNKNOWN if w != WAKE] + ["martin", "marble", "garden", "starving"]  # near misses too


def _clips(
    speakers: list[Voice], takes: int, unknown: int, silence: int, rng: np.random.Generator, speech: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for v in speakers:
        for _ in range(takes):
            xs.append(clip(say(WAKE, _take(v, rng)), rng))
            ys.append(0)
        for w in rng.choice(OTHERS, unknown, replace=False):
            xs.append(clip(say(str(w), _take(v, rng)), rng))
            ys.append(2)
        for _ in range(silence):
            xs.append(clip(None, rng))
            ys.append(1)
        for _ in range(speech):
            xs.append(clip(speech_cut(v, rng), rng, shift=0.0))
            ys.append(2)
    return np.stack(xs), np.array(ys)


def generate(
    seed: int,
    voices: int,
    test_voices: int,
    takes: int,
    unknown_per_voice: int,
    silence_per_voice: int,
    fa_minutes: float,
    speech_per_voice: int = 0,
) -> Dataset:
    """1 s clips at 16 kHz (int16) of ``voices`` training speakers and ``test_voices`` others;
    ``speech_per_voice`` hard negatives per training speaker as kws makes them."""

    def train_clips(sp: list[Voice], takes: int, unknown: int, silence: int, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray]:
        return _clips(sp, takes, unknown, silence, rng, speech_per_voice)

    return voice_dataset(
        LABELS, _clips, demo_recording, seed, voices, test_voices, takes, max(1, takes // 2),
        unknown_per_voice, silence_per_voice, fa_minutes, train_clips,
    )


def demo_recording(speakers: list[Voice], rng: np.random.Generator) -> Recording:
    """Twenty seconds: "marvin" four times among other words and a sentence."""
    parts, events, t = [], [], 1.0
    script = [WAKE, "house", str(rng.choice(SENTENCES)), WAKE, "martin", WAKE, "happy", WAKE]
    for k, text in enumerate(script):
        s = say(text, speakers[k % len(speakers)])
        parts.append((t, s))
        if text == WAKE:
            events.append((t, t + len(s) / RATE, WAKE))
        t += len(s) / RATE + 1.5
    return Recording(_lay(parts, t + 0.5, rng), RATE, events)
