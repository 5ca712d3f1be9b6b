"""TRANSPOSE_CONV: int8 and int16 (16x8) bit-exact with TFLM on randomized one-op models
(strides, SAME/VALID, activations, per-channel and per-tensor filters, with and without bias);
float32 against LiteRT; shape rule, refusals and cost."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ops import OpContext, OpError, get_op
from edgecraft.ops.registry import check_shapes, graph_macs
from edgecraft.runtime import run_model
from oracle import check_litert, check_tflm
from transpose_conv_cases import random_input, transpose_conv_graph


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_random_models_match_tflm(dtype: str) -> None:
    rng = np.random.default_rng(17 if dtype == "int8" else 18)
    for case in range(25):
        graph = transpose_conv_graph(rng, dtype, bias=case % 3 != 0, per_channel=case % 2 == 0)
        check_tflm(graph, [random_input(rng, graph)], f"{dtype} case {case}")


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_output_shape_fed_at_run_time_matches_tflm(dtype: str) -> None:
    """TFLM's SEANet integration models feed the output shape as a model input; TFLM reads the
    output's declared shape and never the values (edgecraft refused these models before)."""
    rng = np.random.default_rng(27)
    for case in range(6):
        graph = transpose_conv_graph(rng, dtype, bias=case % 2 == 0, shape_input=True)
        dims = np.array(graph.output_tensors()[0].shape, np.int32)
        check_tflm(graph, [random_input(rng, graph), dims], f"{dtype} case {case}")


def test_output_shape_at_run_time_needs_a_4d_declared_output() -> None:
    graph = transpose_conv_graph(np.random.default_rng(3), "int8", shape_input=True)
    y = graph.output_tensors()[0]
    y.shape = (int(np.prod(y.shape)),)
    with pytest.raises(OpError, match=r"computed at run time.*give it its static shape"):
        check_shapes(graph)


def test_float32_matches_litert() -> None:
    rng = np.random.default_rng(19)
    for case in range(10):
        graph = transpose_conv_graph(rng, "float32", bias=case % 2 == 0)
        check_litert(graph, [random_input(rng, graph)], label=f"case {case}")


def test_tiny_case_by_hand() -> None:
    # 1x2x2x1 input, 2x2 filter of ones, stride 2, VALID: every input pixel becomes a 2x2 block.
    b = GraphBuilder()
    dims = b.const("dims", np.array([1, 4, 4, 1], np.int32))
    w = b.const("w", np.ones((1, 2, 2, 1), np.float32))
    x = b.tensor("x", (1, 2, 2, 1), "float32")
    y = b.tensor("y", (1, 4, 4, 1), "float32")
    b.op("TRANSPOSE_CONV", [dims, w, x], [y], padding="VALID", stride_h=2, stride_w=2)
    (out,) = run_model(b.build([x], [y]), [np.array([1, 2, 3, 4], np.float32).reshape(1, 2, 2, 1)])
    assert out[0, :, :, 0].tolist() == [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]


def test_refuses_what_tflm_refuses() -> None:
    graph = transpose_conv_graph(np.random.default_rng(1), "int8")
    graph.tensors[graph.operators[0].inputs[0]].data = np.array([1, 4, 4, 99], np.int32)
    with pytest.raises(OpError, match="does not match"):
        check_shapes(graph)
    graph = transpose_conv_graph(np.random.default_rng(2), "int8", bias=True)
    bias = graph.tensors[graph.operators[0].inputs[3]]
    bias.data, bias.dtype = bias.data.astype(np.int64), "int64"
    x = graph.input_tensors()[0]
    with pytest.raises(OpError, match="needs a int32 bias"):
        run_model(graph, [np.zeros(x.shape, np.int8)])


def test_cost_scratch_and_quantized_filter() -> None:
    b = GraphBuilder()
    dims = b.const("dims", np.array([1, 6, 6, 3], np.int32))
    w = b.const("w", np.ones((3, 3, 3, 2), np.int8), qparams(0.1))
    x = b.tensor("x", (1, 3, 3, 2), "int8", qparams(0.5, 0))
    y = b.tensor("y", (1, 6, 6, 3), "int8", qparams(1.0, 0))
    b.op("TRANSPOSE_CONV", [dims, w, x], [y], padding="SAME", stride_h=2, stride_w=2)
    graph = b.build([x], [y])
    ctx = OpContext(graph.operators[0], graph)
    assert graph_macs(graph) == 9 * 2 * 3 * 9
    for variant in ("portable", "dsp"):  # the DSP build runs the same kernel
        assert get_op("TRANSPOSE_CONV").scratch_bytes(ctx, variant) == 4 * 6 * 6 * 3
    check_tflm(graph, [np.arange(-9, 9, dtype=np.int8).reshape(1, 3, 3, 2)], "ones")
