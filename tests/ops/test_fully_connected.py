"""FULLY_CONNECTED: a hand-checked case, randomized int8 cases against TFLM (per tensor and per
channel), the float32-product detail of TFLM's multiplier, float cases against LiteRT."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import write_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ops import OpContext, get_op
from edgecraft.ops.arith import quantize_multiplier
from edgecraft.ops.conv_common import requantize
from edgecraft.reference import run_tflm
from edgecraft.runtime import run_model
from oracle import check_litert, check_tflm

ACTIVATIONS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


def fc_graph(x_shape, w, w_q, bias, bias_q, in_q, out_q, act="NONE", keep=False, dtype="int8"):
    units, depth = w.shape
    out_shape = (*x_shape[:-1], units) if keep else (int(np.prod(x_shape)) // depth, units)
    b = GraphBuilder()
    x = b.tensor("x", x_shape, dtype, in_q)
    wi = b.const("w", w, w_q)
    inputs = [x, wi] + ([b.const("b", bias, bias_q)] if bias is not None else [])
    y = b.tensor("y", out_shape, dtype, out_q)
    b.op("FULLY_CONNECTED", inputs, [y], fused_activation_function=act, keep_num_dims=keep)
    return b.build([x], [y])


def test_hand_case() -> None:
    # Rows [1,2,3] and [-1,0,1] after the zero point 2; W = [[1,1,1],[2,0,-1]]; bias [4,0];
    # multiplier 1*1/2; output zp 1. Sums 10, -1, 4, -3 halve to 5, -0.5, 2, -1.5; the
    # doubling high multiply rounds ties upward, so -0.5 -> 0 and -1.5 -> -1; plus 1.
    g = fc_graph((2, 3), np.array([[1, 1, 1], [2, 0, -1]], np.int8), qparams(1.0),
                 np.array([4, 0], np.int32), qparams(1.0), qparams(1.0, 2), qparams(2.0, 1))
    xq = np.array([[3, 4, 5], [1, 2, 3]], np.int8)
    (out,) = run_model(g, [xq])
    assert out.tolist() == [[6, 1], [3, 0]]
    check_tflm(g, [xq], "hand")
    cost = get_op("FULLY_CONNECTED").cost(OpContext(g.operators[0], g))
    assert (cost.macs, cost.bytes_read, cost.bytes_written) == (12, 6 + 6 + 8, 4)


def random_fc(rng: np.random.Generator, dtype: str):
    depth, units = int(rng.integers(1, 65)), int(rng.integers(1, 17))
    lead = [tuple(), (int(rng.integers(1, 5)),), (int(rng.integers(1, 4)), int(rng.integers(1, 4)))]
    x_shape = (*lead[int(rng.integers(0, 3))], depth)
    keep = len(x_shape) > 1 and rng.random() < 0.4
    act = str(rng.choice(ACTIVATIONS))
    has_bias = rng.random() < 0.7
    if dtype == "float32":
        g = fc_graph(x_shape, rng.standard_normal((units, depth)).astype(np.float32), None,
                     rng.standard_normal(units).astype(np.float32) if has_bias else None, None,
                     None, None, act, keep, "float32")
        return g, rng.standard_normal(x_shape).astype(np.float32), f"{x_shape} u{units} {act}"
    s_in = float(rng.uniform(0.005, 0.1))
    per_channel = rng.random() < 0.4
    s_w = rng.uniform(0.002, 0.02, units) if per_channel else np.array([rng.uniform(0.002, 0.02)])
    w_zp = int(rng.integers(-5, 6)) if not per_channel and rng.random() < 0.2 else 0
    spread = s_in * float(s_w.mean()) * 74 * 73 * np.sqrt(depth)
    out_q = qparams(float(spread * rng.uniform(1.5, 4) / 128), int(rng.integers(-40, 40)))
    g = fc_graph(x_shape, rng.integers(-127, 128, (units, depth)).astype(np.int8), qparams(s_w, w_zp),
                 rng.integers(-3000, 3000, units).astype(np.int32) if has_bias else None,
                 qparams(np.float32(s_in) * s_w.astype(np.float32)),
                 qparams(s_in, int(rng.integers(-128, 128))), out_q, act, keep)
    label = f"{x_shape} u{units} pc={per_channel} wzp={w_zp} keep={keep} {act} bias={has_bias}"
    return g, rng.integers(-128, 128, x_shape).astype(np.int8), label


@pytest.mark.parametrize("seed", range(40))
def test_int8_matches_tflm(seed: int) -> None:
    rng = np.random.default_rng(5000 + seed)
    g, xv, label = random_fc(rng, "int8")
    check_tflm(g, [xv], label)


def test_absent_bias_as_minus_one() -> None:
    rng = np.random.default_rng(7)
    g, xv, _ = random_fc(rng, "int8")
    g.operators[0].inputs = [*g.operators[0].inputs[:2], -1]
    check_tflm(g, [xv], "bias -1")


def test_multiplier_uses_double_product() -> None:
    """TFLM's source multiplies input and filter scales in float32 for per-tensor FC, but the
    build we check against rounds as with a double product. Find scales and accumulators (set
    through the bias) where the two products give different outputs; we must follow TFLM."""
    rng = np.random.default_rng(11)
    accs = np.arange(-200_000, 200_000)
    while True:
        s_in, s_w = (float(np.float32(v)) for v in rng.uniform(0.001, 0.1, 2))
        s_out = float(np.float32(s_in * s_w / rng.uniform(5e-4, 2e-3)))
        single = quantize_multiplier(float(np.float32(s_in) * np.float32(s_w)) / s_out)
        double = quantize_multiplier(s_in * s_w / s_out)
        a = requantize(accs, single[0], single[1], 0, -128, 127)
        b = requantize(accs, double[0], double[1], 0, -128, 127)
        differ = accs[(a != b) & (np.abs(a) < 120)]
        if differ.size:
            break
    # One row whose input equals the zero point, weights 1: every accumulator is its bias.
    units = differ.size
    g = fc_graph((1, 1), np.ones((units, 1), np.int8), qparams(s_w), differ.astype(np.int32),
                 qparams(np.float32(s_in) * np.float32(s_w)), qparams(s_in, 3), qparams(s_out, 0))
    xv = np.full((1, 1), 3, np.int8)
    (ours,) = run_model(g, [xv])
    (ref,) = run_tflm(write_tflite(g), [xv])
    assert np.array_equal(ours, ref)
    with_single = requantize(differ, single[0], single[1], 0, -128, 127)
    assert not np.array_equal(with_single, ref.ravel())


def random_hybrid_fc(rng: np.random.Generator):
    """Float input and output with int8 weights (per tensor or per channel), as dynamic-range
    quantization writes them; inputs quantized symmetrically or asymmetrically."""
    depth, units = int(rng.integers(1, 65)), int(rng.integers(1, 17))
    x_shape = (int(rng.integers(1, 4)), depth)
    per_channel = rng.random() < 0.5
    s_w = rng.uniform(0.002, 0.02, units) if per_channel else np.array([rng.uniform(0.002, 0.02)])
    asymmetric = bool(rng.random() < 0.5)
    act = str(rng.choice(ACTIVATIONS))
    g = fc_graph(x_shape, rng.integers(-127, 128, (units, depth)).astype(np.int8), qparams(s_w),
                 rng.standard_normal(units).astype(np.float32), None, None, None, act, False, "float32")
    g.operators[0].attrs["asymmetric_quantize_inputs"] = asymmetric
    xv = (rng.standard_normal(x_shape) * 2 + rng.uniform(-1, 1)).astype(np.float32)
    return g, xv, f"{x_shape} u{units} pc={per_channel} asym={asymmetric} {act}"


@pytest.mark.parametrize("seed", range(16))
def test_hybrid_matches_litert(seed: int) -> None:
    g, xv, label = random_hybrid_fc(np.random.default_rng(6500 + seed))
    check_litert(g, [xv], rtol=1e-6, atol=1e-6, label=label)


@pytest.mark.parametrize("seed", range(12))
def test_float_matches_litert(seed: int) -> None:
    rng = np.random.default_rng(6000 + seed)
    g, xv, label = random_fc(rng, "float32")
    check_litert(g, [xv], rtol=1e-5, atol=1e-5, label=label)
