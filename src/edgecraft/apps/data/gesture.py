"""Gestures from a wrist-worn accelerometer and gyroscope, simulated from motion models.

Six axes at ``rate`` Hz: ax, ay, az in m/s^2 (gravity included) and gx, gy, gz in rad/s. Each
gesture is a small kinematic model:

- wave: the forearm swings about the sensor's z axis (angle ``0.6 sin(2 pi f t)``, f ~ 1.8 Hz);
  the gyroscope sees the angular rate, the accelerometer the centripetal/tangential swing.
- punch: repeated thrusts along y (a derivative-of-Gaussian acceleration pulse, ~1.2 per s).
- circle: the hand draws a circle in the x-y plane (f ~ 1 Hz), a slow turn about z.
- flex: the wrist flexes about x (up to ~0.8 rad, ~0.7 Hz); gravity rotates between z and y.
- idle: the arm rests, with a slow sway.

Every person has their own speed, amplitude, sensor orientation (a rotation up to 25 degrees),
sensor noise and gyroscope bias drift. The test set is ``test_people`` people never seen in
training.
"""

from __future__ import annotations

import numpy as np

from edgecraft.apps.data import Dataset, Recording, Split, split_indices

PARAMS = {"people": 12, "test_people": 3, "seconds": 20.0, "rate": 100.0, "window": 128, "hop": 32}
LABELS = ["circle", "flex", "idle", "punch", "wave"]
G = 9.81


def _rotation(rng: np.random.Generator, max_deg: float) -> np.ndarray:
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    a = np.deg2rad(rng.uniform(-max_deg, max_deg))
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * (k @ k)


def person(rng: np.random.Generator) -> dict[str, object]:
    """One person's style and sensor: speed, amplitude, orientation, noise, gyro drift."""
    return {
        "speed": rng.uniform(0.75, 1.3),
        "amp": rng.uniform(0.7, 1.4),
        "rot": _rotation(rng, 25.0),
        "acc_noise": rng.uniform(0.04, 0.2),
        "gyro_noise": rng.uniform(0.01, 0.05),
        "bias": rng.uniform(-0.05, 0.05, 3),
        "drift": rng.uniform(-0.01, 0.01, 3),
    }


def motion(kind: str, who: dict[str, object], n: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    """``(n, 6)`` samples of gesture ``kind`` performed by ``who``."""
    t = np.arange(n) / rate + rng.uniform(0, 10)
    s, a = float(who["speed"]), float(who["amp"])  # type: ignore[arg-type]
    acc = np.zeros((n, 3))
    gyro = np.zeros((n, 3))
    grav = np.tile([0.0, 0.0, G], (n, 1))
    if kind == "wave":
        w = 2 * np.pi * 1.8 * s
        ang = 0.6 * a * np.sin(w * t)
        gyro[:, 2] = 0.6 * a * w * np.cos(w * t)
        acc[:, 0] = -0.35 * 0.6 * a * w * w * np.sin(w * t)  # tangential, forearm ~0.35 m
        acc[:, 1] = 0.35 * gyro[:, 2] ** 2
        grav = np.stack([G * np.sin(ang) * 0.2, np.zeros(n), G * np.cos(ang * 0.2)], 1)
    elif kind == "punch":
        period = 1.0 / (1.2 * s)
        phase = (t % period) - period / 2
        width = 0.06 / s
        acc[:, 1] = -18 * a * phase / width * np.exp(-0.5 * (phase / width) ** 2)
        gyro[:, 0] = 0.8 * a * np.exp(-0.5 * (phase / width) ** 2) * np.sign(phase)
    elif kind == "circle":
        w = 2 * np.pi * 1.0 * s
        acc[:, 0] = 3.0 * a * np.cos(w * t)
        acc[:, 1] = 3.0 * a * np.sin(w * t)
        gyro[:, 2] = 0.4 * a * np.sin(w * t + 0.5)
    elif kind == "flex":
        w = 2 * np.pi * 0.7 * s
        ang = 0.8 * a * (1 - np.cos(w * t)) / 2
        gyro[:, 0] = 0.8 * a * w * np.sin(w * t) / 2
        grav = np.stack([np.zeros(n), G * np.sin(ang), G * np.cos(ang)], 1)
    elif kind == "idle":
        sway = 0.05 * np.sin(2 * np.pi * 0.3 * t)
        grav = np.stack([G * sway, np.zeros(n), G * np.cos(sway)], 1)
        gyro[:, 1] = 0.05 * np.cos(2 * np.pi * 0.3 * t)
    else:
        raise ValueError(f"unknown gesture {kind!r}")
    rot = np.asarray(who["rot"])
    acc = (acc + grav) @ rot.T + rng.normal(0, float(who["acc_noise"]), (n, 3))  # type: ignore[arg-type]
    drift = np.asarray(who["bias"]) + np.outer(t - t[0], np.asarray(who["drift"]))
    gyro = gyro @ rot.T + drift + rng.normal(0, float(who["gyro_noise"]), (n, 3))  # type: ignore[arg-type]
    return np.concatenate([acc, gyro], 1).astype(np.float32)


def _windows(x: np.ndarray, window: int, hop: int) -> np.ndarray:
    count = 1 + (len(x) - window) // hop
    return np.stack([x[i * hop : i * hop + window] for i in range(count)])


def generate(
    seed: int, people: int, test_people: int, seconds: float, rate: float, window: int, hop: int
) -> Dataset:
    """Windows of every gesture by every person; the last ``test_people`` people are the test."""
    if not 0 < test_people < people:
        raise ValueError("test_people must be at least 1 and fewer than people")
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    xs: list[list[np.ndarray]] = [[], []]
    ys: list[list[int]] = [[], []]
    styles = [person(rng) for _ in range(people)]
    for p, who in enumerate(styles):
        part = 1 if p >= people - test_people else 0
        for c, kind in enumerate(LABELS):
            w = _windows(motion(kind, who, n, rate, rng), window, hop)
            xs[part].append(w)
            ys[part] += [c] * len(w)
    x_all, y_all = np.concatenate(xs[0]), np.array(ys[0])
    tr, va = split_indices(len(x_all), 0.15, rng)
    return Dataset(
        list(LABELS),
        Split(x_all[tr], y_all[tr]),
        Split(x_all[va], y_all[va]),
        Split(np.concatenate(xs[1]), np.array(ys[1])),
        f"{test_people} people never seen in training",
        demo_recording(styles[-1], rate, rng),
        {"rate": rate, "axes": 6},
    )


def demo_recording(who: dict[str, object], rate: float, rng: np.random.Generator) -> Recording:
    """Idle, then each gesture for 4 s with 3 s of idle between, by one held-out person."""
    parts, events, t = [], [], 0.0
    for kind in ("idle", "wave", "idle", "punch", "idle", "circle", "idle", "flex", "idle"):
        seconds = 3.0 if kind == "idle" else 4.0
        parts.append(motion(kind, who, int(seconds * rate), rate, rng))
        if kind != "idle":
            events.append((t, t + seconds, kind))
        t += seconds
    return Recording(np.concatenate(parts), rate, events)
