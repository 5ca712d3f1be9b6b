"""quantize's per-layer report compares like with like for modules called more than once: each
call of a module with its own int8 tensor (a ReLU used twice in a ResNet block; every step's
gate products, cell state and hidden state of a step-by-step LSTM/GRU; the scores, weights and
weighted sum of attention), and the classifier that writes the graph output."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.torch, pytest.mark.slow]  # tests/conftest.py runs slow modules first
pytest.importorskip("torch", reason="needs the optimize extra (torch, litert-torch)")


def _report(model: Any, shape: tuple[int, ...]) -> dict[str, Any]:
    import torch

    from edgecraft.optimize import quantize

    x = torch.randn(40, *shape, generator=torch.Generator().manual_seed(1))
    qm = quantize(model.eval(), x[:32], holdout=x[32:], layer_samples=4)
    assert qm.report is not None
    return {e.layer: e for e in qm.report.layers}


def test_reused_relu_is_compared_call_by_call() -> None:
    """torchvision's BasicBlock calls ``self.relu`` after bn1 and after the residual add; the
    report used to compare the first int8 call with the float output of the last (error ~100%)."""
    import torch

    from edgecraft.models.torchvision_models import torchvision_models

    torchvision_models()
    from torchvision.models.resnet import BasicBlock

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), BasicBlock(8, 8),
                                torch.nn.Flatten(1), torch.nn.Linear(8 * 8 * 8, 4))
    got = _report(model, (3, 8, 8))
    assert {"1.relu", "1.conv2", "3"} <= set(got), got  # "3": the Linear writing the graph output
    for e in got.values():
        assert e.relative < 0.05, (e.layer, e.op, e.relative)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_recurrent_layers_are_reported_step_by_step(kind: str) -> None:
    import torch

    from edgecraft.models.zoo import LastStep

    torch.manual_seed(0)
    rnn = getattr(torch.nn, kind)(6, 12, num_layers=2, batch_first=True)
    got = _report(LastStep(rnn, 12, 4), (3, 6))
    gates = ("i", "f", "g", "o") if kind == "LSTM" else ("r", "z", "n")
    want = {f"rnn.cells.l{k}.{part}" for k in (0, 1) for part in
            ["hidden", *(f"x{g}" for g in gates), *(f"h{g}" for g in gates)]} | {"fc"}
    if kind == "LSTM":
        want |= {"rnn.cells.l0.cell", "rnn.cells.l1.cell"}
    assert want <= set(got), sorted(got)
    for e in got.values():  # random weights, 32 calibration inputs: a few percent, never ~100%
        assert e.relative < 0.3, (e.layer, e.op, e.relative)


def test_attention_parts_are_reported() -> None:
    import torch

    from edgecraft.models.zoo import EncoderClassifier

    torch.manual_seed(0)
    got = _report(EncoderClassifier(16, 2, 32, 4), (4, 16))
    parts = {f"encoder.self_attn.{p}" for p in ("q", "k", "v", "scores", "softmax", "context", "out_proj")}
    assert parts | {"encoder.norm1", "encoder.norm2", "fc"} <= set(got), sorted(got)
    for e in got.values():
        assert e.relative < 0.2, (e.layer, e.op, e.relative)
