"""Non-IID client partitions made from an application's data generator.

- ``gesture``: every client is one new person (their own speed, amplitude, sensor orientation,
  noise and drift from :func:`edgecraft.apps.data.gesture.person`), who performs only some of
  the gestures (label proportions drawn from a Dirichlet with concentration ``alpha``) and
  records a different amount (window counts log-normal, 6 to 120).
- other classification apps (kws, wakeword, person): the generator's training set split with
  the same Dirichlet label skew and log-normal sizes (their generators do not expose one
  speaker per client yet).

The server's test set is the generator's held-out split (people or voices never seen in
training), and the feature scaling is fitted on the generator's own training split: the data
the application was designed with, which the server may see; client data never reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edgecraft.apps.features import Scaling, featurize, front_end, needs_scaling
from edgecraft.apps.spec import AppSpec, SpecError

MIN_WINDOWS, MAX_WINDOWS, MEDIAN_WINDOWS = 6, 120, 24


@dataclass
class Partitions:
    """Every client's features and labels in one array (client ``i``: rows
    ``offsets[i]:offsets[i+1]``), the server's test set, and how features were made."""

    labels: list[str]
    x: np.ndarray
    y: np.ndarray
    offsets: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    scaling: Scaling | None
    source: str
    train_x: np.ndarray  # the generator's own training split (centralized reference)
    train_y: np.ndarray

    @property
    def clients(self) -> int:
        return len(self.offsets) - 1

    def sizes(self) -> np.ndarray:
        """Examples per client."""
        return np.diff(self.offsets)

    def client(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Client ``i``'s features and labels."""
        return self.x[self.offsets[i] : self.offsets[i + 1]], self.y[self.offsets[i] : self.offsets[i + 1]]

    def summary(self) -> dict[str, Any]:
        """Sizes and label skew at a glance."""
        sizes = self.sizes()
        per_client = [len(np.unique(self.client(i)[1])) for i in range(self.clients)]
        return {
            "clients": self.clients,
            "examples": int(sizes.sum()),
            "min_examples": int(sizes.min()),
            "max_examples": int(sizes.max()),
            "mean_labels_per_client": round(float(np.mean(per_client)), 2),
            "source": self.source,
        }


def _draw_counts(rng: np.random.Generator, classes: int, alpha: float) -> np.ndarray:
    total = int(np.clip(rng.lognormal(np.log(MEDIAN_WINDOWS), 0.6), MIN_WINDOWS, MAX_WINDOWS))
    return rng.multinomial(total, rng.dirichlet(np.full(classes, alpha)))


def make_partitions(spec: AppSpec, clients: int, seed: int, alpha: float = 0.5) -> Partitions:
    """``clients`` non-IID partitions of the application ``spec`` (see the module docstring)."""
    from edgecraft.apps.run import load_data

    if spec.task != "classify":
        raise SpecError(
            f"{spec.root}/app.toml: federated training supports classification apps "
            f"(gesture, kws, wakeword, person); this one's task is {spec.task!r}"
        )
    if clients < 2:
        raise ValueError("--clients must be at least 2")
    cfg = front_end(spec)
    data = load_data(spec)
    base_x = featurize(cfg, data.train.x)
    scaling = Scaling.fit(base_x) if needs_scaling(cfg, spec.task) else None
    scale = scaling if scaling is not None else (lambda a: a)
    test_x = scale(featurize(cfg, data.test.x))
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    if spec.generator == "gesture":
        from edgecraft.apps.data import gesture

        p = {**gesture.PARAMS, **spec.data_params}
        rate, window, hop = float(p["rate"]), int(p["window"]), int(p["hop"])
        for i in range(clients):
            rng = np.random.default_rng([seed, i])
            who = gesture.person(rng)
            counts = _draw_counts(rng, len(gesture.LABELS), alpha)
            raw, lab = [], []
            for c, n in enumerate(counts):
                if n == 0:
                    continue
                sig = gesture.motion(gesture.LABELS[c], who, window + hop * (int(n) - 1), rate, rng)
                raw.append(np.stack([sig[k * hop : k * hop + window] for k in range(int(n))]))
                lab += [c] * int(n)
            xs.append(np.concatenate(raw))
            ys.append(np.array(lab))
        source = "one new person per client (Dirichlet label skew, log-normal sizes)"
        feats = scale(featurize(cfg, np.concatenate(xs)))
    else:
        rng = np.random.default_rng(seed)
        y_all = data.train.y
        pools = [list(rng.permutation(np.flatnonzero(y_all == c))) for c in range(len(data.labels))]
        idx_all = []
        for _ in range(clients):
            counts = _draw_counts(rng, len(data.labels), alpha)
            idx = []
            for c, n in enumerate(counts):
                for _k in range(int(n)):
                    if not pools[c]:
                        pools[c] = list(rng.permutation(np.flatnonzero(y_all == c)))
                    idx.append(pools[c].pop())
            idx = idx or [int(rng.integers(len(y_all)))]
            idx_all.append(np.array(idx))
            ys.append(y_all[idx])
        source = "the generator's training set, Dirichlet label skew, log-normal sizes"
        feats = scale(base_x)[np.concatenate(idx_all)]
    sizes = [len(v) for v in ys]
    return Partitions(
        labels=list(data.labels),
        x=np.asarray(feats, np.float32),
        y=np.concatenate(ys).astype(np.int64),
        offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        test_x=np.asarray(test_x, np.float32),
        test_y=np.asarray(data.test.y, np.int64),
        scaling=scaling,
        source=source,
        train_x=np.asarray(scale(base_x), np.float32),
        train_y=np.asarray(data.train.y, np.int64),
    )
