"""Training details the templates rely on: pictures moved and mirrored per epoch (same seed,
same pictures), photometric copies of pictures that are not rolled, the cosine schedule."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.torch


def test_jitter_moves_and_mirrors_pictures_reproducibly() -> None:
    torch = pytest.importorskip("torch")
    from edgecraft.apps.training import jitter

    x = torch.arange(2 * 1 * 6 * 8, dtype=torch.float32).reshape(2, 1, 6, 8)
    a = jitter(x, 0.25, True, torch.Generator().manual_seed(4))
    b = jitter(x, 0.25, True, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and a.shape == x.shape  # same seed, same pictures
    seen = set()
    for seed in range(40):
        y = jitter(x[:1], 0.25, True, torch.Generator().manual_seed(seed))[0, 0].numpy()
        img = x[0, 0].numpy()
        found = None
        for flip in (False, True):
            src = img[:, ::-1] if flip else img
            padded = np.pad(src, ((1, 1), (2, 2)), mode="edge")  # shift 0.25: 1 row, 2 columns
            for dy in range(3):
                for dx in range(5):
                    if np.array_equal(padded[dy:dy + 6, dx:dx + 8], y):
                        found = (flip, dy, dx)
        assert found is not None  # every output is the picture moved (edges repeated), maybe mirrored
        seen.add(found)
    assert len({f for f, _, _ in seen}) == 2 and len(seen) > 8
    assert torch.equal(jitter(x, 0.0, False, torch.Generator()), x)


def test_picture_copies_get_gain_and_noise_but_keep_their_place() -> None:
    from edgecraft.apps.spec import Augmentation
    from edgecraft.apps.training import augment

    x = np.zeros((3, 16, 16, 3), np.uint8)
    x[:, 2:6, 2:6] = 200  # a bright square top left
    y = np.arange(3)
    xa, ya = augment(x, y, Augmentation(noise=0.01, shift=0.5, gain=0.2, copies=2), 1)
    assert xa.shape == (9, 16, 16, 3) and xa.dtype == np.uint8 and list(ya) == [0, 1, 2] * 3
    copies = xa[3:].astype(int)
    assert np.all(copies[:, 2:6, 2:6].mean((1, 2, 3)) > 150)  # not rolled away: shifts happen per epoch
    assert not np.array_equal(copies, np.concatenate([x, x]).astype(int))


def test_cosine_schedule_falls_to_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    from edgecraft.apps.models import mlp
    from edgecraft.apps.spec import Training
    from edgecraft.apps.training import train

    rates: list[float] = []
    model = mlp(1, 1, 4)
    real_step = torch.optim.Adam.step

    def step(self: Any, *a: object, **k: object) -> object:
        rates.append(self.param_groups[0]["lr"])
        return real_step(self, *a, **k)

    x = np.linspace(0, 1, 32, dtype=np.float32)[:, None]
    monkeypatch.setattr(torch.optim.Adam, "step", step)
    cfg = Training(epochs=4, batch_size=32, learning_rate=0.1, patience=10, schedule="cosine")
    train(model, x, x, x, x, cfg, "regress", progress=False)
    want = [0.1 * (1 + np.cos(np.pi * e / 4)) / 2 for e in range(4)]  # one batch an epoch
    assert rates == pytest.approx(want)


def test_hard_negatives_are_running_speech_labelled_unknown_in_training_only() -> None:
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    from edgecraft.apps.data.kws import LABELS, SENTENCES, TRAIN_SENTENCES, generate

    args = {"voices": 3, "test_voices": 1, "takes": 1, "unknown_per_voice": 1, "silence_per_voice": 1,
            "fa_minutes": 0.05}
    plain, hard = generate(0, **args), generate(0, **args, speech_per_voice=3)
    unknown = LABELS.index("unknown")

    def count(d: Any) -> int:
        return int(sum((s.y == unknown).sum() for s in (d.train, d.val)))

    assert count(hard) == count(plain) + 3 * 3  # three cuts a training voice, all "unknown"
    assert len(hard.test.y) == len(plain.test.y)  # the test voices get none
    assert not set(TRAIN_SENTENCES) & set(SENTENCES)  # the false-accept recording's sentences stay unseen
