"""The demo's first step in one call: train the small digits CNN and quantize it to full int8.

    from edgecraft.optimize.demo import digits_int8
    result = digits_int8("digits_int8.tflite")   # about 10-30 s on 2 cores
    result.int8.graph                            # the IR, ready for profile/build/emulate
    result.samples                               # int8 inputs (validation images) to run it on
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.optimize.ptq import QuantizedModel, accuracy_int8, quantize
from edgecraft.optimize.train import accuracy, fit, seed_everything


@dataclass
class DemoResult:
    """The trained float ``model``, its full-int8 ``int8`` model and how both did."""

    model: Any
    int8: QuantizedModel
    float_accuracy: float
    int8_accuracy: float
    samples: list[np.ndarray]  # a few validation images as int8 model inputs
    labels: list[int]


def digits_int8(out: str | Path | None = None, epochs: int = 8, width: int = 8, size: int = 16,
                seed: int = 0, n_samples: int = 8) -> DemoResult:
    """Train :func:`~edgecraft.models.digits.digits_cnn` on the bundled digits for ``epochs``,
    quantize it (PTQ, full int8, report included) and write it to ``out`` when given."""
    from edgecraft.models.digits import digits_cnn, load_digits

    seed_everything(seed)
    d = load_digits(size, seed=seed)
    model = fit(digits_cnn(width=width, size=size), d.x_train, d.y_train, epochs=epochs, seed=seed)
    qm = quantize(model, d.x_train[:256], holdout=d.x_val[:64])
    if out is not None:
        qm.save(out)
    return DemoResult(model, qm, accuracy(model, d.x_val, d.y_val), accuracy_int8(qm, d.x_val, d.y_val),
                      [qm.input_int8(s) for s in d.x_val[:n_samples]], [int(v) for v in d.y_val[:n_samples]])
