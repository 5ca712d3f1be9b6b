"""CUMSUM and ADD_N in generated C: int8 equal to TFLM, float32 within 1e-5 of the runtime; clean
under the sanitizers."""

from __future__ import annotations

import numpy as np

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel, run_sanitized
from edgecraft.ir.builder import GraphBuilder
from edgecraft.ir.graph import Graph
from edgecraft.runtime import run_model
from oracle import check_tensor, check_tflm
from remaining_cases import quant, values


def _cases(rng: np.random.Generator, dtype: str) -> list[Graph]:
    graphs = []
    for case in range(3):
        shape = tuple(int(v) for v in rng.integers(1, 5, size=rng.integers(1, 4)))
        q_in, q_out = quant(rng, dtype), quant(rng, dtype, 0.05, 0.5)
        b = GraphBuilder()
        x = b.tensor("x", shape, dtype, q_in)
        axis = b.const("axis", np.array([int(rng.integers(-len(shape), len(shape)))], np.int32))
        y = b.tensor("y", shape, dtype, q_out)
        b.op("CUMSUM", [x, axis], [y], exclusive=bool(case % 2), reverse=bool(case // 2 % 2))
        graphs.append(b.build([x], [y]))
        b = GraphBuilder()
        xs = [b.tensor(f"x{i}", shape, dtype, q_in) for i in range(2 + case % 3)]
        y = b.tensor("y", shape, dtype, q_out)
        b.op("ADD_N", xs, [y])
        graphs.append(b.build(xs, [y]))
    return graphs


def test_sums_in_c() -> None:
    rng = np.random.default_rng(81)
    for dtype in ("int8", "float32"):
        for graph in _cases(rng, dtype):
            inputs = [values(rng, t.shape, dtype) for t in graph.input_tensors()]
            (got,) = HostModel(generate(graph, "sums"), opt="-O0").run(inputs)
            label = f"{graph.operators[0].type} {dtype}"
            if dtype == "int8":
                check_tensor(got, check_tflm(graph, inputs, label)[0], label)
            else:
                np.testing.assert_allclose(got, run_model(graph, inputs)[0], rtol=1e-5, atol=1e-5)


def test_sums_under_sanitizers() -> None:
    rng = np.random.default_rng(82)
    for graph in _cases(rng, "int8")[:2]:
        inputs = [np.stack([values(rng, t.shape, "int8")]) for t in graph.input_tensors()]
        _, stderr = run_sanitized(generate(graph, "sums"), inputs)
        assert stderr == "", stderr
