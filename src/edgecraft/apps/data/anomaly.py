"""Machine sound from a physical model, for anomaly detection trained on normal sound only.

A machine (all of one type, each unit a little different) is a shaft turning at ``f0`` (25-35
Hz) with its harmonics (the type's signature, +-30 % per unit), a gear-mesh tone at
``teeth x f0`` with sidebands, a structural resonance excited by the flow noise, and
broadband noise. Load changes move the speed and the level slowly. Faults, each on top of a normal machine:

- bearing: impulses at the outer-race frequency (~3.6 x f0) ringing the 2-4 kHz resonance
- imbalance: the 1x component grows several times
- looseness: many harmonics and half-order (0.5 x, 1.5 x) components, clipped knocks
- friction: louder, brighter broadband noise

The model trains on normal clips of the training machines; the test holds normal and faulty
clips of machines it never heard.
"""

from __future__ import annotations

import numpy as np

from edgecraft.apps.data import Dataset, Recording, Split

PARAMS = {"machines": 8, "test_machines": 3, "clips": 60, "test_clips": 30, "seconds": 1.0}
RATE = 16000
FAULTS = ("bearing", "imbalance", "looseness", "friction")


SIGNATURE = np.array([1.0, 0.5, 0.6, 0.2, 0.3, 0.1, 0.15, 0.05])


def machine(rng: np.random.Generator) -> dict[str, object]:
    """One unit of the machine type: speed, harmonic signature, gear teeth, resonance, noise."""
    return {
        "f0": rng.uniform(25, 35),
        "harmonics": SIGNATURE * rng.uniform(0.7, 1.3, 8),
        "teeth": int(rng.integers(20, 25)),
        "resonance": rng.uniform(2500, 3500),
        "noise": rng.uniform(0.08, 0.15),
    }


def sound(m: dict[str, object], n: int, rng: np.random.Generator, fault: str | None = None) -> np.ndarray:
    """``n`` int16 samples of machine ``m`` running (with ``fault`` when given)."""
    t = np.arange(n) / RATE
    load = (
        1
        + 0.03 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t + rng.uniform(0, 6))
        + rng.uniform(-0.05, 0.05)
    )
    f0 = float(m["f0"]) * load  # type: ignore[arg-type]
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    harm = np.array(m["harmonics"], np.float64)
    if fault == "imbalance":
        harm = harm.copy()
        harm[0] *= rng.uniform(4, 8)
    x = sum(a * np.sin((k + 1) * phase + rng.uniform(0, 6)) for k, a in enumerate(harm))
    teeth = int(m["teeth"])  # type: ignore[call-overload]
    x += 0.3 * np.sin(teeth * phase) * (1 + 0.3 * np.sin(phase))
    white = rng.normal(size=n)
    res = float(m["resonance"])  # type: ignore[arg-type]
    ring = np.exp(-np.arange(200) / 40.0) * np.sin(2 * np.pi * res * np.arange(200) / RATE)
    x += float(m["noise"]) * (white + 0.5 * np.convolve(white, ring, "same"))  # type: ignore[arg-type]
    if fault == "bearing":
        pulses = np.zeros(n)
        period = RATE / (3.6 * float(np.mean(f0)))
        for i in np.arange(rng.uniform(0, period), n, period):
            pulses[int(i)] = rng.uniform(0.5, 1.5)
        x += rng.uniform(1.5, 3.0) * np.convolve(pulses, ring, "same")
    elif fault == "looseness":
        x += sum(rng.uniform(0.3, 0.6) * np.sin(h * phase) for h in (0.5, 1.5, 2.5, 3.5))
        x = np.clip(x, -0.8 * np.abs(x).max(), 0.8 * np.abs(x).max())
    elif fault == "friction":
        x += rng.uniform(0.5, 1.0) * np.diff(rng.normal(size=n + 1))
    level = 10 ** (rng.uniform(-20, -10) / 20) * 32767 / max(np.abs(x).max(), 1e-9)
    return np.clip(np.round(x * level), -32768, 32767).astype(np.int16)


def generate(
    seed: int, machines: int, test_machines: int, clips: int, test_clips: int, seconds: float
) -> Dataset:
    """Normal clips of the training machines; normal (label 0) and faulty (1) clips of others."""
    if not 0 < test_machines < machines - 1:
        raise ValueError("test_machines must be at least 1 and leave at least 2 machines for training")
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    ms = [machine(rng) for _ in range(machines)]
    # the validation machine is a unit the model does not fit: the threshold it sets on normal
    # sound carries over to other unseen units
    n_fit = machines - test_machines - 1
    x = np.stack([sound(m, n, rng) for m in ms[:n_fit] for _ in range(clips)])
    xv = np.stack([sound(ms[n_fit], n, rng) for _ in range(clips)])
    xt, yt = [], []
    for m in ms[machines - test_machines :]:
        for i in range(test_clips):
            fault = None if i % 2 == 0 else FAULTS[(i // 2) % len(FAULTS)]
            xt.append(sound(m, n, rng, fault))
            yt.append(int(fault is not None))
    return Dataset(
        ["normal", "anomaly"],
        Split(x, np.zeros(len(x), np.int64)),
        Split(xv, np.zeros(len(xv), np.int64)),
        Split(np.stack(xt), np.array(yt)),
        f"{test_machines} machines never heard in training",
        demo_recording(ms[-1], rng),
        {"rate": RATE},
    )


def demo_recording(m: dict[str, object], rng: np.random.Generator) -> Recording:
    """A held-out machine: 6 s normal, 4 s with a bearing fault, 6 s normal."""
    parts = [sound(m, 6 * RATE, rng), sound(m, 4 * RATE, rng, "bearing"), sound(m, 6 * RATE, rng)]
    return Recording(np.concatenate(parts), RATE, [(6.0, 10.0, "anomaly")])
