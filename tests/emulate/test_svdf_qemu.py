"""SVDF's C on QEMU's Cortex-M4 (int8, int16 state) and M0 (int8 state): three invocations in one
firmware, the state carried over, equal to TFLM."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.emulate import emulate
from edgecraft.formats import write_tflite
from edgecraft.reference import TflmRunner
from oracle import check_tensor
from svdf_cases import svdf_graph, svdf_input

pytestmark = pytest.mark.toolchain


@pytest.mark.parametrize(("target", "state"), [("qemu-m4", "int16"), ("qemu-m0", "int8")])
def test_svdf_on_the_emulated_boards(target: str, state: str) -> None:
    rng = np.random.default_rng(64)
    graph = svdf_graph(rng, "int8", state)
    xs = np.stack([svdf_input(rng, graph) for _ in range(3)])
    r = emulate(graph, target, [xs], name="svdf")
    tflm = TflmRunner(write_tflite(graph))
    for b in range(3):
        check_tensor(r.outputs[0][b], tflm.run([xs[b]])[0], f"{target} invocation {b}")
