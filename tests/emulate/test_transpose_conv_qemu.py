"""TRANSPOSE_CONV's C cross-compiled and run on QEMU: int8 on the Cortex-M4 and int16 (16x8) on
the M0 equal to TFLM, float32 on the M4 within 1e-5 of the runtime."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.emulate import emulate
from edgecraft.runtime import run_model
from oracle import check_tensor, check_tflm
from transpose_conv_cases import random_input, transpose_conv_graph

pytestmark = pytest.mark.toolchain


@pytest.mark.parametrize(("target", "dtype"),
                         [("qemu-m4", "int8"), ("qemu-m0", "int16"), ("qemu-m4", "float32")])
def test_transpose_conv_on_the_emulated_boards(target: str, dtype: str) -> None:
    rng = np.random.default_rng(31)
    graph = transpose_conv_graph(rng, dtype)
    xs = np.stack([random_input(rng, graph) for _ in range(2)])
    r = emulate(graph, target, [xs], name="tconv")
    for b in range(2):
        if dtype == "float32":
            np.testing.assert_allclose(r.outputs[0][b], run_model(graph, [xs[b]])[0], rtol=1e-5, atol=1e-5)
        else:
            check_tensor(r.outputs[0][b], check_tflm(graph, [xs[b]])[0], f"{target} input {b}")
