"""Knowledge distillation: a small student learns from a larger teacher's softened outputs.

The loss (Hinton et al., 2015) mixes the KL divergence between teacher and student class
distributions at temperature ``T`` (scaled by ``T**2`` so its gradients keep their size as ``T``
changes) with the ordinary cross-entropy on the hard labels:

    loss = alpha * T**2 * KL(softmax(t / T) || softmax(s / T)) + (1 - alpha) * CE(s, y)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from edgecraft.optimize.train import fit, logits_of

if TYPE_CHECKING:
    import torch


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                      temperature: float = 4.0, alpha: float = 0.7) -> torch.Tensor:
    """Temperature-scaled KL to the teacher plus hard-label cross-entropy (see module doc)."""
    import torch.nn.functional as F

    t = temperature
    soft = F.kl_div(F.log_softmax(student_logits / t, dim=-1), F.log_softmax(teacher_logits / t, dim=-1),
                    reduction="batchmean", log_target=True)
    hard = F.cross_entropy(student_logits, labels)
    result: torch.Tensor = alpha * t * t * soft + (1.0 - alpha) * hard
    return result


def distill(student: torch.nn.Module, teacher: torch.nn.Module, x: np.ndarray | torch.Tensor,
            y: np.ndarray | torch.Tensor, epochs: int, temperature: float = 4.0, alpha: float = 0.7,
            lr: float = 1e-2, batch_size: int = 64, seed: int = 0) -> torch.nn.Module:
    """Train ``student`` on ``(x, y)`` against the frozen ``teacher``; returns the student."""
    import torch

    teacher_logits = logits_of(teacher).eval()

    def loss(out: torch.Tensor, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target = teacher_logits(xb)
        return distillation_loss(out, target, yb, temperature, alpha)

    return fit(student, x, y, epochs, lr=lr, batch_size=batch_size, seed=seed, loss=loss)
