"""F.layer_norm, F.silu and F.scaled_dot_product_attention written as functional calls (not the
modules edgecraft swaps) become int8 ops: the exported graph writes them out before the
quantizer sees it (optimize/decompose.py). A masked attention call stays float and ``check``
names its line, the reason and a fix in PyTorch terms."""

from __future__ import annotations

from typing import Any

import pytest

from oracle import check_tflm

pytestmark = pytest.mark.torch
pytest.importorskip("torch", reason="needs the optimize extra (torch, litert-torch)")


def _block(masked: bool = False) -> Any:
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Block(nn.Module):
        """Pre-norm attention written with functional calls only."""

        def __init__(self, d: int = 16, heads: int = 2) -> None:
            super().__init__()
            self.qkv = nn.Linear(d, 3 * d)
            self.w = nn.Parameter(torch.rand(d) + 0.5)
            self.b = nn.Parameter(torch.randn(d) * 0.1)
            self.heads = heads
            self.out = nn.Linear(d, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            n, t, d = x.shape
            y = F.layer_norm(x, (d,), self.w, self.b)
            q, k, v = self.qkv(y).reshape(n, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(q, k, v, is_causal=masked)
            out: torch.Tensor = self.out(F.silu(a.transpose(1, 2).reshape(n, t, d) + x).mean(1))
            return out

    torch.manual_seed(0)
    return Block().eval()


def test_decomposition_is_the_same_function() -> None:
    import torch

    from edgecraft.optimize.decompose import decompose_functional

    model, x = _block(), torch.randn(2, 6, 16, generator=torch.Generator().manual_seed(1))
    exported = torch.export.export(model, (x,)).module()
    want = exported(x)
    assert decompose_functional(exported) == 3
    targets = {str(n.target) for n in exported.graph.nodes}
    assert not {"aten.layer_norm.default", "aten.silu.default",
                "aten.scaled_dot_product_attention.default"} & targets, targets
    torch.testing.assert_close(exported(x), want, rtol=0, atol=1e-6)


def test_functional_calls_become_int8_and_tflm_exact() -> None:
    import torch

    from edgecraft.optimize import float_ops, quantize

    x = torch.randn(20, 6, 16, generator=torch.Generator().manual_seed(1))
    qm = quantize(_block(), x[:16], holdout=x[16:], layer_samples=2)
    types = [op.type for op in qm.graph.operators]
    assert not float_ops(qm.graph) and "QUANTIZE" not in types and "DEQUANTIZE" not in types, types
    assert {"RSQRT", "MEAN", "BATCH_MATMUL", "SOFTMAX", "LOGISTIC", "MUL"} <= set(types), types
    for s in x[16:18].numpy():
        check_tflm(qm.graph, [qm.input_int8(s)], "functional block")
    assert qm.report is not None and qm.report.max_abs_error < 0.1


def test_masked_functional_attention_is_named_with_a_fix() -> None:
    import torch

    from edgecraft.optimize import check

    report = check(_block(masked=True), torch.zeros(1, 6, 16))
    assert not report.ok
    found = [i for i in report.issues if not i.fixable]
    assert len(found) == 1, report.issues  # one issue: the call, not the int8 layer norm beside it
    issue = found[0]
    assert issue.source.endswith("F.scaled_dot_product_attention(q, k, v, is_causal=masked)"), issue
    assert issue.layer == "" and issue.module == "Block"  # the model's own forward
    assert "mask" in issue.problem and "without a mask" in issue.suggestion
    assert "BATCH_MATMUL" in issue.op
    assert all("layer_norm" not in i.source for i in report.issues), report.issues


def test_inplace_silu_stays_float_and_is_named() -> None:
    """F.silu(x, inplace=True) is not written out (other readers of x would see the old value):
    check names the call's line, why, and the PyTorch fix."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class InPlace(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(8, 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.silu(self.fc(x), inplace=True)

    from edgecraft.optimize import check

    report = check(InPlace().eval(), torch.zeros(1, 8))
    assert not report.ok and len(report.issues) == 1, report.issues
    issue = report.issues[0]
    assert issue.source.endswith("return F.silu(self.fc(x), inplace=True)") and not issue.fixable
    assert "inplace" in issue.problem and issue.suggestion.startswith("drop inplace=True")
