"""Quantization-aware training through the same PT2E quantizer as post-training quantization.

``qat(model, x, y, epochs)`` folds BatchNorm into the convolutions, exports the model in
training mode, inserts fake quantization with litert-torch's quantizer (``prepare_qat_pt2e``,
QAT config), fine-tunes for ``epochs`` with the given loss, freezes the observers, converts and
finishes the model exactly as :func:`edgecraft.optimize.quantize` does. The fine-tuning sees
the int8 rounding of weights and activations, so it can move weights to where rounding hurts
less; that is what recovers accuracy PTQ lost.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np

from edgecraft.optimize import pt2e
from edgecraft.optimize.ptq import QuantizedModel, evaluate, to_int8
from edgecraft.optimize.train import LossFn, batches, torch_threads

if TYPE_CHECKING:
    import torch


def _ends_in_softmax(model: torch.nn.Module) -> bool:
    from torch import nn

    return isinstance(model, nn.Sequential) and len(model) > 0 and isinstance(model[-1], nn.Softmax)


def qat(model: torch.nn.Module, x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, epochs: int,
        lr: float = 1e-3, batch_size: int = 64, seed: int = 0, loss: LossFn | None = None,
        channels_last: bool = False, holdout: np.ndarray | torch.Tensor | None = None,
        threads: int | None = 1) -> QuantizedModel:
    """Fine-tune a copy of ``model`` with fake int8 quantization for ``epochs``; return the
    full-int8 model (with a report against the float ``model`` when ``holdout`` is given).

    ``loss(outputs, inputs, labels)`` defaults to cross-entropy; a model ending in
    ``nn.Softmax`` outputs probabilities, so the default then takes their log (NLL).
    """
    import torch
    import torch.nn.functional as F

    float_model = model.eval()
    work = pt2e.fold_batchnorm(copy.deepcopy(model).eval())
    xt, yt = pt2e.as_tensor(x), torch.as_tensor(np.asarray(y), dtype=torch.long)
    probs = _ends_in_softmax(work)
    if loss is None:
        def loss(out: torch.Tensor, _x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
            if probs:
                return F.nll_loss(torch.log(out.clamp_min(1e-8)), labels)
            return F.cross_entropy(out, labels)

    torch.manual_seed(seed)
    if channels_last:
        work, xt = pt2e.channels_last(work, xt)
    prepared = pt2e.prepare_qat(work, xt[:2])
    pt2e.train_mode(prepared)
    opt = torch.optim.Adam(prepared.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    with torch_threads(threads):
        for _ in range(epochs):
            for xb, yb in batches(xt, yt, batch_size, gen):
                opt.zero_grad()
                loss(prepared(xb), xb, yb).backward()
                opt.step()
    qm = to_int8(pt2e.finish_qat(prepared), xt[:1], channels_last)
    if holdout is not None:
        qm.report = evaluate(qm, float_model, holdout)
    return qm
