"""FULLY_CONNECTED layers whose units share one multiplier and shift (one table entry each,
``per_channel = 0``) beside a per-channel one, on the emulated cores against TFLM exactly: the
DSP kernels on qemu-m4 and the Helium ones on qemu-m55 (issue 14, point 6)."""

from __future__ import annotations

import shutil

import pytest

from codegen.cases import fc_tables_chain, random_inputs
from edgecraft.emulate import emulate
from edgecraft.formats import write_tflite
from edgecraft.reference import TflmRunner
from oracle import check_tensor

pytestmark = [
    pytest.mark.toolchain,
    pytest.mark.skipif(
        shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
        reason="needs gcc-arm-none-eabi and qemu-system-arm (scripts/setup.sh installs them)",
    ),
]


@pytest.mark.parametrize("target", ["qemu-m4", "qemu-m55"])
def test_per_tensor_fc_tables_exact_on_emulated_cores(target: str) -> None:
    graph = fc_tables_chain(seed=4)
    batches = random_inputs(graph, 6, seed=3)
    result = emulate(graph, target, batches, name="fct")
    tflm = TflmRunner(write_tflite(graph))
    for b in range(6):
        check_tensor(result.outputs[0][b], tflm.run([batches[0][b]])[0], f"{target} input {b}")
