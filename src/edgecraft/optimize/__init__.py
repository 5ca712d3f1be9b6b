"""The PyTorch side: PTQ and QAT to full-int8 .tflite through litert-torch's PT2E quantizer,
pruning, distillation, and the op-compatibility check before training.

Names resolve lazily so ``import edgecraft.optimize`` stays light; torch and litert-torch are
imported only when a function that needs them runs.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "quantize": "ptq", "QuantizedModel": "ptq", "QuantReport": "ptq",
    "evaluate": "ptq", "accuracy_int8": "ptq",
    "QuantizeError": "pt2e",
    "qat": "qat_training",
    "check": "compat", "CheckReport": "compat",
    "finish_int8": "finish", "float_ops": "finish",
    "magnitude_prune": "prune", "prune_channels": "prune", "polynomial_sparsity": "prune",
    "sparsity": "prune",
    "distill": "distillation", "distillation_loss": "distillation",
    "fit": "train", "accuracy": "train",
    "load_factory": "loader",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'edgecraft.optimize' has no attribute {name!r}")
    return getattr(importlib.import_module(f"edgecraft.optimize.{module}"), name)
