"""The layout ops' C (SPACE_TO_DEPTH, DEPTH_TO_SPACE, MIRROR_PAD, RESIZE_NEAREST_NEIGHBOR,
RESIZE_BILINEAR, REVERSE_V2, GATHER_ND) cross-compiled and run on QEMU's Cortex-M4 and M0: the
outputs equal TFLM's exactly."""

from __future__ import annotations

import pytest

from codegen.cases import emulated_exactly
from layout_cases import layout_chain

pytestmark = pytest.mark.toolchain


@pytest.mark.parametrize("target", ["qemu-m4", "qemu-m0"])
def test_layout_ops_on_the_emulated_boards(target: str) -> None:
    emulated_exactly(layout_chain(seed=4), target, 3, seed=11, name="layout")
