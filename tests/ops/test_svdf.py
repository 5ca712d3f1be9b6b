"""SVDF: int8 with int16 or int8 state bit-exact with TFLM over several invocations (the state is
a variable tensor kept between them), float32 within 1e-5 of LiteRT and TFLM; refusals."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import write_tflite
from edgecraft.ops import OpError
from edgecraft.ops.registry import check_shapes
from edgecraft.reference import LiteRtRunner, TflmRunner
from edgecraft.runtime import Interpreter, run_model
from oracle import check_tensor
from svdf_cases import svdf_graph, svdf_input


@pytest.mark.parametrize("state_type", ["int16", "int8"])
def test_int8_svdf_matches_tflm_over_invocations(state_type: str) -> None:
    rng = np.random.default_rng(51 if state_type == "int16" else 52)
    for case in range(10):
        graph = svdf_graph(rng, "int8", state_type)
        tflm = TflmRunner(write_tflite(graph))
        ours, spec = Interpreter(graph), Interpreter(graph, reference=True)
        for run in range(3):
            x = svdf_input(rng, graph)
            want = tflm.run([x])[0]
            check_tensor(ours.run([x])[0], want, f"case {case} run {run}")
            check_tensor(spec.run([x])[0], want, f"case {case} run {run} (reference)")


def test_float32_svdf_matches_litert_over_invocations() -> None:
    rng = np.random.default_rng(53)
    for case in range(6):
        graph = svdf_graph(rng, "float32", activation=("NONE", "RELU")[case % 2])
        litert, ours = LiteRtRunner(write_tflite(graph)), Interpreter(graph)
        for _ in range(3):
            x = svdf_input(rng, graph)
            np.testing.assert_allclose(ours.run([x])[0], litert.run([x])[0], rtol=1e-5, atol=1e-5)


def test_refusals() -> None:
    rng = np.random.default_rng(54)
    graph = svdf_graph(rng, "int8")
    graph.tensors[graph.operators[0].inputs[4]].variable = False
    with pytest.raises(OpError, match=r"state .variable. tensor"):
        check_shapes(graph)
    graph = svdf_graph(rng, "int8")
    bias = graph.tensors[graph.operators[0].inputs[3]]
    bias.quant.scale[0] = 1.0  # type: ignore[union-attr]
    with pytest.raises(OpError, match="bias scale"):
        run_model(graph, [svdf_input(rng, graph)])
