"""FULLY_CONNECTED layers whose units share one multiplier and shift (one table entry each,
``per_channel = 0``) beside a per-channel one, on the emulated cores against TFLM exactly: the
DSP kernels on qemu-m4 and the Helium ones on qemu-m55 (issue 14, point 6)."""

from __future__ import annotations

import numpy as np
import pytest

from codegen.cases import emulated_exactly, fc_shift_chain, fc_tables_chain

pytestmark = pytest.mark.toolchain


@pytest.mark.parametrize("target", ["qemu-m4", "qemu-m55"])
def test_per_tensor_fc_tables_exact_on_emulated_cores(target: str) -> None:
    emulated_exactly(fc_tables_chain(seed=4), target, 6, seed=3, name="fct")


def test_per_tensor_fc_left_shifts_exact_on_the_dsp_core() -> None:
    # shifts +1, 0 and +2: the per-tensor loop's left shift before SRDHM (SMMLAR) and none after
    graph = fc_shift_chain(seed=2)
    t = graph.tensors
    shifts = {
        int(np.frexp(t[op.inputs[0]].scale * t[op.inputs[1]].scale / t[op.outputs[0]].scale)[1])
        for op in graph.operators
    }
    assert shifts == {0, 1, 2}
    emulated_exactly(graph, "qemu-m4", 6, seed=5, name="fcs")
