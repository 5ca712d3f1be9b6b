"""TFLite Micro's "hello world": learn ``y = sin(x)`` for ``x`` in ``[0, 2 pi)`` from noisy
samples. The test set is noiseless, so its error is the model's own."""

from __future__ import annotations

import numpy as np

from edgecraft.apps.data import Dataset, Split

PARAMS = {"samples": 1000, "noise": 0.1}


def generate(seed: int, samples: int, noise: float) -> Dataset:
    """``samples`` noisy training points (60 % train, 20 % validation) and a clean test grid."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 2 * np.pi, samples).astype(np.float32)
    y = (np.sin(x) + rng.normal(0, noise, samples)).astype(np.float32)
    n_train = int(0.75 * samples)
    grid = np.linspace(0, 2 * np.pi, max(64, samples // 5), endpoint=False, dtype=np.float32)
    return Dataset(
        ["y"],
        Split(x[:n_train, None], y[:n_train, None]),
        Split(x[n_train:, None], y[n_train:, None]),
        Split(grid[:, None], np.sin(grid)[:, None].astype(np.float32)),
        "noiseless grid",
    )
