"""HARD_SWISH: int8 bit-exact with TFLM (tolerance 0), float32 against LiteRT."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.ops import OpContext, OpError, get_op
from edgecraft.runtime import run_model
from oracle import check_litert, check_tflm

ALL_INT8 = np.arange(-128, 128, dtype=np.int8)


def hard_swish_graph(shape: tuple[int, ...], scale: float, zero_point: int, out_scale: float,
                     out_zero_point: int, dtype: str = "int8") -> Graph:
    b = GraphBuilder()
    quant = dtype == "int8"
    x = b.tensor("x", shape, dtype, qparams(scale, zero_point) if quant else None)
    y = b.tensor("y", shape, dtype, qparams(out_scale, out_zero_point) if quant else None)
    b.op("HARD_SWISH", [x], [y])
    return b.build([x], [y])


def test_tiny_case_by_hand() -> None:
    # scales 1/16: x = -4, -1, 0, 1, 3, 4; x * relu6(x + 3) / 6 = 0, -1/3, 0, 2/3, 3, 4
    x = np.array([-64, -16, 0, 16, 48, 64], dtype=np.int8)
    (y,) = run_model(hard_swish_graph((6,), 1 / 16, 0, 1 / 16, 0), [x])
    assert y.tolist() == [0, -5, 0, 11, 48, 64]


# (input scale, output scale / input scale): output shifts from 0 to beyond 16 bits, and
# reluish shifts both ways (left for large input scales, right for small ones).
SCALES = [(1e-5, 1.0), (0.003, 0.05), (0.02, 0.8), (0.05, 0.3), (0.1, 1.0), (0.3, 2.5),
          (1.0, 0.01), (4.0, 10.0), (60.0, 1000.0)]


@pytest.mark.parametrize(("scale", "ratio"), SCALES)
@pytest.mark.parametrize(("zero_point", "out_zero_point"), [(-128, -128), (0, -90), (17, 5), (127, 127)])
def test_all_int8_inputs_match_tflm(scale: float, ratio: float, zero_point: int, out_zero_point: int) -> None:
    graph = hard_swish_graph((256,), scale, zero_point, scale * ratio, out_zero_point)
    check_tflm(graph, [ALL_INT8], f"scale {scale} ratio {ratio}")


def test_random_shapes_and_scales_match_tflm() -> None:
    rng = np.random.default_rng(13)
    for case in range(40):
        shape = tuple(int(d) for d in rng.integers(1, 6, size=rng.integers(1, 5)))
        scale = float(10 ** rng.uniform(-6, 2))
        out_scale = scale * float(10 ** rng.uniform(-2.1, 4))
        zps = rng.integers(-128, 128, size=2)
        x = rng.integers(-128, 128, size=shape).astype(np.int8)
        graph = hard_swish_graph(shape, scale, int(zps[0]), out_scale, int(zps[1]))
        check_tflm(graph, [x], f"case {case}")


def test_output_scale_too_fine_is_refused() -> None:
    graph = hard_swish_graph((4,), 0.1, 0, 1e-6, 0)  # TFLM's Prepare fails on this model too
    with pytest.raises(OpError, match="output_scale"):
        run_model(graph, [np.zeros(4, np.int8)])


@pytest.mark.parametrize("shape", [(9,), (3, 7), (2, 3, 4), (1, 5, 5, 8)])
def test_float32_matches_litert(shape: tuple[int, ...]) -> None:
    x = (np.random.default_rng(17).standard_normal(shape) * 4).astype(np.float32)
    x.flat[:3] = [-3.0, 3.0, 0.0]  # the corners of relu6(x + 3)
    check_litert(hard_swish_graph(shape, 1.0, 0, 1.0, 0, dtype="float32"), [x], label=str(shape))


def test_shape_and_cost() -> None:
    graph = hard_swish_graph((1, 2, 2, 8), 0.1, 0, 0.1, 0)
    ctx = OpContext(graph.operators[0], graph)
    op = get_op("HARD_SWISH")
    assert op.shape(ctx) == [(1, 2, 2, 8)]
    cost = op.cost(ctx)
    assert (cost.macs, cost.bytes_read, cost.bytes_written) == (32, 32, 32)
