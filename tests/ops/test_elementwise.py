"""ADD, SUB, MUL, MAXIMUM, MINIMUM: literal cases, then random ones against TFLM and LiteRT."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph, Quantization
from edgecraft.ops import OpError, get_op
from edgecraft.ops.base import OpContext
from edgecraft.ops.quant import quantized_activation_range
from edgecraft.runtime import run_model
from oracle import check_litert, check_tflm

ACTIVATIONS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]
BINARY = ["ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM"]


def binary_graph(op: str, shape1: tuple[int, ...], shape2: tuple[int, ...], dtype: str,
                 quants: tuple[Quantization | None, ...] = (None, None, None), **attrs: object) -> Graph:
    b = GraphBuilder()
    x = b.tensor("x", shape1, dtype, quants[0])
    y = b.tensor("y", shape2, dtype, quants[1])
    z = b.tensor("z", np.broadcast_shapes(shape1, shape2), dtype, quants[2])
    b.op(op, [x, y], [z], **attrs)
    return b.build([x, y], [z])


def q8(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int8)


# --- hand-checkable cases: scale 0.5 everywhere, zero points 0, so the int8 math is exact ---

HALF = qparams(0.5, 0)
RELU = {"fused_activation_function": "RELU"}
RELU6 = {"fused_activation_function": "RELU6"}
LITERAL = [
    # op, attrs, x, y, output scale, expected
    ("ADD", {}, q8(1, 2, -3, 100), q8(4, -5, 6, 100), 0.5, q8(5, -3, 3, 127)),
    ("ADD", RELU, q8(1, 2, -3, 100), q8(4, -5, 6, 100), 0.5, q8(5, 0, 3, 127)),
    # Output scale 1.0 halves the sums 5, -3, 3, 9: 2.5 -> 3, -1.5 -> -2, 1.5 -> 2, 4.5 -> 5.
    ("ADD", {}, q8(1, 2, -3, 4), q8(4, -5, 6, 5), 1.0, q8(3, -2, 2, 5)),
    ("SUB", {}, q8(1, 2, -3, 100), q8(4, -5, 6, -100), 0.5, q8(-3, 7, -9, 127)),
    ("MUL", {}, q8(1, 2, -3, 20), q8(4, -5, 6, 10), 0.25, q8(4, -10, -18, 127)),
    ("MUL", RELU6, q8(1, 2, -3, 20), q8(4, -5, 6, 10), 0.25, q8(4, 0, 0, 24)),
    ("MAXIMUM", {}, q8(1, 2, -3, 100), q8(4, -5, 6, 100), 0.5, q8(4, 2, 6, 100)),
    ("MINIMUM", {}, q8(1, 2, -3, 100), q8(4, -5, 6, 100), 0.5, q8(1, -5, -3, 100)),
]


@pytest.mark.parametrize(("op", "attrs", "x", "y", "out_scale", "want"), LITERAL)
def test_literal_int8(op: str, attrs: dict, x: np.ndarray, y: np.ndarray, out_scale: float,
                      want: np.ndarray) -> None:
    g = binary_graph(op, x.shape, y.shape, "int8", (HALF, HALF, qparams(out_scale, 0)), **attrs)
    np.testing.assert_array_equal(run_model(g, [x, y])[0], want)
    np.testing.assert_array_equal(check_tflm(g, [x, y], op)[0], want)


@pytest.mark.parametrize(("op", "y"), [("ADD", 5), ("SUB", -5)])
def test_multipliers_are_computed_in_double(op: str, y: int) -> None:
    # With these scales, multipliers computed in float32 give 30; TFLM (double) gives 29.
    quants = (qparams(0.010627319104969501), qparams(0.06646722555160522), qparams(0.002259430941194296))
    g = binary_graph(op, (1,), (1,), "int8", quants)
    np.testing.assert_array_equal(check_tflm(g, [q8(-25), q8(y)], op)[0], q8(29))


def test_literal_broadcast_add_with_zero_points() -> None:
    # x - zp = [[1], [2]], y - zp = [10, 20, 30]; sums / 1 + out zp 3.
    g = binary_graph("ADD", (2, 1), (3,), "int8", (qparams(1.0, 5), qparams(1.0, -4), qparams(1.0, 3)))
    got = run_model(g, [np.array([[6], [7]], np.int8), q8(6, 16, 26)])[0]
    np.testing.assert_array_equal(got, np.array([[14, 24, 34], [15, 25, 35]], np.int8))


def test_literal_float() -> None:
    x, y = np.array([1.5, -2.0, 7.0], np.float32), np.array([0.5, 1.0, -1.0], np.float32)
    g = binary_graph("SUB", (3,), (3,), "float32", fused_activation_function="RELU6")
    np.testing.assert_array_equal(run_model(g, [x, y])[0], np.array([1.0, 0.0, 6.0], np.float32))


# --- random cases ---

def random_shapes(rng: np.random.Generator, max_rank: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes that broadcast: trailing parts of one full shape, with some dimensions set to 1."""
    rank = int(rng.integers(1, max_rank + 1))
    full = rng.integers(1, 6, rank)

    def operand() -> tuple[int, ...]:
        r = int(rng.integers(1, rank + 1))
        s = full[rank - r:].copy()
        s[rng.random(r) < 0.3] = 1
        return tuple(int(d) for d in s)

    return operand(), operand()


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def random_quants(rng: np.random.Generator, op: str, dtype: str) -> tuple[Quantization, ...]:
    """Scales that keep most outputs inside the int8 range; zero points anywhere sensible."""
    s1, s2 = log_uniform(rng, 0.002, 0.2), log_uniform(rng, 0.002, 0.2)
    bound = 127 if dtype == "int8" else 32767
    if op == "MUL":  # mostly multipliers below 1; sometimes above, which shifts left first
        s_out = s1 * s2 * (bound * rng.uniform(0.05, 0.6) if rng.random() < 0.85 else rng.uniform(0.3, 0.9))
    elif op in ("ADD", "SUB"):
        s_out = max(s1, s2) * rng.uniform(0.6, 2.5)
    else:
        s_out = s1 = s2  # MAXIMUM/MINIMUM compare stored values: one quantization for all
    if dtype == "int16":  # TFLM's int16 kernels want zero points of 0
        return qparams(s1, 0), qparams(s2, 0), qparams(s_out, 0)
    zp = rng.integers(-60, 61, 3)
    if op in ("MAXIMUM", "MINIMUM"):
        zp[:] = zp[0]
    return qparams(s1, zp[0]), qparams(s2, zp[1]), qparams(s_out, zp[2])


