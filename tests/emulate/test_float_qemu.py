"""float32 ops' C on QEMU: the CNN ops on the Cortex-M4 (hardware float), the unary math and
two-input ops on the M0 (soft float, newlib's libm); within 1e-5 of the runtime. The int32 ops
on the M0, equal to the runtime (equal to TFLM per the host test)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.emulate import emulate
from edgecraft.runtime import run_model
from float_cases import binary_graph, inputs_for, int_graph, int_inputs, matmul_graph, nn_graph, unary_graph
from oracle import check_tensor

pytestmark = pytest.mark.toolchain


@pytest.mark.parametrize(("kind", "board"), [("nn", "qemu-m4"), ("unary", "qemu-m0"), ("binary", "qemu-m0"),
                                                ("matmul", "qemu-m4")])
def test_float_ops_on_qemu(kind: str, board: str) -> None:
    rng = np.random.default_rng(95 + len(kind))
    graph = {"nn": nn_graph, "unary": unary_graph, "binary": binary_graph, "matmul": matmul_graph}[kind](rng)
    batches = [inputs_for(rng, graph) for _ in range(2)]
    xs = [np.stack(column) for column in zip(*batches, strict=True)]
    r = emulate(graph, board, xs, name=f"f_{kind}")
    for b, inputs in enumerate(batches):
        want = run_model(graph, inputs)
        for op, got, w in zip(graph.operators, r.outputs, want, strict=True):
            if w.dtype == np.bool_:
                np.testing.assert_array_equal(got[b].astype(bool), w, err_msg=op.type)
            else:
                np.testing.assert_allclose(got[b], w, rtol=1e-5, atol=1e-5, err_msg=f"{op.type} {b}")


def test_int32_ops_on_m0() -> None:
    rng = np.random.default_rng(98)
    graph = int_graph("int32")
    batches = [int_inputs(rng, graph) for _ in range(2)]
    xs = [np.stack(column) for column in zip(*batches, strict=True)]
    r = emulate(graph, "qemu-m0", xs, name="i_int32")
    for b, inputs in enumerate(batches):
        for op, got, w in zip(graph.operators, r.outputs, run_model(graph, inputs), strict=True):
            check_tensor(got[b].astype(w.dtype), w, f"{op.type} {b}")
