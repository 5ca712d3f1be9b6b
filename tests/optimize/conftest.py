"""Shared, session-scoped torch fixtures: one tiny trained digits CNN and its int8 model, so the
seconds litert-torch spends per conversion are paid once."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def digits() -> Any:
    pytest.importorskip("torch")
    pytest.importorskip("litert_torch")
    from edgecraft.models.digits import load_digits

    return load_digits(size=8)


@pytest.fixture(scope="session")
def tiny_cnn(digits: Any) -> Any:
    """A width-4 CNN on 8x8 digits, trained for 3 epochs (about a second)."""
    from edgecraft.models.digits import digits_cnn
    from edgecraft.optimize.train import fit, seed_everything

    seed_everything(0)
    model = digits_cnn(width=4, size=8)
    return fit(model, digits.x_train, digits.y_train, epochs=3)


@pytest.fixture(scope="session")
def tiny_int8(tiny_cnn: Any, digits: Any) -> Any:
    from edgecraft.optimize import quantize

    return quantize(tiny_cnn, digits.x_train[:128], holdout=digits.x_val[:48], layer_samples=8)
