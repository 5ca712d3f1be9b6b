"""Corrupt .onnx files end in one ModelFormatError (the CLI's one error line), never another
exception: random byte flips in an exported model, read and then prepared to run."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgecraft.formats import ModelFormatError, read_model
from edgecraft.formats.onnx_write import to_onnx
from edgecraft.models.synthetic import small_cnn
from edgecraft.ops.base import OpError
from edgecraft.runtime import Interpreter


def test_mutated_models_fail_cleanly(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    data = to_onnx(small_cnn()).SerializeToString()
    outcomes = {"read": 0, "refused": 0}
    for i in range(80):
        mutated = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            mutated[int(rng.integers(0, len(mutated)))] = int(rng.integers(0, 256))
        path = tmp_path / f"m{i}.onnx"
        path.write_bytes(bytes(mutated))
        try:
            Interpreter(read_model(path))
            outcomes["read"] += 1
        except (ModelFormatError, OpError) as e:
            assert "\n" not in str(e).strip()
            outcomes["refused"] += 1
    assert outcomes["refused"] > 10 and outcomes["read"] > 0, outcomes
