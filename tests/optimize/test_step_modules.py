"""The module swaps compute the same function as the modules they replace, in float: every
nn.LSTM/GRU/RNN option the step forms take (layers, bidirectional, batch-first or not, an
initial state), attention, LayerNorm and a Transformer encoder layer. Pure PyTorch, no
conversion: a fraction of a second."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.torch
pytest.importorskip("torch", reason="needs the optimize extra (torch, litert-torch)")


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("layers,bidirectional,batch_first,state", [
    (1, False, True, False), (2, True, False, False), (2, False, True, True)])
def test_recurrent_swaps_equal_the_modules(kind: str, layers: int, bidirectional: bool,
                                           batch_first: bool, state: bool) -> None:
    import torch

    from edgecraft.optimize.substitute import substitute

    torch.manual_seed(0)
    rnn = getattr(torch.nn, kind)(5, 7, num_layers=layers, bidirectional=bidirectional,
                                  batch_first=batch_first).eval()
    step = substitute(torch.nn.Sequential(rnn))[0]
    assert type(step).__name__ == f"Step{kind}"
    x = torch.randn(3, 4, 5)
    h0 = torch.randn(layers * (1 + bidirectional), 3 if batch_first else 4, 7) if state else None
    hx = (h0, torch.randn_like(h0)) if state and kind == "LSTM" else h0
    with torch.no_grad():
        want, got = rnn(x, hx), step(x, hx)
    torch.testing.assert_close(got[0], want[0], rtol=0, atol=1e-5)
    torch.testing.assert_close(got[1], want[1], rtol=0, atol=1e-5)


def test_attention_swaps_equal_the_modules() -> None:
    import torch

    from edgecraft.optimize.substitute import substitute

    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True).eval()
    norm_first = torch.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True,
                                                  norm_first=True).eval()
    mha = torch.nn.MultiheadAttention(16, 2).eval()  # sequence first
    x = torch.randn(2, 5, 16)
    with torch.no_grad():
        for module in (layer, norm_first):
            torch.testing.assert_close(substitute(torch.nn.Sequential(module))(x), module(x),
                                       rtol=0, atol=1e-5)
        s = x.transpose(0, 1)
        want, got = mha(s, s, s), substitute(torch.nn.Sequential(mha))[0](s, s, s)
        torch.testing.assert_close(got[0], want[0], rtol=0, atol=1e-5)
        torch.testing.assert_close(got[1], want[1], rtol=0, atol=1e-5)


def test_step_modules_have_docstrings() -> None:
    """Public API: each swap says what it replaces (a class attribute before the text used to
    leave ``__doc__`` empty)."""
    from edgecraft.optimize import attention, recurrent

    classes = [recurrent.StepLSTM, recurrent.StepGRU, recurrent.StepRNN, attention.StepAttention,
               attention.StepLayerNorm, attention.StepEncoderLayer, attention.StepSiLU]
    assert all(cls.__doc__ and "drop-in" in cls.__doc__ for cls in classes)
