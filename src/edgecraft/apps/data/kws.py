"""Keyword spotting data: the ten Speech Commands keywords plus unknown and silence, spoken by
espeak-ng voices (accent + variant, speed, pitch), shifted in time and mixed with background
noise. The test voices are never heard in training.

Also made: a long recording of non-keyword speech and noise (false accepts per hour) and a demo
recording of keywords by a test voice.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgecraft.apps.data import Dataset, Recording, Split, join, split_indices
from edgecraft.apps.data.speech import RATE, Voice, clip, noise, say

PARAMS = {
    "voices": 60,
    "test_voices": 16,
    "takes": 2,
    "unknown_per_voice": 6,
    "silence_per_voice": 3,
    "fa_minutes": 10.0,
    "speech_per_voice": 0,
}
KEYWORDS = ["down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes"]
LABELS = [*KEYWORDS, "silence", "unknown"]  # the order of MLPerf Tiny's KWS model
#: Speech Commands' auxiliary words and a few more: never keywords
UNKNOWN = [
    "bed",
    "bird",
    "cat",
    "dog",
    "happy",
    "house",
    "marvin",
    "sheila",
    "tree",
    "wow",
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "learn",
    "follow",
    "forward",
    "backward",
    "visual",
    "yellow",
    "window",
    "river",
    "paper",
    "table",
]
#: sentences for the false-accept recording (none holds a keyword)
SENTENCES = [
    "the weather is nice today",
    "please bring me a cup of tea",
    "where did you put the keys",
    "she walked to the market",
    "the train was late again",
    "i think it will rain",
    "my brother plays the guitar",
    "this is a very quiet room",
    "can you read that",
    "we had fish",
]
#: other sentences, for the training set's hard negatives ("unknown": one second cut from
#: running speech, as a streaming window sees it); none holds a keyword, none is in SENTENCES
TRAIN_SENTENCES = [
    "the river runs past the old mill",
    "a cold wind blew across the field",
    "he bought bread and milk",
    "they painted the kitchen white",
    "my sister knows the answer",
    "the children sang a happy song",
    "we will meet after lunch",
    "her garden is full of roses",
    "the bus comes every hour",
    "a small boat sailed into the harbour",
    "the museum opens at nine",
    "bring a warm coat tomorrow",
    "his laptop needs a new battery",
    "the soup tastes of pepper",
    "we watched a film last night",
    "the library was almost empty",
]


def _take(v: Voice, rng: np.random.Generator) -> Voice:
    """The same speaker saying it a little faster or slower, higher or lower."""
    return Voice(
        v.base,
        v.variant,
        int(np.clip(v.speed + rng.integers(-15, 16), 100, 240)),
        int(np.clip(v.pitch + rng.integers(-8, 9), 0, 99)),
    )


def speech_cut(v: Voice, rng: np.random.Generator, n: int = RATE) -> np.ndarray:
    """``n`` samples of running speech by ``v`` (a random stretch of a training sentence)."""
    s = say(str(rng.choice(TRAIN_SENTENCES)), _take(v, rng))
    start = int(rng.integers(0, max(1, len(s) - n + 1)))
    return s[start : start + n]


def _clips(
    speakers: list[Voice], takes: int, unknown: int, silence: int, rng: np.random.Generator, speech: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for v in speakers:
        for _ in range(takes):
            for w in KEYWORDS:
                xs.append(clip(say(w, _take(v, rng)), rng))
                ys.append(LABELS.index(w))
        for w in rng.choice(UNKNOWN, unknown, replace=False):
            xs.append(clip(say(str(w), _take(v, rng)), rng))
            ys.append(LABELS.index("unknown"))
        for _ in range(silence):
            xs.append(clip(None, rng))
            ys.append(LABELS.index("silence"))
        for _ in range(speech):
            xs.append(clip(speech_cut(v, rng), rng, shift=0.0))
            ys.append(LABELS.index("unknown"))
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
    """Clips of 1 s at 16 kHz (int16): ``voices`` training speakers, ``test_voices`` others.
    ``speech_per_voice`` training clips per speaker are hard negatives ("unknown"): a second of
    running speech from sentences the false-accept recording never uses (the test clips have none,
    so accuracy stays comparable)."""

    def train_clips(sp: list[Voice], takes: int, unknown: int, silence: int, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray]:
        return _clips(sp, takes, unknown, silence, rng, speech_per_voice)

    return voice_dataset(
        LABELS, _clips, lambda test_v, rng: demo_recording(test_v[0], rng), seed, voices, test_voices,
        takes, 1, unknown_per_voice, silence_per_voice, fa_minutes, train_clips,
    )


#: Clips and labels of some speakers: (speakers, takes, unknown, silence, rng) -> (x, y).
ClipMaker = Callable[[list[Voice], int, int, int, np.random.Generator], tuple[np.ndarray, np.ndarray]]


def voice_dataset(
    labels: list[str],
    make_clips: ClipMaker,
    demo: Callable[[list[Voice], np.random.Generator], Recording],
    seed: int,
    voices: int,
    test_voices: int,
    takes: int,
    test_takes: int,
    unknown_per_voice: int,
    silence_per_voice: int,
    fa_minutes: float,
    train_clips: ClipMaker | None = None,
) -> Dataset:
    """A spoken-word data set (kws, wakeword): training voices, test voices never heard in
    training, a demo recording by the test voices and a long recording of other speech for false
    accepts per hour, all from one seed. ``train_clips`` (default ``make_clips``) makes the
    training speakers' clips."""
    from edgecraft.apps.data import speech

    rng = np.random.default_rng(seed)
    train_v = speech.voices(voices, rng)
    test_v = speech.voices(test_voices, rng, exclude={v.name for v in train_v})
    x, y = (train_clips or make_clips)(train_v, takes, unknown_per_voice, silence_per_voice, rng)
    xt, yt = make_clips(test_v, test_takes, unknown_per_voice, silence_per_voice, rng)
    tr, va = split_indices(len(x), 0.1, rng)
    test_demo, test_negatives = demo(test_v, rng), negatives(test_v, fa_minutes, rng)
    # tuning material from the training voices only, on its own stream of random numbers (the
    # data above stays what it was): three demos and as much other speech as the test has
    trng = np.random.default_rng([seed, 1])
    tuning = join([*(demo(train_v[k::3], trng) for k in range(3)), negatives(train_v, fa_minutes, trng)])
    return Dataset(
        list(labels),
        Split(x[tr], y[tr]),
        Split(x[va], y[va]),
        Split(xt, yt),
        f"{test_voices} voices never heard in training",
        test_demo,
        {"rate": RATE, "train_voices": [v.name for v in train_v], "test_voices": [v.name for v in test_v]},
        negatives=test_negatives,
        tuning=tuning,
    )