def random_input(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    if dtype == "float32":
        return rng.normal(0, 3, shape).astype(np.float32)
    info = np.iinfo(np.dtype(dtype))
    lo, hi = (info.min, info.max + 1) if dtype != "int32" else (-1000, 1000)
    return rng.integers(lo, hi, shape).astype(dtype)


@pytest.mark.parametrize("op", BINARY)
def test_int8_random_vs_tflm(op: str) -> None:
    rng = np.random.default_rng(sum(map(ord, op)))
    for case in range(40):
        shape1, shape2 = random_shapes(rng, 5 if case % 4 == 0 else 4)
        attrs = {} if op in ("MAXIMUM", "MINIMUM") else {"fused_activation_function": ACTIVATIONS[case % 4]}
        g = binary_graph(op, shape1, shape2, "int8", random_quants(rng, op, "int8"), **attrs)
        inputs = [random_input(rng, shape1, "int8"), random_input(rng, shape2, "int8")]
        check_tflm(g, inputs, f"{op} case {case} {shape1} {shape2} {attrs}")


@pytest.mark.parametrize(("op", "dtype"), [("ADD", "int16"), ("SUB", "int16"), ("MUL", "int16"),
                                           ("MAXIMUM", "int16"), ("MINIMUM", "int16"),
                                           ("ADD", "int32"), ("SUB", "int32"), ("MUL", "int32"),
                                           ("MAXIMUM", "int32"), ("MINIMUM", "int32")])
def test_wider_ints_random_vs_tflm(op: str, dtype: str) -> None:
    rng = np.random.default_rng(sum(map(ord, op + dtype)))
    for case in range(8):
        shape1, shape2 = random_shapes(rng, 4)
        quants = random_quants(rng, op, dtype) if dtype == "int16" else (None, None, None)
        attrs = {"fused_activation_function": ACTIVATIONS[case % 2]} if dtype == "int16" and op in (
            "ADD", "SUB", "MUL") else {}
        g = binary_graph(op, shape1, shape2, dtype, quants, **attrs)
        inputs = [random_input(rng, shape1, dtype), random_input(rng, shape2, dtype)]
        check_tflm(g, inputs, f"{op} {dtype} case {case} {shape1} {shape2}")


@pytest.mark.parametrize("op", BINARY)
def test_float_random_vs_litert(op: str) -> None:
    rng = np.random.default_rng(sum(map(ord, op)) + 1)
    for case in range(12):
        shape1, shape2 = random_shapes(rng, 4)
        attrs = {} if op in ("MAXIMUM", "MINIMUM") else {"fused_activation_function": ACTIVATIONS[case % 4]}
        g = binary_graph(op, shape1, shape2, "float32", **attrs)
        inputs = [random_input(rng, shape1, "float32"), random_input(rng, shape2, "float32")]
        check_litert(g, inputs, label=f"{op} case {case} {shape1} {shape2}")


def test_shape_errors_say_what_is_wrong() -> None:
    g = binary_graph("ADD", (2, 3), (3,), "float32")
    g.tensors[1].shape = (4,)
    with pytest.raises(OpError, match="do not broadcast"):
        get_op("ADD").shape(OpContext(g.operators[0], g))
    g = binary_graph("MAXIMUM", (1, 1, 1, 1, 1, 2), (2,), "float32")
    with pytest.raises(OpError, match="at most 5"):
        get_op("MAXIMUM").shape(OpContext(g.operators[0], g))
    g = binary_graph("ADD", (2,), (2,), "int32", fused_activation_function="RELU")
    with pytest.raises(OpError, match="supports no fused activation"):
        get_op("ADD").shape(OpContext(g.operators[0], g))
    g = binary_graph("MUL", (2,), (2,), "float32", fused_activation_function="TANH")
    with pytest.raises(OpError, match="TANH is not supported"):
        get_op("MUL").shape(OpContext(g.operators[0], g))


def test_cost_counts_one_mac_per_output_element() -> None:
    g = binary_graph("MUL", (2, 1, 4), (3, 1), "int8", (HALF, HALF, HALF))
    cost = get_op("MUL").cost(OpContext(g.operators[0], g))
    assert (cost.macs, cost.bytes_read, cost.bytes_written) == (24, 11, 24)


def test_quantized_add_with_a_float_output_is_refused() -> None:
    """int8 inputs and a float32 output (a damaged file: one flipped type byte): one OpError,
    where numpy's "Invalid integer data type" used to escape from the clamp's computation."""
    g = GraphBuilder()
    a, b = (g.tensor(n, (4,), "int8", qparams(0.1, 0)) for n in "ab")
    y = g.tensor("y", (4,), "float32")
    g.op("ADD", [a, b], [y], fused_activation_function="NONE")
    graph = g.build([a, b], [y])
    with pytest.raises(OpError, match="ADD with int8 inputs needs a int8 output, got float32"):
        run_model(graph, [np.zeros(4, np.int8)] * 2)
    with pytest.raises(OpError, match="output must be an integer type like its inputs, got float32"):
        quantized_activation_range("RELU", 0.1, 0, "float32")  # every quantized kernel's clamp


def test_quantized_add_with_an_unquantized_output_is_refused() -> None:
    """An int8 output without quantization parameters (scale 0): one OpError, where a
    ZeroDivisionError used to escape from the multipliers (found by scripts/fuzz_models.py)."""
    g = GraphBuilder()
    a, b = (g.tensor(n, (4,), "int8", qparams(0.1, 0)) for n in "ab")
    y = g.tensor("y", (4,), "int8")
    g.op("ADD", [a, b], [y], fused_activation_function="NONE")
    with pytest.raises(OpError, match="divides by a quantization scale of 0"):
        run_model(g.build([a, b], [y]), [np.zeros(4, np.int8)] * 2)
