"""RELU, RELU6, LEAKY_RELU: literal cases, then random ones against TFLM and LiteRT."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph, Quantization
from edgecraft.runtime import run_model
from oracle import check_litert, check_tflm


def unary_graph(op: str, shape: tuple[int, ...], dtype: str, q_in: Quantization | None = None,
                q_out: Quantization | None = None, **attrs: object) -> Graph:
    b = GraphBuilder()
    x = b.tensor("x", shape, dtype, q_in)
    y = b.tensor("y", shape, dtype, q_out)
    b.op(op, [x], [y], **attrs)
    return b.build([x], [y])


def q8(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int8)


LITERAL = [
    # RELU rescales (0.5, zp 2) -> (1.0, zp -1): real [-1, 0, 1.5, 2.5, 62.5], then clamp at zp -1.
    ("RELU", {}, qparams(0.5, 2), qparams(1.0, -1), q8(0, 2, 5, 7, 127), q8(-1, -1, 1, 2, 62)),
    # RELU6 clamps stored values between zp 2 and round(6 / 0.5) + 2 = 14.
    ("RELU6", {}, qparams(0.5, 2), qparams(0.5, 2), q8(-5, 1, 2, 10, 14, 15), q8(2, 2, 2, 10, 14, 14)),
    # LEAKY_RELU alpha 0.25, (0.5, zp 0) -> (0.25, zp -10): real [2, -1, 0, 10, -12.5].
    ("LEAKY_RELU", {"alpha": 0.25}, qparams(0.5, 0), qparams(0.25, -10), q8(4, -8, 0, 20, -100),
     q8(-2, -14, -10, 30, -60)),
]


@pytest.mark.parametrize(("op", "attrs", "q_in", "q_out", "x", "want"), LITERAL)
def test_literal_int8(op: str, attrs: dict, q_in: Quantization, q_out: Quantization, x: np.ndarray,
                      want: np.ndarray) -> None:
    g = unary_graph(op, x.shape, "int8", q_in, q_out, **attrs)
    np.testing.assert_array_equal(run_model(g, [x])[0], want)
    np.testing.assert_array_equal(check_tflm(g, [x], op)[0], want)


@pytest.mark.parametrize(("s_in", "s_out", "alpha", "x", "want"), [
    (0.03609061613678932, 0.021601682528853416, 0.43539708852767944, 41, 69),
    (0.309008926153183, 0.06949272751808167, 0.6414449214935303, -44, -125),
])
def test_leaky_relu_multipliers_are_computed_in_double(s_in: float, s_out: float, alpha: float, x: int,
                                                       want: int) -> None:
    # Multipliers computed in float32 would give 68 and -126 here.
    g = unary_graph("LEAKY_RELU", (1,), "int8", qparams(s_in), qparams(s_out), alpha=alpha)
    np.testing.assert_array_equal(check_tflm(g, [q8(x)], "LEAKY_RELU")[0], q8(want))


def test_literal_float() -> None:
    x = np.array([-2.0, 0.5, 7.0], np.float32)
    assert run_model(unary_graph("RELU", (3,), "float32"), [x])[0].tolist() == [0.0, 0.5, 7.0]
    assert run_model(unary_graph("RELU6", (3,), "float32"), [x])[0].tolist() == [0.0, 0.5, 6.0]
    got = run_model(unary_graph("LEAKY_RELU", (3,), "float32", alpha=0.5), [x])[0]
    assert got.tolist() == [-1.0, 0.5, 7.0]


def random_shape(rng: np.random.Generator) -> tuple[int, ...]:
    return tuple(int(d) for d in rng.integers(1, 7, int(rng.integers(1, 5))))


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


@pytest.mark.parametrize("op", ["RELU", "RELU6", "LEAKY_RELU"])
@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_random_vs_tflm(op: str, dtype: str) -> None:
    rng = np.random.default_rng(sum(map(ord, op + dtype)))
    info = np.iinfo(np.dtype(dtype))
    for case in range(40 if dtype == "int8" else 10):
        shape = random_shape(rng)
        s_in = log_uniform(rng, 0.005, 0.1)
        s_out = s_in * rng.uniform(0.3, 1.5)
        zp_in, zp_out = (0, 0) if dtype == "int16" else (int(z) for z in rng.integers(-100, 100, 2))
        if op == "RELU6":  # TFLM's RELU6 keeps the input quantization
            s_out, zp_out = s_in, zp_in
        attrs = {"alpha": float(rng.uniform(-0.5, 1.5))} if op == "LEAKY_RELU" else {}
        g = unary_graph(op, shape, dtype, qparams(s_in, zp_in), qparams(s_out, zp_out), **attrs)
        x = rng.integers(info.min, info.max + 1, shape).astype(dtype)
        check_tflm(g, [x], f"{op} {dtype} case {case} s {s_in:g}->{s_out:g} {attrs}")


@pytest.mark.parametrize("op", ["RELU", "RELU6", "LEAKY_RELU"])
def test_float_random_vs_litert(op: str) -> None:
    rng = np.random.default_rng(sum(map(ord, op)) + 1)
    for case in range(10):
        shape = random_shape(rng)
        attrs = {"alpha": float(rng.uniform(-0.5, 1.5))} if op == "LEAKY_RELU" else {}
        x = rng.normal(0, 5, shape).astype(np.float32)
        check_litert(unary_graph(op, shape, "float32", **attrs), [x], label=f"{op} case {case}")
