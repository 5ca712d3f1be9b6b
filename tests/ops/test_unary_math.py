"""ABS, NEG, SQUARE, LOG, SIN, COS, FLOOR, CEIL, ROUND: literal cases, then random one-op
models against TFLM (integers exact; float32 exact where TFLM's arithmetic is exact, else within
an ulp-sized tolerance)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import write_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph, Quantization
from edgecraft.reference import run_tflm
from edgecraft.runtime import run_model
from oracle import check_tflm

EXACT = {"ABS": np.abs, "NEG": np.negative, "SQUARE": np.square, "FLOOR": np.floor, "CEIL": np.ceil,
         "ROUND": np.round}
TRANSCENDENTAL = ["LOG", "SIN", "COS"]


def unary_graph(op: str, shape: tuple[int, ...], dtype: str, q_in: Quantization | None = None,
                q_out: Quantization | None = None) -> Graph:
    b = GraphBuilder()
    x, y = b.tensor("x", shape, dtype, q_in), b.tensor("y", shape, dtype, q_out)
    b.op(op, [x], [y])
    return b.build([x], [y])


def test_literal_float() -> None:
    x = np.array([-2.5, -0.5, 0.5, 1.5, 2.5, 3.7], np.float32)
    want = {"ROUND": [-2, -0, 0, 2, 2, 4], "FLOOR": [-3, -1, 0, 1, 2, 3], "CEIL": [-2, -0, 1, 2, 3, 4],
            "ABS": [2.5, 0.5, 0.5, 1.5, 2.5, 3.7], "NEG": [2.5, 0.5, -0.5, -1.5, -2.5, -3.7]}
    for op, values in want.items():
        got = check_tflm(unary_graph(op, (6,), "float32"), [x], op)[0]
        np.testing.assert_array_equal(got, np.array(values, np.float32), err_msg=op)


def test_literal_abs_int8_rescaled() -> None:
    # in (0.5, zp 2) -> out (0.25, zp -10): |x - 2| * 2 - 10, clamped to 127.
    g = unary_graph("ABS", (5,), "int8", qparams(0.5, 2), qparams(0.25, -10))
    x = np.array([2, 0, 7, -100, 127], np.int8)
    np.testing.assert_array_equal(check_tflm(g, [x])[0], np.array([-10, -6, 0, 127, 127], np.int8))


def test_abs_int16_unquantized_wraps() -> None:
    g = unary_graph("ABS", (3,), "int16")
    x = np.array([-32768, -5, 7], np.int16)
    np.testing.assert_array_equal(check_tflm(g, [x])[0], np.array([-32768, 5, 7], np.int16))


@pytest.mark.parametrize("op", sorted(EXACT))
def test_random_exact_float_against_tflm(op: str) -> None:
    rng = np.random.default_rng(len(op))
    for _ in range(3):
        shape = tuple(int(d) for d in rng.integers(1, 5, rng.integers(1, 4)))
        x = (rng.standard_normal(shape) * 10).astype(np.float32)
        x.flat[0] = 0.5  # a tie for ROUND
        got = check_tflm(unary_graph(op, shape, "float32"), [x], op)[0]
        np.testing.assert_array_equal(got, EXACT[op](x).astype(np.float32))


@pytest.mark.parametrize("op", TRANSCENDENTAL)
def test_random_transcendental_against_tflm(op: str) -> None:
    rng = np.random.default_rng(3)
    shape = (4, 25)
    x = rng.uniform(1e-3, 20, shape).astype(np.float32)
    g = unary_graph(op, shape, "float32")
    ours, spec = run_model(g, [x])[0], run_model(g, [x], reference=True)[0]
    want = run_tflm(write_tflite(g), [x])[0]
    np.testing.assert_array_equal(ours, spec)
    np.testing.assert_allclose(ours, want, rtol=1e-6, atol=1e-7)
    # within one ulp of the C library everywhere
    assert np.all(np.abs(ours.view(np.int32) - want.view(np.int32)) <= 1)


def test_random_abs_quantized_against_tflm() -> None:
    rng = np.random.default_rng(11)
    for _ in range(4):
        shape = tuple(int(d) for d in rng.integers(1, 5, 3))
        q_in = qparams(float(rng.uniform(0.01, 0.1)), int(rng.integers(-30, 30)))
        q_out = qparams(float(rng.uniform(0.01, 0.1)), int(rng.integers(-30, 30)))
        x = rng.integers(-128, 128, shape).astype(np.int8)
        check_tflm(unary_graph("ABS", shape, "int8", q_in, q_out), [x], "ABS int8")
        x16 = rng.integers(-32768, 32768, shape).astype(np.int16)
        q16 = (qparams(float(rng.uniform(0.01, 0.1)), 0), qparams(float(rng.uniform(0.01, 0.1)), 0))
        check_tflm(unary_graph("ABS", shape, "int16", *q16), [x16], "ABS int16")


def test_build_names_an_op_without_c_kernel() -> None:
    from edgecraft.codegen import generate
    from edgecraft.codegen.ops_c import CodegenError

    graph = unary_graph("ROUND", (4,), "float32")
    graph.operators[0].type = "NO_SUCH_OP"
    with pytest.raises(CodegenError, match="no C kernel for NO_SUCH_OP"):
        generate(graph)
    q = (qparams(0.05, 0), qparams(16 / 256, 127))
    with pytest.raises(CodegenError, match=r"LOG_SOFTMAX with int8 input has no C kernel \(C: float32\)"):
        generate(unary_graph("LOG_SOFTMAX", (4,), "int8", *q))
