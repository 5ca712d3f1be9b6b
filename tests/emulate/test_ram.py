"""Honest RAM on the emulator: the DSP kernels keep their buffers in planned arena scratch, not
on the stack, so the painted-stack peak of a DSP build stays near the portable one."""

from __future__ import annotations

import shutil

import pytest

from codegen.cases import random_inputs
from edgecraft.emulate import emulate
from edgecraft.models.synthetic import small_cnn
from edgecraft.plan import plan_memory

pytestmark = [
    pytest.mark.toolchain,
    pytest.mark.skipif(
        shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
        reason="needs gcc-arm-none-eabi and qemu-system-arm (scripts/setup.sh installs them)",
    ),
]


def test_dsp_scratch_lives_in_the_arena_not_on_the_stack() -> None:
    graph = small_cnn(seed=2)
    batches = random_inputs(graph, 1, seed=3)
    portable = emulate(graph, "qemu-m4", batches, dsp=False, name="cnn")
    dsp = emulate(graph, "qemu-m4", batches, dsp=True, name="cnn")
    assert dsp.arena_bytes == plan_memory(graph, kernels="dsp").arena_bytes > portable.arena_bytes
    # the DSP convolution used to keep ~3.5 KB of patches on the stack
    assert dsp.stack_bytes < portable.stack_bytes + 512
