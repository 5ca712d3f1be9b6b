"""SVDF in generated C, compiled for this machine: int8 (int16 and int8 state) equal to TFLM over
three invocations (the state array carries over), float32 within 1e-5 of the runtime, clean
under the sanitizers."""

from __future__ import annotations

import numpy as np

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel, run_sanitized
from edgecraft.formats import write_tflite
from edgecraft.reference import TflmRunner
from edgecraft.runtime import Interpreter
from oracle import check_tensor
from svdf_cases import svdf_graph, svdf_input


def test_int8_svdf_in_c_matches_tflm_over_invocations() -> None:
    rng = np.random.default_rng(61)
    for case in range(8):
        graph = svdf_graph(rng, "int8", ("int16", "int8")[case % 2])
        xs = np.stack([svdf_input(rng, graph) for _ in range(3)])
        outs = HostModel(generate(graph, "svdf"), opt="-O0").run_batch([xs])[0]
        tflm = TflmRunner(write_tflite(graph))
        for r in range(3):
            check_tensor(outs[r], tflm.run([xs[r]])[0], f"case {case} invocation {r}")


def test_float32_svdf_in_c_matches_the_runtime() -> None:
    rng = np.random.default_rng(62)
    for case in range(4):
        graph = svdf_graph(rng, "float32", activation=("NONE", "RELU")[case % 2])
        xs = np.stack([svdf_input(rng, graph) for _ in range(3)])
        outs = HostModel(generate(graph, "svdf"), opt="-O0").run_batch([xs])[0]
        ours = Interpreter(graph)
        for r in range(3):
            np.testing.assert_allclose(outs[r], ours.run([xs[r]])[0], rtol=1e-5, atol=1e-5)


def test_svdf_under_sanitizers() -> None:
    rng = np.random.default_rng(63)
    for dtype, state in (("int8", "int16"), ("int8", "int8"), ("float32", "float32")):
        graph = svdf_graph(rng, dtype, state)
        _, stderr = run_sanitized(generate(graph, "svdf"), [np.stack([svdf_input(rng, graph)] * 2)])
        assert stderr == "", stderr
