"""TANH: int8 bit-exact with TFLM (tolerance 0), float32 against LiteRT."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.ops import OpContext, get_op
from edgecraft.runtime import run_model
from oracle import check_litert, check_tflm

ALL_INT8 = np.arange(-128, 128, dtype=np.int8)
# From below 2**-27 (where TFLM's radius computation shifts by a negative count) to huge.
SCALES = [2.5e-9, 1e-5, 1 / 256, 0.02, 0.1, 0.5, 1.0, 8.0, 100.0]


def tanh_graph(shape: tuple[int, ...], scale: float, zero_point: int, dtype: str = "int8") -> Graph:
    b = GraphBuilder()
    quant = dtype == "int8"
    x = b.tensor("x", shape, dtype, qparams(scale, zero_point) if quant else None)
    y = b.tensor("y", shape, dtype, qparams(1 / 128, 0) if quant else None)
    b.op("TANH", [x], [y])
    return b.build([x], [y])


def test_tiny_case_by_hand() -> None:
    # scale 1/16: x = -8, -1, 0, 0.5, 7.94; 128 * tanh(x) = -128.0, -97.5, 0, 59.2, 128.0 (clamped)
    x = np.array([-128, -16, 0, 8, 127], dtype=np.int8)
    (y,) = run_model(tanh_graph((5,), 1 / 16, 0), [x])
    assert y.tolist() == [-128, -97, 0, 59, 127]


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("zero_point", [-128, -20, 0, 93, 127])
def test_all_int8_inputs_match_tflm(scale: float, zero_point: int) -> None:
    check_tflm(tanh_graph((256,), scale, zero_point), [ALL_INT8], f"scale {scale} zp {zero_point}")


def test_random_shapes_and_scales_match_tflm() -> None:
    rng = np.random.default_rng(11)
    for case in range(40):
        shape = tuple(int(d) for d in rng.integers(1, 6, size=rng.integers(1, 5)))
        scale = float(10 ** rng.uniform(-10, 3))
        zero_point = int(rng.integers(-128, 128))
        x = rng.integers(-128, 128, size=shape).astype(np.int8)
        check_tflm(tanh_graph(shape, scale, zero_point), [x], f"case {case}")


@pytest.mark.parametrize("shape", [(9,), (3, 7), (2, 3, 4), (1, 5, 5, 8)])
def test_float32_matches_litert(shape: tuple[int, ...]) -> None:
    x = (np.random.default_rng(5).standard_normal(shape) * 4).astype(np.float32)
    x.flat[:3] = [-30.0, 0.0, 30.0]
    check_litert(tanh_graph(shape, 1.0, 0, dtype="float32"), [x], label=str(shape))


def test_shape_and_cost() -> None:
    graph = tanh_graph((2, 10), 0.1, 0)
    ctx = OpContext(graph.operators[0], graph)
    op = get_op("TANH")
    assert op.shape(ctx) == [(2, 10)]
    cost = op.cost(ctx)
    assert (cost.macs, cost.bytes_read, cost.bytes_written) == (20, 20, 20)
