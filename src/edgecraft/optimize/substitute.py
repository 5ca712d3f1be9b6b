"""Swap modules whose converted form would stay float for equivalents PT2E quantizes fully.

:func:`substitute` returns a copy of the model in which every ``nn.LSTM`` and ``nn.GRU``
(and ``nn.RNN``) becomes its step-by-step form (:mod:`edgecraft.optimize.recurrent`), and every
``nn.TransformerEncoderLayer``, ``nn.MultiheadAttention``, ``nn.LayerNorm`` and ``nn.SiLU`` its
form from quantizable parts (:mod:`edgecraft.optimize.attention`). The copy computes the same
function in float; module paths are kept, so reports still name the user's layers. Modules with
an option that has no int8 form are left as they are (``check`` then says why).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


def _replacement(module: torch.nn.Module) -> torch.nn.Module | None:
    from torch import nn

    from edgecraft.optimize import attention, recurrent

    swaps: list[tuple[type[nn.Module], Any]] = [
        (nn.LSTM, recurrent.StepLSTM), (nn.GRU, recurrent.StepGRU), (nn.RNN, recurrent.StepRNN),
        (nn.SiLU, attention.StepSiLU),
        (nn.TransformerEncoderLayer, attention.StepEncoderLayer),
        (nn.MultiheadAttention, attention.StepAttention), (nn.LayerNorm, attention.StepLayerNorm)]
    for cls, step in swaps:
        if type(module) is cls:
            try:
                new: torch.nn.Module = step(module)
            except (recurrent.UnsupportedRecurrence, attention.UnsupportedAttention):
                return None
            return new
    return None


def substitute(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``model`` (or ``model`` itself when nothing is swapped) with the modules above
    replaced; the copy is in the same train/eval mode."""
    targets: list[tuple[str, torch.nn.Module]] = []
    skip: list[str] = []  # a swapped module's children go with it; a step module's stay as they are
    for path, m in model.named_modules():  # parents first
        if not path or any(path.startswith(t + ".") for t in skip):
            continue
        if getattr(m, "STEP", False):
            skip.append(path)
        elif (new := _replacement(m)) is not None:
            new.train(m.training)
            targets.append((path, new))
            skip.append(path)
    if not targets:
        return model
    out = copy.deepcopy(model)
    for path, new in targets:
        parent_path, _, name = path.rpartition(".")
        parent = out.get_submodule(parent_path) if parent_path else out
        parent._modules[name] = new
    return out
