"""The layout ops' C (SPACE_TO_DEPTH, DEPTH_TO_SPACE, MIRROR_PAD, RESIZE_NEAREST_NEIGHBOR,
RESIZE_BILINEAR, REVERSE_V2, GATHER_ND) cross-compiled and run on QEMU's Cortex-M4 and M0: the
outputs equal TFLM's exactly."""

from __future__ import annotations

import pytest

from codegen.cases import check_against, random_inputs
from edgecraft.emulate import emulate
from layout_cases import layout_chain

pytestmark = pytest.mark.toolchain


@pytest.mark.parametrize("target", ["qemu-m4", "qemu-m0"])
def test_layout_ops_on_the_emulated_boards(target: str) -> None:
    graph = layout_chain(seed=4)
    batches = random_inputs(graph, 3, seed=11)
    r = emulate(graph, target, batches, name="layout")
    check_against(graph, r.outputs, batches, target)
