"""UNIDIRECTIONAL_SEQUENCE_LSTM's C cross-compiled and run on QEMU's Cortex-M4 (int8, batch
major; float32, time major) and M0 (int16 16x8, time major, clipped cell): three invocations in
one firmware, the state carried over, every output equal to TFLM's (float32: within 1e-5)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.emulate import emulate
from edgecraft.formats import write_tflite
from edgecraft.reference import TflmRunner
from lstm_cases import lstm_graph, lstm_input
from oracle import check_tensor

pytestmark = pytest.mark.toolchain


@pytest.mark.parametrize(("target", "dtype"), [("qemu-m4", "int8"), ("qemu-m0", "int16")])
def test_lstm_on_the_emulated_boards(target: str, dtype: str) -> None:
    graph = lstm_graph(2, 4, 3, 5, dtype, seed=9, time_major=dtype == "int16", cell_clip=2.0)
    xs = np.stack([lstm_input(graph, seed=r) for r in range(3)])
    r = emulate(graph, target, [xs], name="lstm")
    tflm = TflmRunner(write_tflite(graph))
    for b in range(3):
        check_tensor(r.outputs[0][b], tflm.run([xs[b]])[0], f"{target} invocation {b}")
    assert r.ram_bytes > r.arena_bytes  # the state arrays live beside the arena


def test_float_lstm_on_the_emulated_m4() -> None:
    graph = lstm_graph(2, 4, 3, 5, "float32", seed=9, time_major=True, cell_clip=0.8, weight_range=3.0)
    xs = np.stack([2 * lstm_input(graph, seed=r) for r in range(3)])
    r = emulate(graph, "qemu-m4", [xs], name="lstm_f")
    tflm = TflmRunner(write_tflite(graph))
    for b in range(3):
        np.testing.assert_allclose(r.outputs[0][b], tflm.run([xs[b]])[0], rtol=1e-5, atol=1e-5,
                                   err_msg=f"qemu-m4 float32 invocation {b}")
