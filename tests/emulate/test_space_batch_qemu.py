"""SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND's C (int8, padded and cropped) on QEMU's Cortex-M4,
equal to the runtime (and so to LiteRT and TFLM, per the ops tests)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from edgecraft.emulate import emulate
from edgecraft.runtime import run_model
from oracle import check_tensor
from remaining_cases import space_batch, values

pytestmark = [
    pytest.mark.toolchain,
    pytest.mark.skipif(
        shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
        reason="needs gcc-arm-none-eabi and qemu-system-arm (scripts/setup.sh installs them)",
    ),
]


def test_space_batch_on_m4() -> None:
    rng = np.random.default_rng(73)
    for graph in space_batch(rng, "int8", four=True, pad=True):
        xs = np.stack([values(rng, graph.input_tensors()[0].shape, "int8") for _ in range(2)])
        r = emulate(graph, "qemu-m4", [xs], name="sb")
        for b in range(2):
            check_tensor(r.outputs[0][b], run_model(graph, [xs[b]])[0], f"{graph.operators[0].type} {b}")
