"""The PyTorch side of quantization: litert-torch's PT2E quantizer and converter, nothing else.

The route (measured in ../shared/TOOLCHAIN.md): ``torch.export`` the model, annotate it with
litert-torch's ``PT2EQuantizer`` (symmetric int8, per-channel weights), calibrate (PTQ) or
fine-tune with fake quantization (QAT), ``convert_pt2e`` and hand the result to
``litert_torch.convert`` with the same quantizer, which gives int8 input, int8 per-channel
weights and int32 bias. What the converter leaves in float is finished in the IR by
:mod:`edgecraft.optimize.finish`.

torch and litert-torch are imported inside the functions: importing edgecraft stays light.
"""

from __future__ import annotations

import itertools
import logging
import os
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from edgecraft.optimize.capture import captured
from edgecraft.optimize.decompose import decompose_functional

if TYPE_CHECKING:
    import torch


class QuantizeError(ValueError):
    """The model cannot be quantized as asked; the message says why and what to do."""


def _quiet() -> None:
    # torchao and torch log harmless notes on import (missing CUDA kernels, enum registration);
    # they would break the CLI's one-line error contract on stderr
    for name in ("torchao", "torch.utils._pytree"):
        logging.getLogger(name).setLevel(logging.ERROR)
    os.environ.setdefault("LITERT_TORCH_SHOW_PROGRESS", "n")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", module="torchao")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)


def require_torch() -> None:
    """Raise :class:`QuantizeError` saying how to install torch and litert-torch when missing."""
    import importlib.util

    missing = [m for m in ("torch", "litert_torch") if importlib.util.find_spec(m) is None]
    if missing:
        raise QuantizeError(f"{' and '.join(missing)} not installed: this needs the optimize extra "
                            "(pip install -e '.[optimize]' -c constraints.txt)")


def quantizer(qat: bool = False) -> Any:
    """litert-torch's PT2E quantizer: symmetric int8, per-channel weights, static activations.

    For QAT the conv+BatchNorm pattern annotators are switched off: in litert-torch 0.10 with
    torch 2.13 they fail (they hand a plain function to ``torch.export``). QAT models therefore
    get their BatchNorm folded into the convolution first (:func:`fold_batchnorm`).
    """
    _quiet()
    from litert_torch.quantize.pt2e_quantizer import (
        PT2EQuantizer,
        get_symmetric_quantization_config,
    )

    from edgecraft.optimize.annotate import (
        annotate_rest,
        fold_select_of_stack,
        scalars_to_constants,
        split_to_slices,
    )

    class _Quantizer(PT2EQuantizer):  # type: ignore[misc, valid-type]
        STATIC_QAT_ONLY_OPS: list[str] = []  # noqa: RUF012 - overrides the class attribute

        def transform_for_annotation(self, model: Any) -> Any:
            scalars_to_constants(model)
            split_to_slices(model)
            fold_select_of_stack(model)
            return super().transform_for_annotation(model)

        def annotate(self, model: Any) -> Any:
            model = super().annotate(model)
            if self.global_config is not None:
                annotate_rest(model, self.global_config)
            return model

    config = get_symmetric_quantization_config(is_per_channel=True, is_qat=qat)
    return _Quantizer().set_global(config)


def as_tensor(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    """A float32 torch tensor from an array or tensor."""
    import torch

    return x.float() if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x, np.float32))


def export(model: torch.nn.Module, example: torch.Tensor, dynamic_batch: bool = False) -> Any:
    """``torch.export`` the model (eval mode unless ``dynamic_batch`` training is meant), with
    LSTM, GRU, attention and LayerNorm swapped for forms PT2E quantizes fully
    (:func:`edgecraft.optimize.substitute.substitute`) and the functional calls of the same
    kind written out (:func:`edgecraft.optimize.decompose.decompose_functional`)."""
    import torch

    from edgecraft.optimize.substitute import substitute

    model = substitute(model)

    try:
        shapes = ({0: torch.export.Dim("batch", min=1, max=4096)},) if dynamic_batch else None
        exported = torch.export.export(model, (example,), dynamic_shapes=shapes).module()
    except Exception as e:
        raise QuantizeError(
            f"torch.export could not trace the model ({type(e).__name__}: {str(e).splitlines()[0]}); "
            "make forward() free of data-dependent Python control flow"
        ) from None
    decompose_functional(exported)  # F.layer_norm, F.silu, F.scaled_dot_product_attention
    mark_sources(exported)
    return exported


def _source_functions() -> dict[Any, Any]:
    import operator

    import torch

    aten = torch.ops.aten
    return {aten.add.Tensor: operator.add, aten.add_.Tensor: operator.iadd,
            aten.mul.Tensor: operator.mul, aten.mul_.Tensor: operator.imul,
            aten.cat.default: torch.cat, aten.relu.default: torch.nn.ReLU,
            aten.relu_.default: torch.nn.ReLU}


