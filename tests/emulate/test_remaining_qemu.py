"""SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND's C (int8, padded and cropped) on QEMU's Cortex-M4,
equal to the runtime (and so to LiteRT and TFLM, per the ops tests); CUMSUM and ADD_N (int8) on
the M0 and EMBEDDING_LOOKUP feeding DYNAMIC_UPDATE_SLICE (run-time ids and starts) on the M4,
equal to TFLM."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.emulate import emulate
from edgecraft.ir.builder import GraphBuilder
from edgecraft.runtime import run_model
from oracle import check_tensor, check_tflm
from remaining_cases import quant, space_batch, values

pytestmark = pytest.mark.toolchain


def test_space_batch_on_m4() -> None:
    rng = np.random.default_rng(73)
    for graph in space_batch(rng, "int8", four=True, pad=True):
        xs = np.stack([values(rng, graph.input_tensors()[0].shape, "int8") for _ in range(2)])
        r = emulate(graph, "qemu-m4", [xs], name="sb")
        for b in range(2):
            check_tensor(r.outputs[0][b], run_model(graph, [xs[b]])[0], f"{graph.operators[0].type} {b}")


def test_cumsum_and_add_n_on_m0() -> None:
    rng = np.random.default_rng(74)
    b = GraphBuilder()
    q_in, q_out = quant(rng, "int8"), quant(rng, "int8", 0.05, 0.5)
    x1, x2 = b.tensor("x1", (3, 4), "int8", q_in), b.tensor("x2", (3, 4), "int8", q_in)
    s = b.tensor("s", (3, 4), "int8", q_out)
    b.op("ADD_N", [x1, x2], [s])
    axis = b.const("axis", np.array([1], np.int32))
    y = b.tensor("y", (3, 4), "int8", quant(rng, "int8", 0.2, 1.0))
    b.op("CUMSUM", [s, axis], [y], exclusive=True)
    graph = b.build([x1, x2], [y])
    xs = [np.stack([values(rng, (3, 4), "int8") for _ in range(2)]) for _ in range(2)]
    r = emulate(graph, "qemu-m0", xs, name="sums")
    for k in range(2):
        check_tensor(r.outputs[0][k], check_tflm(graph, [xs[0][k], xs[1][k]])[0], f"input {k}")


def test_embedding_lookup_and_dynamic_update_slice_on_m4() -> None:
    rng = np.random.default_rng(75)
    b = GraphBuilder()
    ids = b.tensor("ids", (3,), "int32")
    table = b.const("table", values(rng, (5, 4), "int8"), quant(rng, "int8"))
    rows = b.tensor("rows", (3, 4), "int8", b.tensors[table].quant)
    b.op("EMBEDDING_LOOKUP", [ids, table], [rows])
    start = b.tensor("start", (2,), "int32")
    base = b.const("base", values(rng, (6, 6), "int8"), b.tensors[table].quant)
    y = b.tensor("y", (6, 6), "int8", b.tensors[table].quant)
    b.op("DYNAMIC_UPDATE_SLICE", [base, rows, start], [y])
    graph = b.build([ids, start], [y])
    xs = [np.stack([rng.integers(0, 5, 3).astype(np.int32) for _ in range(2)]),
          np.stack([rng.integers(-1, 6, 2).astype(np.int32) for _ in range(2)])]
    r = emulate(graph, "qemu-m4", xs, name="lookup")
    for k in range(2):
        check_tensor(r.outputs[0][k], check_tflm(graph, [xs[0][k], xs[1][k]])[0], f"input {k}")
