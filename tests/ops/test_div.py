"""DIV: hand-checked cases, randomized one-op models (broadcasting, fused activations) against
TFLM for int8 and int32 (tolerance 0) and LiteRT for float32 (1e-5)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.ops import OpError
from edgecraft.runtime import run_model
from oracle import check_litert, check_tflm


def div_case(rng: np.random.Generator, dtype: str) -> tuple[Graph, list[np.ndarray]]:
    g = GraphBuilder("div")
    shape = tuple(int(v) for v in rng.integers(1, 5, int(rng.integers(1, 5))))
    other = tuple(d if rng.random() < 0.6 else 1 for d in shape)[int(rng.integers(0, len(shape))):]
    a_shape, b_shape = (shape, other) if rng.random() < 0.5 else (other, shape)
    act = str(rng.choice(["NONE", "RELU", "RELU6", "RELU_N1_TO_1"])) if dtype != "int32" else "NONE"
    qa = qb = qy = None
    if dtype == "int8":
        sa, sb = float(rng.uniform(0.01, 0.1)), float(rng.uniform(0.01, 0.1))
        qa, qb = qparams(sa, int(rng.integers(-20, 21))), qparams(sb, int(rng.integers(-20, 21)))
        qy = qparams(sa / sb * float(rng.uniform(0.05, 0.5)), int(rng.integers(-20, 21)))
    a, b = g.tensor("a", a_shape, dtype, qa), g.tensor("b", b_shape, dtype, qb)
    y = g.tensor("y", shape, dtype, qy)
    g.op("DIV", [a, b], [y], fused_activation_function=act)
    if dtype == "int8":
        assert qb is not None
        zp = int(qb.zero_point[0])
        xa = rng.integers(-128, 128, a_shape).astype(np.int8)
        xb = rng.integers(-128, 128, b_shape)
        xb = np.where(xb == zp, zp + 1, xb).astype(np.int8)  # no division by zero
    elif dtype == "int32":
        xa = rng.integers(-100000, 100000, a_shape).astype(np.int32)
        xb = rng.integers(1, 500, b_shape).astype(np.int32) * rng.choice([-1, 1], b_shape).astype(np.int32)
    else:
        xa = rng.standard_normal(a_shape).astype(np.float32)
        xb = rng.uniform(0.5, 3, b_shape).astype(np.float32) * rng.choice([-1, 1], b_shape).astype(np.float32)
    return g.build([a, b], [y]), [xa, xb]


def test_hand_cases() -> None:
    g = GraphBuilder()
    a, b, y = g.tensor("a", (4,), "int32"), g.tensor("b", (4,), "int32"), g.tensor("y", (4,), "int32")
    g.op("DIV", [a, b], [y], fused_activation_function="NONE")
    graph = g.build([a, b], [y])
    values = [np.array([7, -7, 7, -7], np.int32), np.array([2, 2, -2, -2], np.int32)]
    assert run_model(graph, values)[0].tolist() == [3, -3, -3, 3]  # truncation toward zero
    check_tflm(graph, values, "hand int32")
    # int8: scales 1, zero points 0: 100 / 4 = 25, -9 / 3 = -3.
    g = GraphBuilder()
    q = qparams(1.0, 0)
    a, b, y = g.tensor("a", (2,), "int8", q), g.tensor("b", (2,), "int8", q), g.tensor("y", (2,), "int8", q)
    g.op("DIV", [a, b], [y], fused_activation_function="NONE")
    graph = g.build([a, b], [y])
    values = [np.array([100, -9], np.int8), np.array([4, 3], np.int8)]
    assert run_model(graph, values)[0].tolist() == [25, -3]
    check_tflm(graph, values, "hand int8")


def test_division_by_zero_is_an_error() -> None:
    g = GraphBuilder()
    a, b, y = g.tensor("a", (1,), "int32"), g.tensor("b", (1,), "int32"), g.tensor("y", (1,), "int32")
    g.op("DIV", [a, b], [y], fused_activation_function="NONE")
    with pytest.raises(OpError, match="DIV by zero"):
        run_model(g.build([a, b], [y]), [np.array([1], np.int32), np.array([0], np.int32)])


@pytest.mark.parametrize("dtype", ["int8", "int32", "float32"])
def test_random_cases(dtype: str) -> None:
    rng = np.random.default_rng(sum(map(ord, dtype)) + 40)
    for case in range(8):
        graph, values = div_case(rng, dtype)
        if dtype == "float32":
            check_litert(graph, values, rtol=1e-5, label=f"DIV float32 case {case}")
        else:
            check_tflm(graph, values, f"DIV {dtype} case {case}")
