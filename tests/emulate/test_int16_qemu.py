"""int16 models (16x8 convolutions and fully connected, QUANTIZE; the elementwise ops, pooling,
LOGISTIC, TANH, SOFTMAX) cross-compiled and run on QEMU's Cortex-M4 and M0: outputs equal
TFLM's exactly."""

from __future__ import annotations

import pytest

from codegen.cases import check_against
from edgecraft.emulate import emulate
from int16_cases import int16_chain, int16_chain2, int16_chain3, int16_chain4, int16_inputs

pytestmark = pytest.mark.toolchain


@pytest.mark.parametrize("build", [int16_chain, int16_chain2, int16_chain3, int16_chain4],
                         ids=["16x8", "others", "data", "select_cast"])
@pytest.mark.parametrize("target", ["qemu-m4", "qemu-m0"])
def test_int16_model_on_the_emulated_boards(target: str, build) -> None:  # type: ignore[no-untyped-def]
    graph = build(seed=4)
    batches = int16_inputs(graph, 3, seed=11)
    r = emulate(graph, target, batches, name="int16")
    check_against(graph, r.outputs, batches, target)
