"""Helpers the optimize tests import by name (conftest.py holds only fixtures)."""

from __future__ import annotations

from typing import Any

import numpy as np


def int8_inputs(qm: Any, x: np.ndarray) -> list[list[np.ndarray]]:
    """Each float sample as the model's int8 input list."""
    return [[qm.input_int8(s)] for s in x]
