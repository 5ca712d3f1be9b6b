"""The training loop: Adam on mini-batches from a seeded generator, a progress bar, the best
validation loss kept, early stopping after ``patience`` epochs without improvement.

Same seed, same data -> same weights (torch's deterministic algorithms, one thread).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from edgecraft.apps.spec import Augmentation, Training

if TYPE_CHECKING:
    import torch


@dataclass
class History:
    """Per-epoch losses, the epoch whose weights were kept, and whether training stopped early."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "epochs": len(self.train_loss),
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
            "train_loss": [round(v, 6) for v in self.train_loss],
            "val_loss": [round(v, 6) for v in self.val_loss],
        }


def is_images(x: np.ndarray) -> bool:
    """Whether raw samples are pictures ``(N, H, W, 1 or 3)``."""
    return x.ndim == 4 and x.shape[-1] in (1, 3)


def augment(x: np.ndarray, y: np.ndarray, aug: Augmentation, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``x`` plus ``aug.copies`` altered copies of every raw sample (noise, time shift, gain;
    pictures get gain and noise, their shifts and flips happen per epoch in :func:`train`)."""
    if aug.copies == 0:
        return x, y
    rng = np.random.default_rng(seed + 1)
    xs, ys = [x], [y]
    images = is_images(x)
    for _ in range(aug.copies):
        c = x.astype(np.float64)
        if aug.gain:
            c = c * rng.uniform(1 - aug.gain, 1 + aug.gain, (len(c),) + (1,) * (c.ndim - 1))
        if aug.shift and not images:
            n = c.shape[1]
            shifts = rng.integers(-int(aug.shift * n), int(aug.shift * n) + 1, len(c))
            c = np.stack([np.roll(s, int(k), axis=0) for s, k in zip(c, shifts, strict=True)])
        if aug.noise:
            rms = np.sqrt(np.mean(c.reshape(len(c), -1) ** 2, 1)).reshape((len(c),) + (1,) * (c.ndim - 1))
            c = c + rng.normal(0, 1, c.shape) * aug.noise * rms
        if x.dtype == np.int16:
            c = np.clip(np.round(c), -32768, 32767)
        elif x.dtype == np.uint8:
            c = np.clip(np.round(c), 0, 255)
        xs.append(c.astype(x.dtype))
        ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


def jitter(xb: torch.Tensor, shift: float, flip: bool, gen: torch.Generator) -> torch.Tensor:
    """A batch of pictures ``(N, C, H, W)``, each moved by up to ``shift`` of its size in both
    directions (edge pixels repeated) and, with ``flip``, mirrored left-right half the time;
    the draws come from ``gen`` (same seed, same pictures)."""
    import torch
    import torch.nn.functional as F

    n, _, h, w = xb.shape
    if flip:
        mirror = torch.rand(n, generator=gen) < 0.5
        xb = torch.where(mirror[:, None, None, None], xb.flip(3), xb)
    dy, dx = int(shift * h), int(shift * w)
    if dy == 0 and dx == 0:
        return xb
    padded = F.pad(xb, (dx, dx, dy, dy), mode="replicate")
    oy = torch.randint(0, 2 * dy + 1, (n,), generator=gen).tolist()
    ox = torch.randint(0, 2 * dx + 1, (n,), generator=gen).tolist()
    return torch.stack([padded[i, :, a:a + h, b:b + w] for i, (a, b) in enumerate(zip(oy, ox, strict=True))])


def train(
    model: torch.nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    xv: np.ndarray,
    yv: np.ndarray,
    cfg: Training,
    task: str,
    progress: bool = True,
    on_epoch: Callable[[int, float, float], None] | None = None,
) -> History:
    """Train ``model`` in place (classification: cross-entropy on the logits; regression and
    autoencoders: mean squared error, the autoencoder's target being its input). The weights
    of the epoch with the lowest validation loss are restored at the end. ``on_epoch(epoch,
    train_loss, val_loss)`` is called after every epoch (a search reports to its scheduler)."""
    import torch
    import torch.nn.functional as F
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from edgecraft.optimize.train import batches, logits_of, seed_everything, torch_threads

    seed_everything(cfg.seed)
    net = logits_of(model)
    xt, xvt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(xv, dtype=torch.float32)
    if task == "classify":
        yt, yvt = torch.as_tensor(y, dtype=torch.long), torch.as_tensor(yv, dtype=torch.long)

        def loss_fn(out: torch.Tensor, _x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            return F.cross_entropy(out, target)
    else:
        yt = xt if task == "anomaly" else torch.as_tensor(y, dtype=torch.float32)
        yvt = xvt if task == "anomaly" else torch.as_tensor(yv, dtype=torch.float32)

        def loss_fn(out: torch.Tensor, _x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            return F.mse_loss(out, target.reshape(out.shape))

    opt = torch.optim.Adam(net.parameters(), lr=cfg.learning_rate)
    gen = torch.Generator().manual_seed(cfg.seed)
    aug = cfg.augmentation
    moves = task == "classify" and xt.ndim == 4 and (aug.shift > 0 or aug.flip)
    hist, best, best_state, waited = History(), np.inf, copy.deepcopy(net.state_dict()), 0
    columns = (
        TextColumn("training"),
        BarColumn(),
        TextColumn("epoch {task.completed}/{task.total}"),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
    )
    with torch_threads(1), Progress(*columns, transient=True, disable=not progress) as bar:
        task_id = bar.add_task("train", total=cfg.epochs, info="")
        for epoch in range(cfg.epochs):
            if cfg.schedule == "cosine":
                for g in opt.param_groups:
                    g["lr"] = cfg.learning_rate * 0.5 * (1 + np.cos(np.pi * epoch / cfg.epochs))
            net.train()
            total, count = 0.0, 0
            for xb, yb in batches(xt, yt, cfg.batch_size, gen):
                if moves:
                    xb = jitter(xb, aug.shift, aug.flip, gen)
                opt.zero_grad()
                loss = loss_fn(net(xb), xb, yb)
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(xb)
                count += len(xb)
            net.eval()
            with torch.no_grad():
                val = float(loss_fn(net(xvt), xvt, yvt))
            hist.train_loss.append(total / max(count, 1))
            hist.val_loss.append(val)
            if val < best - 1e-7:
                best, best_state, waited, hist.best_epoch = val, copy.deepcopy(net.state_dict()), 0, epoch + 1
            else:
                waited += 1
            bar.update(task_id, advance=1, info=f"loss {hist.train_loss[-1]:.4f} val {val:.4f}")
            if on_epoch is not None:
                on_epoch(epoch + 1, hist.train_loss[-1], val)
            if waited >= cfg.patience:
                hist.stopped_early = True
                break
    net.load_state_dict(best_state)
    model.eval()
    return hist
