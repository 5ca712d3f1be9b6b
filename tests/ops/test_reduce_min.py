"""REDUCE_MIN: a literal case, then random one-op models against TFLM (exact)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph, Quantization
from edgecraft.ops import OpError
from edgecraft.runtime import run_model
from oracle import check_tflm


def reduce_graph(shape: tuple[int, ...], axis: list[int], keep: bool, dtype: str,
                 q: Quantization | None = None, q_out: Quantization | None = None) -> Graph:
    b = GraphBuilder()
    x = b.tensor("x", shape, dtype, q)
    a = b.const("axis", np.array(axis, np.int32))
    red = {d % len(shape) for d in axis}
    out = tuple(1 if i in red else d for i, d in enumerate(shape)) if keep else \
        tuple(d for i, d in enumerate(shape) if i not in red)
    y = b.tensor("y", out, dtype, q_out if q_out is not None else q)
    b.op("REDUCE_MIN", [x, a], [y], keep_dims=keep)
    return b.build([x], [y])


def test_literal() -> None:
    g = reduce_graph((2, 3), [1], False, "int8", qparams(0.1, 3))
    x = np.array([[5, -2, 7], [0, 9, 1]], np.int8)
    np.testing.assert_array_equal(check_tflm(g, [x])[0], [-2, 0])
    with pytest.raises(OpError, match="quantized as the input"):
        run_model(reduce_graph((2, 3), [1], False, "int8", qparams(0.1, 3), qparams(0.2, 3)), [x])


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_random_against_tflm(dtype: str) -> None:
    rng = np.random.default_rng(1)
    for _ in range(5):
        shape = tuple(int(d) for d in rng.integers(1, 5, rng.integers(1, 5)))
        axis = sorted({int(a) for a in rng.integers(-len(shape), len(shape), len(shape))})
        q = qparams(0.05, int(rng.integers(-10, 10))) if dtype == "int8" else None
        x = rng.integers(-128, 128, shape).astype(np.int8) if dtype == "int8" else \
            rng.standard_normal(shape).astype(np.float32)
        g = reduce_graph(shape, axis, bool(rng.integers(0, 2)), dtype, q)
        got = check_tflm(g, [x], f"{shape} {axis}")[0]
        want = x.min(axis=tuple(sorted({a % len(shape) for a in axis})))
        np.testing.assert_array_equal(got.reshape(-1), want.reshape(-1))
