"""SOFTMAX: int8 (int8 and int16 outputs) bit-exact with TFLM (tolerance 0), float32 against
LiteRT."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import read_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.ops import OpContext, OpError, get_op
from edgecraft.runtime import run_model
from oracle import INT8_MODELS, check_litert, check_tflm, conformance_model

OUTPUT_QUANT = {"int8": (1 / 256, -128), "int16": (1 / 65536, -32768)}  # what TFLM requires


def softmax_graph(shape: tuple[int, ...], scale: float, zero_point: int, beta: float = 1.0,
                  out_dtype: str = "int8", out_quant: tuple[float, int] | None = None) -> Graph:
    b = GraphBuilder()
    if out_dtype == "float32":
        x = b.tensor("x", shape, "float32")
        y = b.tensor("y", shape, "float32")
    else:
        x = b.tensor("x", shape, "int8", qparams(scale, zero_point))
        y = b.tensor("y", shape, out_dtype, qparams(*(out_quant or OUTPUT_QUANT[out_dtype])))
    b.op("SOFTMAX", [x], [y], beta=beta)
    return b.build([x], [y])


def test_tiny_case_by_hand() -> None:
    # scale 1/16: x = 0, 1, 2; softmax = 0.090, 0.245, 0.665; 256 * p - 128 = -104.9, -65.4, 42.3
    x = np.array([[0, 16, 32]], dtype=np.int8)
    (y,) = run_model(softmax_graph((1, 3), 1 / 16, 0), [x])
    assert y.tolist() == [[-105, -65, 42]]
    # beta scales the input: beta 2 on half the differences gives the same probabilities
    (y,) = run_model(softmax_graph((1, 3), 1 / 16, 0, beta=2.0), [x // 2])
    assert y.tolist() == [[-105, -65, 42]]


def all_int8_rows(seed: int) -> np.ndarray:
    """256 rows of 4: every int8 value once in column 0, beside 0, -128 and a random value."""
    x = np.zeros((256, 4), dtype=np.int8)
    x[:, 0] = np.arange(-128, 128)
    x[:, 2] = -128
    x[:, 3] = np.random.default_rng(seed).integers(-128, 128, size=256)
    return x


@pytest.mark.parametrize("scale", [1e-4, 0.01, 0.1, 0.5, 2.0, 40.0])
@pytest.mark.parametrize("zero_point", [-128, 0, 77])
@pytest.mark.parametrize("out_dtype", ["int8", "int16"])
def test_all_int8_inputs_match_tflm(scale: float, zero_point: int, out_dtype: str) -> None:
    graph = softmax_graph((256, 4), scale, zero_point, out_dtype=out_dtype)
    check_tflm(graph, [all_int8_rows(zero_point + 128)], f"scale {scale}")
    row = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    check_tflm(softmax_graph((1, 256), scale, zero_point, out_dtype=out_dtype), [row], "one row")


@pytest.mark.parametrize("beta", [0.05, 0.5, 1.0, 2.0, 10.0, 1e4])
@pytest.mark.parametrize("scale", [1e-3, 0.05, 1.0])
def test_beta_sweep_matches_tflm(beta: float, scale: float) -> None:
    # beta * scale from 5e-5 to 1e4: the multiplier is capped at 2**31 - 1 at the top
    check_tflm(softmax_graph((256, 4), scale, 3, beta=beta), [all_int8_rows(1)], f"beta {beta}")


def test_random_shapes_match_tflm() -> None:
    rng = np.random.default_rng(19)
    for case in range(40):
        shape = tuple(int(d) for d in rng.integers(1, 6, size=rng.integers(1, 5)))
        if case % 4 == 0:
            shape = (*shape[:-1], int(rng.integers(1, 400)))  # long rows, as in a classifier
        scale, beta = float(10 ** rng.uniform(-4, 1.5)), float(10 ** rng.uniform(-1, 1))
        out_dtype = "int16" if case % 3 == 0 else "int8"
        x = rng.integers(-128, 128, size=shape).astype(np.int8)
        graph = softmax_graph(shape, scale, int(rng.integers(-128, 128)), beta, out_dtype)
        check_tflm(graph, [x], f"case {case}")


@pytest.mark.parametrize(("out_dtype", "quant"), [("int8", (1 / 255, -128)), ("int8", (1 / 256, 0)),
                                                  ("int16", (1 / 65536, 0))])
def test_output_quantization_other_than_tflms_is_refused(out_dtype: str, quant: tuple[float, int]) -> None:
    graph = softmax_graph((1, 4), 0.1, 0, out_dtype=out_dtype, out_quant=quant)
    with pytest.raises(OpError, match=r"SOFTMAX .* output"):
        run_model(graph, [np.zeros((1, 4), np.int8)])


def test_what_tflm_aborts_on_is_an_error() -> None:
    # TFLM's TFLITE_CHECKs end the process on these (so they cannot be run against it here).
    with pytest.raises(OpError, match="too small"):
        run_model(softmax_graph((1, 4), 1e-9, 0), [np.zeros((1, 4), np.int8)])
    with pytest.raises(OpError, match="near its maximum"):
        run_model(softmax_graph((1, 512), 0.1, 0), [np.zeros((1, 512), np.int8)])
    # one fewer tie is still fine
    check_tflm(softmax_graph((1, 511), 0.1, 0), [np.zeros((1, 511), np.int8)])


@pytest.mark.parametrize("shape", [(9,), (3, 7), (2, 3, 4), (1, 2, 5, 10), (2, 1000)])
@pytest.mark.parametrize("beta", [1.0, 0.3, 2.5])
def test_float32_matches_litert(shape: tuple[int, ...], beta: float) -> None:
    x = (np.random.default_rng(23).standard_normal(shape) * 5).astype(np.float32)
    check_litert(softmax_graph(shape, 1.0, 0, beta=beta, out_dtype="float32"), [x], label=str(shape))


@pytest.mark.conformance
@pytest.mark.parametrize("name", [m for m in INT8_MODELS if m != "ad01_int8"])  # ad01 has no SOFTMAX
def test_softmax_of_conformance_models_matches_tflm(name: str) -> None:
    # The real models' SOFTMAX quantization, on every int8 input value (twin: the tests above).
    model = read_tflite(conformance_model(name))
    (op,) = [op for op in model.operators if op.type == "SOFTMAX"]
    x = model.tensors[op.inputs[0]]
    graph = softmax_graph((256, 4), x.scale, x.zero_point, beta=op.attrs["beta"])
    check_tflm(graph, [all_int8_rows(5)], name)


def test_shape_and_cost() -> None:
    graph = softmax_graph((2, 10), 0.1, 0, out_dtype="int16")
    ctx = OpContext(graph.operators[0], graph)
    op = get_op("SOFTMAX")
    assert op.shape(ctx) == [(2, 10)]
    cost = op.cost(ctx)
    assert (cost.macs, cost.bytes_read, cost.bytes_written) == (40, 20, 40)