def mark_sources(exported: Any) -> int:
    """Give residual adds, products, concatenations and ReLUs the ``source_fn_stack`` that
    strict export would record; returns how many nodes were marked.

    The model is exported non-strict (no TorchDynamo: more models trace), which records no
    source functions; litert-torch's add/mul/cat annotators (and the add+ReLU fusion) find their
    nodes through them only, so without this every ``x + y`` stayed float between a
    DEQUANTIZE and a QUANTIZE. Each such node is one aten call, so one node is one partition,
    exactly as strict export makes it."""
    table = _source_functions()
    marked = 0
    for node in exported.graph.nodes:
        fn = table.get(node.target) if node.op == "call_function" else None
        if fn is not None and not node.meta.get("source_fn_stack"):
            node.meta["source_fn_stack"] = [(node.name, fn)]
            marked += 1
    return marked


def _two(x: torch.Tensor) -> torch.Tensor:
    # torch.export specializes a batch of 1; trace with 2 so the batch stays dynamic
    return x[:2] if x.shape[0] >= 2 else x[:1].repeat(2, *([1] * (x.dim() - 1)))


def calibrate_ptq(model: torch.nn.Module, calibration: torch.Tensor, batch_size: int = 32) -> Any:
    """Export, annotate, observe ``calibration`` (N, ...) in batches, convert; returns the
    PT2E-converted module (quantize/dequantize nodes around float ops)."""
    _quiet()
    import torch
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    model = model.eval()
    with captured():
        q = quantizer()
        prepared = prepare_pt2e(export(model, _two(calibration), dynamic_batch=True), q)
        with torch.no_grad():
            for i in range(0, len(calibration), batch_size):
                prepared(calibration[i : i + batch_size])
        converted = convert_pt2e(prepared, fold_quantize=False)
    converted.training = False
    return converted


def prepare_qat(model: torch.nn.Module, example: torch.Tensor) -> Any:
    """Export ``model`` in training mode with a dynamic batch and insert fake quantization."""
    _quiet()
    from torchao.quantization.pt2e.quantize_pt2e import prepare_qat_pt2e

    with captured():
        return prepare_qat_pt2e(export(model.train(), _two(example), dynamic_batch=True), quantizer(qat=True))


def finish_qat(prepared: Any) -> Any:
    """Switch a QAT-prepared module to eval (observers frozen) and convert it."""
    _quiet()
    from torchao.quantization.pt2e import move_exported_model_to_eval
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e

    with captured():
        move_exported_model_to_eval(prepared)
        converted = convert_pt2e(prepared, fold_quantize=False)
    converted.training = False
    return converted


def to_tflite(converted: Any, example: torch.Tensor) -> bytes:
    """Convert a PT2E-converted module to .tflite bytes (int8 I/O where the graph allows);
    ``example`` is one input (batch 1) in the module's own layout."""
    _quiet()
    try:
        with captured():
            import litert_torch
            from litert_torch.quantize.quant_config import QuantConfig

            config = QuantConfig(pt2e_quantizer=quantizer())
            result = litert_torch.convert(converted, (example,), quant_config=config)
    except Exception as e:  # converter errors come in many types
        raise QuantizeError(
            f"litert-torch could not convert the model ({type(e).__name__}: {str(e).splitlines()[0]}); "
            "run `edgecraft check` on it to see which layers are the problem"
        ) from None
    return bytes(result.model_content())


def channels_last(model: torch.nn.Module, x: torch.Tensor) -> tuple[torch.nn.Module, torch.Tensor]:
    """``model`` wrapped to take channels-last input (N, H, W, C) and ``x`` (N, C, H, W)
    permuted to match: what ``litert_torch.to_channel_last_io`` does, with a plain
    ``forward(x)`` so the batch dimension can stay dynamic during export. Wrapping before
    export keeps the layer names in the converted model, which the per-layer report uses."""
    from torch import nn

    if x.dim() < 3:
        raise QuantizeError(f"channels-last needs a rank >= 3 input, got shape {list(x.shape)}")
    rank = x.dim()

    class ChannelsLast(nn.Module):
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self.model = inner

        def forward(self, t: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.model(t.permute(0, rank - 1, *range(1, rank - 1)))
            return out

    return ChannelsLast(model), x.permute(0, *range(2, rank), 1).contiguous()


def train_mode(prepared: Any) -> None:
    """Put a QAT-prepared (exported) module in training mode."""
    _quiet()
    from torchao.quantization.pt2e import move_exported_model_to_train

    move_exported_model_to_train(prepared)


def fold_batchnorm(model: torch.nn.Module) -> torch.nn.Module:
    """Fold every BatchNorm2d that follows a Conv2d inside an ``nn.Sequential`` into the
    convolution (eval statistics); returns the model, changed in place."""
    from torch import nn
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for module in list(model.modules()):
        if not isinstance(module, nn.Sequential):
            continue
        names = list(module._modules)
        for a, b in itertools.pairwise(names):
            conv, bn = module._modules[a], module._modules[b]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                module._modules[a] = fuse_conv_bn_eval(conv.eval(), bn.eval())
                module._modules[b] = nn.Identity()
    left = [n for n, m in model.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if left:
        raise QuantizeError(
            f"QAT needs BatchNorm folded, but {', '.join(left)} does not directly follow a Conv2d "
            "in an nn.Sequential; fold it by hand (torch.nn.utils.fusion.fuse_conv_bn_eval)"
        )
    return model

