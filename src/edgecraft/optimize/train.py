"""A small, reproducible training loop shared by QAT, pruning and distillation.

Classifiers here may end in ``nn.Softmax`` (so the exported model outputs probabilities and the
int8 SOFTMAX is part of the deployed graph); training always works on the logits in front of it
(:func:`logits_of`). Every loop draws its batches from a seeded generator: same seed, same model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

#: loss(outputs, inputs, labels) -> scalar tensor; outputs are logits.
LossFn = Callable[[Any, Any, Any], Any]


def seed_everything(seed: int) -> None:
    """Seed torch and numpy; deterministic kernels where torch has them."""
    import torch

    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch threads (None: leave as is). Small models train fastest on
    one thread; on a loaded 2-core machine two threads were 15x slower than one."""
    import torch

    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def logits_of(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` without a trailing ``nn.Softmax`` (shares the parameters)."""
    from torch import nn

    if isinstance(model, nn.Sequential) and len(model) and isinstance(model[-1], nn.Softmax):
        return model[:-1]
    return model


def batches(x: torch.Tensor, y: torch.Tensor, batch_size: int,
            gen: torch.Generator) -> Iterator[tuple[Any, Any]]:
    """Shuffled mini-batches of ``(x, y)`` drawn with ``gen``."""
    import torch

    order = torch.randperm(len(x), generator=gen)
    for i in range(0, len(x), batch_size):
        idx = order[i : i + batch_size]
        yield x[idx], y[idx]


def fit(model: torch.nn.Module, x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, epochs: int,
        lr: float = 1e-2, batch_size: int = 64, seed: int = 0, loss: LossFn | None = None,
        after_step: Callable[[int], None] | None = None, weight_decay: float = 0.0,
        threads: int | None = 1) -> torch.nn.Module:
    """Train ``model``'s logits with Adam for ``epochs``; returns the model (in eval mode).

    ``loss`` defaults to cross-entropy on the labels; ``after_step(step)`` runs after every
    optimizer step (pruning masks, schedules). ``threads``: torch threads while training.
    """
    import torch
    import torch.nn.functional as F

    from edgecraft.optimize.pt2e import as_tensor

    net = logits_of(model)
    xt, yt = as_tensor(x), torch.as_tensor(np.asarray(y), dtype=torch.long)
    loss_fn = loss or (lambda out, _x, labels: F.cross_entropy(out, labels))
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=lr,
                           weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    step = 0
    net.train()
    with torch_threads(threads):
        for _ in range(epochs):
            for xb, yb in batches(xt, yt, batch_size, gen):
                opt.zero_grad()
                loss_fn(net(xb), xb, yb).backward()
                opt.step()
                step += 1
                if after_step is not None:
                    after_step(step)
    return model.eval()


def predict(model: torch.nn.Module, x: np.ndarray | torch.Tensor) -> np.ndarray:
    """Outputs of ``model`` (eval mode, no grad) as a numpy array."""
    import torch

    from edgecraft.optimize.pt2e import as_tensor

    with torch.no_grad():
        out: np.ndarray = model.eval()(as_tensor(x)).numpy()
    return out


def accuracy(model: torch.nn.Module, x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor) -> float:
    """Top-1 accuracy of the float model."""
    return float(np.mean(np.argmax(predict(model, x), 1) == np.asarray(y)))


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Optimizer steps :func:`fit` takes per epoch on ``n`` samples."""
    return -(-n // batch_size)
