"""QAT, pruning and distillation on tiny digits models (seconds each)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from optimize_support import int8_inputs

from edgecraft.optimize.prune import polynomial_sparsity
from oracle import check_tflm

pytestmark = pytest.mark.torch
pytest.importorskip("torch", reason="needs the optimize extra (torch, litert-torch)")


def test_polynomial_schedule() -> None:
    assert polynomial_sparsity(0, 100, 0.8) == 0.0
    assert polynomial_sparsity(100, 100, 0.8) == pytest.approx(0.8)
    assert polynomial_sparsity(500, 100, 0.8) == pytest.approx(0.8)
    assert polynomial_sparsity(50, 100, 0.8) == pytest.approx(0.8 * (1 - 0.5**3))
    steps = [polynomial_sparsity(t, 100, 0.75) for t in range(0, 101, 10)]
    assert steps == sorted(steps)  # never decreases


def test_qat_gives_full_int8_bit_exact(tiny_cnn: Any, digits: Any) -> None:
    from edgecraft.optimize import accuracy_int8, float_ops, qat

    before = [p.detach().clone() for p in tiny_cnn.parameters()]
    qm = qat(tiny_cnn, digits.x_train[:256], digits.y_train[:256], epochs=1, holdout=digits.x_val[:16])
    assert all(np.array_equal(a, b.detach()) for a, b in zip(before, tiny_cnn.parameters(), strict=True))
    assert not float_ops(qm.graph)
    assert [op.type for op in qm.graph.operators][-1] == "SOFTMAX"
    assert "BATCH_NORM" not in {op.type for op in qm.graph.operators}
    assert qm.report is not None and qm.report.agreement >= 0.8
    for inputs in int8_inputs(qm, digits.x_val[:3]):
        check_tflm(qm.graph, inputs, "qat")
    assert accuracy_int8(qm, digits.x_val, digits.y_val) > 0.7


def test_magnitude_pruning_reaches_target(tiny_cnn: Any, digits: Any) -> None:
    from edgecraft.optimize import accuracy, magnitude_prune, sparsity

    model = magnitude_prune(copy.deepcopy(tiny_cnn), digits.x_train, digits.y_train, 0.5, epochs=1)
    assert sparsity(model) == pytest.approx(0.5, abs=0.01)
    assert accuracy(model, digits.x_val, digits.y_val) > 0.7


def test_structured_pruning_removes_channels(tiny_cnn: Any, tiny_int8: Any, digits: Any) -> None:
    from torch import nn

    from edgecraft.optimize import fit, prune_channels, quantize
    from edgecraft.targets import profile

    small = prune_channels(tiny_cnn, 0.5)
    convs = [m for m in small if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [2, 4]
    assert isinstance(small[-1], nn.Softmax)
    assert small(_zeros()).shape == (1, 10)
    fit(small, digits.x_train, digits.y_train, epochs=1)
    qm = quantize(small, digits.x_train[:64], report=False)
    for inputs in int8_inputs(qm, digits.x_val[:2]):
        check_tflm(qm.graph, inputs, "structured")
    big, little = profile(tiny_int8.graph, "nano33ble"), profile(qm.graph, "nano33ble")
    assert little["macs"] < big["macs"] and little["flash_bytes"] < big["flash_bytes"]
    assert len(qm.tflite) < len(tiny_int8.tflite)


def _zeros() -> Any:
    import torch

    return torch.zeros(1, 1, 8, 8)


def test_distillation_loss_by_hand() -> None:
    import torch
    import torch.nn.functional as F

    from edgecraft.optimize import distillation_loss

    s = torch.tensor([[2.0, 0.0, -1.0]])
    t = torch.tensor([[1.0, 1.0, 0.0]])
    y = torch.tensor([0])
    ps, pt = F.softmax(s / 2, -1), F.softmax(t / 2, -1)
    kl = float((pt * (pt.log() - ps.log())).sum())
    ce = float(F.cross_entropy(s, y))
    got = float(distillation_loss(s, t, y, temperature=2.0, alpha=0.25))
    assert got == pytest.approx(0.25 * 4 * kl + 0.75 * ce, rel=1e-5)
    assert float(distillation_loss(s, t, y, alpha=0.0)) == pytest.approx(ce, rel=1e-6)


def test_distilled_student_learns(tiny_cnn: Any, digits: Any) -> None:
    from edgecraft.models.digits import digits_mlp
    from edgecraft.optimize import accuracy, distill
    from edgecraft.optimize.train import seed_everything

    seed_everything(0)  # the student's start, not whatever the tests before left in torch's RNG
    student = distill(digits_mlp(hidden=16, size=8), tiny_cnn, digits.x_train, digits.y_train, epochs=2)
    assert accuracy(student, digits.x_val, digits.y_val) > 0.7
