"""TRANSPOSE_CONV in generated C, compiled for this machine: int8 and int16 (16x8, int64 and
int16 biases) equal to TFLM, float32 within 1e-5 of the runtime, and clean under the
sanitizers."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel, run_sanitized
from edgecraft.runtime import run_model
from oracle import check_tensor, check_tflm
from transpose_conv_cases import random_input, transpose_conv_graph


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_random_models_in_c_match_tflm(dtype: str) -> None:
    rng = np.random.default_rng(23 if dtype == "int8" else 24)
    for case in range(8):
        graph = transpose_conv_graph(rng, dtype, bias=case % 3 != 0, per_channel=case % 2 == 0)
        if dtype == "int16" and case == 4:  # an int16 bias, which TFLM widens to int64
            b = graph.tensors[graph.operators[0].inputs[3]]
            b.data, b.dtype = np.clip(b.data, -3000, 3000).astype(np.int16), "int16"
        xs = np.stack([random_input(rng, graph) for _ in range(2)])
        outs = HostModel(generate(graph, "tconv"), opt="-O0").run_batch([xs])[0]
        for r in range(2):
            want = check_tflm(graph, [xs[r]], f"{dtype} case {case}")[0]
            check_tensor(outs[r], want, f"{dtype} case {case} C")


def test_output_shape_fed_at_run_time_in_c_matches_tflm() -> None:
    """The output shape as a model input (TFLM's SEANet models): the C reads the static shape."""
    rng = np.random.default_rng(28)
    for dtype in ("int8", "int16"):
        graph = transpose_conv_graph(rng, dtype, shape_input=True)
        dims = np.array(graph.output_tensors()[0].shape, np.int32)
        x = random_input(rng, graph)
        (got,) = HostModel(generate(graph, "tconv"), opt="-O0").run([x, dims])
        check_tensor(got, check_tflm(graph, [x, dims], f"{dtype} shape input")[0], f"{dtype} shape input C")


def test_float32_in_c_matches_the_runtime() -> None:
    rng = np.random.default_rng(25)
    for case in range(6):
        graph = transpose_conv_graph(rng, "float32", bias=case % 2 == 0)
        x = random_input(rng, graph)
        (got,) = HostModel(generate(graph, "tconv"), opt="-O0").run([x])
        np.testing.assert_allclose(got, run_model(graph, [x])[0], rtol=1e-5, atol=1e-5)


def test_transpose_conv_under_sanitizers() -> None:
    rng = np.random.default_rng(26)
    for dtype in ("int8", "int16", "float32"):
        graph = transpose_conv_graph(rng, dtype)
        _, stderr = run_sanitized(generate(graph, "tconv"), [np.stack([random_input(rng, graph)])])
        assert stderr == "", stderr
