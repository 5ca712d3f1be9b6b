"""Speech made on the machine: espeak-ng across voices (a base accent plus a voice variant),
speeds and pitches, placed in clips with time shifts and mixed with synthesized background
noise. Used by the kws and wakeword generators.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from edgecraft.apps.data import DataError

RATE = 16000
#: espeak-ng's own English voices (accents); mbrola voices need extra packages and are left out
BASES = (
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
    "en-us-nyc",
)
#: espeak-ng voice variants (timbre, gender, formant synthesis flavour)
VARIANTS = (
    "m1",
    "m2",
    "m3",
    "m4",
    "m5",
    "m6",
    "m7",
    "f1",
    "f2",
    "f3",
    "f4",
    "f5",
    "klatt",
    "klatt2",
    "klatt3",
    "croak",
    "Andy",
    "Annie",
    "Denis",
    "Gene",
    "Jacky",
    "Lee",
    "Mike",
    "Tweaky",
    "aunty",
    "boris",
    "david",
    "ed",
    "edward",
    "grandma",
    "grandpa",
    "iven",
    "john",
    "linda",
    "max",
    "michel",
    "norbert",
    "paul",
    "pedro",
    "robert",
    "steph",
    "travis",
    "victor",
    "zac",
)


@dataclass(frozen=True)
class Voice:
    """One speaker: an accent, a variant, a speaking rate (words per minute) and a pitch (0-99)."""

    base: str
    variant: str
    speed: int
    pitch: int

    @property
    def name(self) -> str:
        return f"{self.base}+{self.variant}"


def voices(count: int, rng: np.random.Generator, exclude: set[str] = frozenset()) -> list[Voice]:  # type: ignore[assignment]
    """``count`` distinct speakers (accent+variant pairs not in ``exclude``), speeds 120-210
    words per minute, pitches 25-75."""
    pairs = [f"{b}+{v}" for b in BASES for v in VARIANTS if f"{b}+{v}" not in exclude]
    if count > len(pairs):
        raise DataError(f"at most {len(pairs)} distinct voices are available, asked for {count}")
    chosen = rng.choice(len(pairs), count, replace=False)
    out = []
    for i in chosen:
        base, variant = pairs[int(i)].split("+")
        out.append(Voice(base, variant, int(rng.integers(120, 211)), int(rng.integers(25, 76))))
    return out


def _espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise DataError(
            "espeak-ng is not installed (apt-get install espeak-ng): the speech generators need it"
        )
    return exe


@lru_cache(maxsize=4096)
def say(text: str, voice: Voice) -> np.ndarray:
    """``text`` spoken by ``voice``: float64 samples at 16 kHz, silence trimmed, peak 1."""
    from scipy.signal import resample_poly

    proc = subprocess.run(
        [_espeak(), "-v", voice.name, "-s", str(voice.speed), "-p", str(voice.pitch), "--stdout", text],
        capture_output=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0 or len(proc.stdout) <= 44:
        raise DataError(
            f"espeak-ng failed for voice {voice.name}: {proc.stderr.decode(errors='replace')[:200]}"
        )
    x = np.frombuffer(proc.stdout[44 : 44 + (len(proc.stdout) - 44) // 2 * 2], np.int16).astype(np.float64)
    x = resample_poly(x, 160, 441)  # espeak-ng speaks at 22050 Hz
    loud = np.flatnonzero(np.abs(x) > 0.02 * max(np.abs(x).max(), 1.0))
    if len(loud):
        x = x[loud[0] : loud[-1] + 1]
    return x / max(np.abs(x).max(), 1e-9)


def noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Background: coloured noise (white to brown), mains hum with harmonics, a fan-like tone
    and sometimes clicks; float64, RMS about 1."""
    white = rng.normal(size=n)
    spectrum = np.fft.rfft(white)
    f = np.fft.rfftfreq(n, 1 / RATE)
    colour = rng.uniform(0, 2)  # 0 white, 1 pink, 2 brown
    spectrum[1:] /= f[1:] ** (colour / 2)
    spectrum[0] = 0
    x = np.fft.irfft(spectrum, n)
    x /= max(x.std(), 1e-12)
    t = np.arange(n) / RATE
    mains = rng.choice([50.0, 60.0])
    x += rng.uniform(0, 0.5) * sum(
        np.sin(2 * np.pi * mains * k * t + rng.uniform(0, 6)) / k for k in (1, 2, 3)
    )
    x += rng.uniform(0, 0.3) * np.sin(2 * np.pi * rng.uniform(100, 900) * t)
    if rng.random() < 0.3:
        for i in rng.integers(0, n, 3):
            x[i : i + 40] += rng.normal(0, 3, len(x[i : i + 40]))
    return x / max(x.std(), 1e-12)


def clip(
    speech: np.ndarray | None,
    rng: np.random.Generator,
    n: int = RATE,
    shift: float = 0.15,
    snr_db: tuple[float, float] = (5.0, 30.0),
    level_dbfs: tuple[float, float] = (-26.0, -6.0),
) -> np.ndarray:
    """One int16 clip of ``n`` samples: ``speech`` (or none: silence) centred with a random
    time shift of up to ``shift`` of the clip, at a random level, over background noise at a
    random signal-to-noise ratio."""
    out = np.zeros(n)
    level = 10 ** (rng.uniform(*level_dbfs) / 20) * 32767
    if speech is not None:
        s = speech[:n]
        start = (n - len(s)) // 2 + int(rng.integers(-int(shift * n), int(shift * n) + 1))
        start = int(np.clip(start, 0, n - len(s)))
        out[start : start + len(s)] = s * level
        rms = np.sqrt(np.mean(s**2)) * level
        bg = noise(n, rng) * rms / 10 ** (rng.uniform(*snr_db) / 20)
    else:
        bg = noise(n, rng) * level * rng.uniform(0.02, 0.3)
    return np.clip(np.round(out + bg), -32768, 32767).astype(np.int16)