def _lay(parts: list[tuple[float, np.ndarray]], seconds: float, rng: np.random.Generator) -> np.ndarray:
    n = int(seconds * RATE)
    out = noise(n, rng) * 32767 * 10 ** (-40 / 20)
    for start, s in parts:
        i = int(start * RATE)
        seg = s[: n - i] * 32767 * 10 ** (rng.uniform(-20, -8) / 20)
        out[i : i + len(seg)] += seg
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def negatives(speakers: list[Voice], minutes: float, rng: np.random.Generator) -> Recording:
    """``minutes`` of non-keyword words and sentences (about one every 2.5 s) over noise."""
    seconds = minutes * 60
    parts, t = [], 0.5
    while t < seconds - 3:
        text = str(rng.choice(SENTENCES)) if rng.random() < 0.4 else str(rng.choice(UNKNOWN))
        s = say(text, _take(speakers[int(rng.integers(len(speakers)))], rng))
        if t + len(s) / RATE > seconds:
            break
        parts.append((t, s))
        t += len(s) / RATE + rng.uniform(0.8, 2.5)
    return Recording(_lay(parts, seconds, rng), RATE, [])


def demo_recording(v: Voice, rng: np.random.Generator) -> Recording:
    """Each keyword once, 2 s apart, by one test voice, over background noise."""
    parts, events = [], []
    for k, w in enumerate(KEYWORDS):
        s = say(w, v)
        start = 1.0 + 2.0 * k
        parts.append((start, s))
        events.append((start, start + len(s) / RATE, w))
    return Recording(_lay(parts, 2.0 * len(KEYWORDS) + 1.5, rng), RATE, events)
