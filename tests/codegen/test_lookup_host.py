"""EMBEDDING_LOOKUP (float32, int8, hybrid int8 -> float32) and DYNAMIC_UPDATE_SLICE (run-time
start indices, every TFLM type) in generated C, equal to TFLM; an id outside the table makes
invoke return an error; clean under the sanitizers."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel, run_sanitized
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from oracle import check_tensor, check_tflm
from remaining_cases import values


def _lookup(rng: np.random.Generator, table_type: str, out_type: str) -> Graph:
    rows, cols = int(rng.integers(2, 6)), (int(rng.integers(1, 4)), int(rng.integers(1, 3)))
    q = qparams(float(rng.uniform(0.01, 0.1)), 0) if table_type == "int8" else None
    b = GraphBuilder()
    ids = b.tensor("ids", (int(rng.integers(1, 5)),), "int32")
    table = b.const("table", values(rng, (rows, *cols), table_type), q)
    y = b.tensor("y", (b.tensors[ids].shape[0], *cols), out_type, q if out_type == "int8" else None)
    b.op("EMBEDDING_LOOKUP", [ids, table], [y])
    return b.build([ids], [y])


def _update(rng: np.random.Generator, dtype: str, index_type: str) -> Graph:
    shape = tuple(int(v) for v in rng.integers(1, 5, size=rng.integers(1, 4)))
    update = tuple(int(rng.integers(1, d + 1)) for d in shape)
    b = GraphBuilder()
    x, u = b.tensor("x", shape, dtype), b.tensor("u", update, dtype)
    s = b.tensor("start", (len(shape),), index_type)
    y = b.tensor("y", shape, dtype)
    b.op("DYNAMIC_UPDATE_SLICE", [x, u, s], [y])
    return b.build([x, u, s], [y])


@pytest.mark.parametrize(("table_type", "out_type"),
                         [("float32", "float32"), ("int8", "int8"), ("int8", "float32")])
def test_embedding_lookup_in_c(table_type: str, out_type: str) -> None:
    rng = np.random.default_rng(91)
    for _ in range(3):
        graph = _lookup(rng, table_type, out_type)
        rows, n = graph.tensors[graph.operators[0].inputs[1]].shape[0], graph.input_tensors()[0].shape
        ids = rng.integers(0, rows, n).astype(np.int32)
        host = HostModel(generate(graph, "emb"), opt="-O0")
        check_tensor(host.run([ids])[0], check_tflm(graph, [ids])[0], "EMBEDDING_LOOKUP")
    with pytest.raises(RuntimeError, match="returned -1"):
        host.run([np.full(n, rows, np.int32)])


def test_dynamic_update_slice_in_c() -> None:
    rng = np.random.default_rng(92)
    for case in range(8):
        dtype, index_type = ("float32", "int8", "int16", "int32")[case % 4], ("int32", "int64")[case % 2]
        graph = _update(rng, dtype, index_type)
        x, u, s = graph.input_tensors()
        inputs = [values(rng, x.shape, dtype), values(rng, u.shape, dtype),
                  rng.integers(-2, 6, s.shape).astype(index_type)]
        got = HostModel(generate(graph, "dus"), opt="-O0").run(inputs)[0]
        check_tensor(got, check_tflm(graph, inputs, f"case {case}")[0], f"case {case}")


def test_lookup_ops_under_sanitizers() -> None:
    rng = np.random.default_rng(93)
    graph = _update(rng, "int8", "int64")
    x, u, s = graph.input_tensors()
    batches = [np.stack([values(rng, x.shape, "int8")]), np.stack([values(rng, u.shape, "int8")]),
               np.stack([rng.integers(-9, 9, s.shape).astype(np.int64)])]
    _, stderr = run_sanitized(generate(graph, "dus"), batches)
    assert stderr == "", stderr
    graph = _lookup(rng, "int8", "float32")
    n = graph.input_tensors()[0].shape
    _, stderr = run_sanitized(generate(graph, "emb"), [np.zeros((1, *n), np.int32)])
    assert stderr == "", stderr
