"""QUANTIZE and DEQUANTIZE: literal cases, then random ones against TFLM (and LiteRT for uint8)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import write_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph, Quantization
from edgecraft.ops import OpError
from edgecraft.reference import run_tflm
from edgecraft.runtime import run_model
from oracle import check_litert, check_tflm


def unary_graph(op: str, shape: tuple[int, ...], dtype_in: str, dtype_out: str,
                q_in: Quantization | None, q_out: Quantization | None) -> Graph:
    b = GraphBuilder()
    x = b.tensor("x", shape, dtype_in, q_in)
    y = b.tensor("y", shape, dtype_out, q_out)
    b.op(op, [x], [y])
    return b.build([x], [y])


def test_literal_quantize_float_to_int8() -> None:
    # x / 0.5 = [0.5, -0.5, 1.5, 200, -2]: halves round away from zero, then + zp 1, saturate.
    x = np.array([0.25, -0.25, 0.75, 100.0, -1.0], np.float32)
    g = unary_graph("QUANTIZE", x.shape, "float32", "int8", None, qparams(0.5, 1))
    want = np.array([2, 0, 3, 127, -1], np.int8)
    np.testing.assert_array_equal(run_model(g, [x])[0], want)
    np.testing.assert_array_equal(check_tflm(g, [x])[0], want)


def test_literal_requantize_int8() -> None:
    # (x - 0) * 0.5 = [1.5, -1.5, 2.5, 2], + zp 3. The multiplier 0.5 is 2**30 with no right
    # shift, so SaturatingRoundingDoublingHighMul alone rounds, and it sends ties up: -1.5 -> -1.
    x = np.array([3, -3, 5, 4], np.int8)
    g = unary_graph("QUANTIZE", x.shape, "int8", "int8", qparams(0.5, 0), qparams(1.0, 3))
    want = np.array([5, 2, 6, 5], np.int8)
    np.testing.assert_array_equal(run_model(g, [x])[0], want)
    np.testing.assert_array_equal(check_tflm(g, [x])[0], want)


def test_literal_dequantize() -> None:
    x = np.array([1, 3, -1, 127], np.int8)
    g = unary_graph("DEQUANTIZE", x.shape, "int8", "float32", qparams(0.5, 1), None)
    assert run_model(g, [x])[0].tolist() == [0.0, 1.0, -1.0, 63.0]


def test_literal_dequantize_per_channel() -> None:
    b = GraphBuilder()
    w = b.const("w", np.array([[2, 2], [-4, 4]], np.int8), qparams([0.5, 0.25], [0, 2], axis=1))
    y = b.tensor("y", (2, 2), "float32")
    b.op("DEQUANTIZE", [w], [y])
    g = b.build([], [y])
    assert run_model(g, [])[0].tolist() == [[1.0, 0.0], [-2.0, 0.5]]


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def random_shape(rng: np.random.Generator) -> tuple[int, ...]:
    return tuple(int(d) for d in rng.integers(1, 7, int(rng.integers(1, 5))))


def random_q(rng: np.random.Generator, dtype: str, scale: float) -> Quantization:
    if dtype in ("int16", "int32"):
        return qparams(scale, 0)
    lo, hi = (0, 256) if dtype == "uint8" else (-100, 100)
    return qparams(scale, int(rng.integers(lo, hi)))


def random_ints(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    info = np.iinfo(np.dtype(dtype))
    lo, hi = (-100_000, 100_000) if dtype == "int32" else (info.min, info.max + 1)
    return rng.integers(lo, hi, shape).astype(dtype)


# (input dtype, output dtype) pairs TFLM's QUANTIZE supports.
PAIRS = [("float32", "int8"), ("float32", "int16"), ("int8", "int8"), ("int8", "uint8"), ("uint8", "int8"),
         ("int8", "int16"), ("int8", "int32"), ("int16", "int8"), ("int16", "int16"), ("int16", "int32"),
         ("int32", "int8"), ("int32", "int16")]


@pytest.mark.parametrize(("dtype_in", "dtype_out"), PAIRS)
def test_quantize_random_vs_tflm(dtype_in: str, dtype_out: str) -> None:
    rng = np.random.default_rng(sum(map(ord, dtype_in + dtype_out)))
    for case in range(40 if "int8" in (dtype_in, dtype_out) else 10):
        shape = random_shape(rng)
        s_out = log_uniform(rng, 0.002, 0.2)
        q_out = random_q(rng, dtype_out, s_out)
        if dtype_in == "float32":
            q_in = None
            bound = 127 if dtype_out == "int8" else 32767
            x = (rng.normal(0, 0.4, shape) * s_out * bound).astype(np.float32)
            x.flat[0] = np.float32(2.5 * s_out)  # an exact half: rounds away from zero
        else:
            # Keep the rescaled range near the output type's so that not everything saturates.
            bits_in = np.iinfo(np.dtype(dtype_in)).bits if dtype_in != "int32" else 18
            bits_out = np.iinfo(np.dtype(dtype_out)).bits
            ratio = 2.0 ** (bits_out - bits_in) * rng.uniform(0.3, 3)
            q_in = random_q(rng, dtype_in, s_out * ratio)
            x = random_ints(rng, shape, dtype_in)
        g = unary_graph("QUANTIZE", shape, dtype_in, dtype_out, q_in, q_out)
        check_tflm(g, [x], f"QUANTIZE {dtype_in}->{dtype_out} case {case}")


@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_dequantize_random_vs_tflm(dtype: str) -> None:
    rng = np.random.default_rng(sum(map(ord, dtype)))
    for case in range(30):
        shape = random_shape(rng)
        q = random_q(rng, dtype, log_uniform(rng, 1e-4, 1))
        g = unary_graph("DEQUANTIZE", shape, dtype, "float32", q, None)
        x = random_ints(rng, shape, dtype)
        ours, ref = run_model(g, [x])[0], run_tflm(write_tflite(g), [x])[0]
        np.testing.assert_array_equal(ours, ref, err_msg=f"DEQUANTIZE {dtype} case {case}")  # bit-exact


def test_dequantize_uint8_vs_litert() -> None:
    # TFLM has no uint8 DEQUANTIZE; LiteRT computes in float32, so agreement is to 1 ulp.
    rng = np.random.default_rng(8)
    g = unary_graph("DEQUANTIZE", (3, 5), "uint8", "float32", qparams(0.037, 128), None)
    check_litert(g, [rng.integers(0, 256, (3, 5)).astype(np.uint8)], rtol=1e-6)


def test_errors_say_what_is_wrong() -> None:
    g = unary_graph("QUANTIZE", (2,), "float32", "int8", None, qparams([0.1, 0.2], 0))
    with pytest.raises(OpError, match="per-tensor"):
        run_model(g, [np.zeros(2, np.float32)])
    g = unary_graph("DEQUANTIZE", (2,), "int8", "float32", None, None)
    with pytest.raises(OpError, match="no quantization parameters"):
        run_model(g, [np.zeros(2, np.int8)])
