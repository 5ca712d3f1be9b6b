"""EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL, LOGICAL_AND/OR/NOT: literal cases,
then random one-op models against TFLM (bool outputs compared exactly)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph, Quantization
from edgecraft.ops import OpError
from edgecraft.runtime import run_model
from oracle import check_tflm

COMPARE = ["EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL"]
NUMPY = {"EQUAL": np.equal, "NOT_EQUAL": np.not_equal, "LESS": np.less, "LESS_EQUAL": np.less_equal,
         "GREATER": np.greater, "GREATER_EQUAL": np.greater_equal}


def pair_graph(op: str, s1: tuple[int, ...], s2: tuple[int, ...], dtype: str,
               q: tuple[Quantization | None, Quantization | None] = (None, None)) -> Graph:
    b = GraphBuilder()
    x = b.tensor("x", s1, dtype, q[0])
    y = b.tensor("y", s2, dtype, q[1])
    z = b.tensor("z", np.broadcast_shapes(s1, s2), "bool")
    b.op(op, [x, y], [z])
    return b.build([x, y], [z])


def test_literal_int8_compares_real_values() -> None:
    # x: scale 0.5 zp 0 -> [1, 2, 3]; y: scale 0.25 zp 0 -> [1, 2, 2.5]: equal, equal, greater.
    g = pair_graph("GREATER", (3,), (3,), "int8", (qparams(0.5, 0), qparams(0.25, 0)))
    x, y = np.array([2, 4, 6], np.int8), np.array([4, 8, 10], np.int8)
    np.testing.assert_array_equal(check_tflm(g, [x, y])[0], [False, False, True])
    g = pair_graph("EQUAL", (3,), (3,), "int8", (qparams(0.5, 0), qparams(0.25, 0)))
    np.testing.assert_array_equal(check_tflm(g, [x, y])[0], [True, True, False])


def test_literal_int32_broadcast_and_logical() -> None:
    g = pair_graph("LESS_EQUAL", (2, 1), (3,), "int32")
    got = run_model(g, [np.array([[1], [5]], np.int32), np.array([0, 1, 9], np.int32)])[0]
    np.testing.assert_array_equal(got, [[False, True, True], [False, False, True]])
    a, b = np.array([True, True, False, False]), np.array([True, False, True, False])
    np.testing.assert_array_equal(check_tflm(pair_graph("LOGICAL_AND", (4,), (4,), "bool"), [a, b])[0],
                                  [True, False, False, False])
    np.testing.assert_array_equal(check_tflm(pair_graph("LOGICAL_OR", (4,), (4,), "bool"), [a, b])[0],
                                  [True, True, True, False])


def _values(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype == "float32":  # few distinct values so equality happens
        return (rng.integers(-4, 4, shape) * 0.5).astype(np.float32)
    lo, hi = (-128, 128) if dtype == "int8" else (-6, 6)
    big = 1 << 40 if dtype == "int64" else 0
    return (rng.integers(lo, hi, shape) + big).astype(dtype)


@pytest.mark.parametrize("op", COMPARE)
def test_random_against_tflm(op: str) -> None:
    rng = np.random.default_rng(len(op))
    dtypes = ["int8", "int32", "int64", "float32"] + (["bool"] if op in ("EQUAL", "NOT_EQUAL") else [])
    for case in range(5):
        for dtype in dtypes:
            s1 = tuple(int(d) for d in rng.integers(1, 4, rng.integers(1, 5)))
            s2 = s1[rng.integers(0, len(s1)):] if case % 2 else s1
            q = (qparams(float(rng.uniform(0.01, 0.2)), int(rng.integers(-20, 20))),
                 qparams(float(rng.uniform(0.01, 0.2)), int(rng.integers(-20, 20)))) if dtype == "int8" \
                else (None, None)
            g = pair_graph(op, s1, s2, dtype, q)
            x, y = _values(rng, s1, dtype), _values(rng, s2, dtype)
            got = check_tflm(g, [x, y], f"{op} {dtype} {s1} {s2}")[0]
            if dtype != "int8":
                np.testing.assert_array_equal(got, NUMPY[op](x, y))


@pytest.mark.parametrize("op", ["LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT"])
def test_random_logical_against_tflm(op: str) -> None:
    rng = np.random.default_rng(7)
    for _ in range(4):
        s1 = tuple(int(d) for d in rng.integers(1, 4, rng.integers(1, 5)))
        if op == "LOGICAL_NOT":
            b = GraphBuilder()
            x, z = b.tensor("x", s1, "bool"), b.tensor("z", s1, "bool")
            b.op(op, [x], [z])
            xs = [_values(rng, s1, "bool")]
            np.testing.assert_array_equal(check_tflm(b.build([x], [z]), xs, op)[0], ~xs[0])
            continue
        s2 = s1[rng.integers(0, len(s1)):]
        check_tflm(pair_graph(op, s1, s2, "bool"), [_values(rng, s1, "bool"), _values(rng, s2, "bool")], op)


def test_refusals() -> None:
    # TFLM's QuantizeMultiplierSmallerThanOneExp aborts on an int8 scale of 1 or more.
    g = pair_graph("LESS", (2,), (2,), "int8", (qparams(1.5, 0), qparams(0.1, 0)))
    with pytest.raises(OpError, match="scales below 1"):
        run_model(g, [np.zeros(2, np.int8), np.zeros(2, np.int8)])
    with pytest.raises(OpError, match="no int16 kernel"):
        run_model(pair_graph("GREATER", (2,), (2,), "int16", (qparams(0.1), qparams(0.1))),
                  [np.zeros(2, np.int16), np.zeros(2, np.int16)])

