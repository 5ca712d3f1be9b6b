"""DEPTHWISE_CONV_2D: a hand-checked case, randomized int8 cases against TFLM, float cases
against LiteRT."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ops import OpContext, OpError, get_op
from edgecraft.runtime import run_model
from oracle import check_litert, check_tflm

ACTIVATIONS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


def out_size(size: int, k: int, stride: int, dilation: int, padding: str) -> int:
    eff = (k - 1) * dilation + 1
    return -(-size // stride) if padding == "SAME" else (size - eff) // stride + 1


def test_hand_case() -> None:
    # Two channels, depth multiplier 1, 2x2 input, 1x2 filter, VALID, zero points 0, scales 1:
    # channel 0: [1,2]*[1,1] = 3 and [3,4] -> 7; channel 1: [10,20]*[1,-1] = -10, [30,40] -> -10.
    b = GraphBuilder()
    x = b.tensor("x", (1, 2, 2, 2), "int8", qparams(1.0, 0))
    w = b.const("w", np.array([[1, 1], [1, -1]], np.int8).reshape(1, 1, 2, 2), qparams([1.0, 1.0], 0, 3))
    y = b.tensor("y", (1, 2, 1, 2), "int8", qparams(1.0, 5))
    op = b.op("DEPTHWISE_CONV_2D", [x, w, -1], [y], padding="VALID", depth_multiplier=1)
    g = b.build([x], [y])
    xq = np.array([1, 10, 2, 20, 3, 30, 4, 40], np.int8).reshape(1, 2, 2, 2)
    (out,) = run_model(g, [xq])
    assert out.ravel().tolist() == [3 + 5, -10 + 5, 7 + 5, -10 + 5]
    # TFLM (2026-10 build) crashes on an explicit -1 bias here; it takes the two-input form.
    op.inputs = [x, w]
    check_tflm(g, [xq], "hand")
    cost = get_op("DEPTHWISE_CONV_2D").cost(OpContext(g.operators[0], g))
    assert (cost.macs, cost.bytes_read, cost.bytes_written) == (4 * 2, 8 + 4, 4)


def random_depthwise(rng: np.random.Generator, dtype: str):
    """A one-op DEPTHWISE_CONV_2D graph with random geometry and quantization, and an input."""
    n = int(rng.choice([1, 1, 2]))
    h, wd = (int(v) for v in rng.integers(2, 14, 2))
    kh, kw = (int(v) for v in rng.integers(1, 4, 2))
    sh, sw = (int(v) for v in rng.integers(1, 4, 2))
    dh, dw = (int(v) for v in rng.integers(1, 4, 2))
    padding = str(rng.choice(["SAME", "VALID"]))
    if padding == "VALID" and ((kh - 1) * dh + 1 > h or (kw - 1) * dw + 1 > wd):
        padding = "SAME"
    cin, mult = int(rng.integers(1, 9)), int(rng.integers(1, 4))
    cout = cin * mult
    act = str(rng.choice(ACTIVATIONS))
    has_bias = rng.random() < 0.7 or dtype == "float32"  # LiteRT's float kernel requires a bias
    oh, ow = out_size(h, kh, sh, dh, padding), out_size(wd, kw, sw, dw, padding)
    b = GraphBuilder()
    wshape = (1, kh, kw, cout)
    if dtype == "int8":
        s_in = float(rng.uniform(0.005, 0.1))
        x = b.tensor("x", (n, h, wd, cin), "int8", qparams(s_in, int(rng.integers(-128, 128))))
        per_channel = rng.random() < 0.6
        s_w = rng.uniform(0.002, 0.02, cout) if per_channel else np.array([rng.uniform(0.002, 0.02)])
        w = b.const("w", rng.integers(-127, 128, wshape).astype(np.int8), qparams(s_w, 0, axis=3))
        spread = s_in * float(s_w.mean()) * 74 * 73 * np.sqrt(kh * kw)  # ~ std of the real sum
        y = b.tensor("y", (n, oh, ow, cout), "int8",
                     qparams(float(spread * rng.uniform(1.5, 4) / 128), int(rng.integers(-40, 40))))
        bias_data = rng.integers(-2000, 2000, cout).astype(np.int32)
        bias_q = qparams(np.float32(s_in) * s_w.astype(np.float32), 0, axis=0)
        xv = rng.integers(-128, 128, (n, h, wd, cin)).astype(np.int8)
    else:
        x = b.tensor("x", (n, h, wd, cin), "float32")
        w = b.const("w", rng.standard_normal(wshape).astype(np.float32))
        y = b.tensor("y", (n, oh, ow, cout), "float32")
        bias_data, bias_q = rng.standard_normal(cout).astype(np.float32), None
        xv = rng.standard_normal((n, h, wd, cin)).astype(np.float32)
    inputs = [x, w, b.const("b", bias_data, bias_q)] if has_bias else [x, w]
    b.op("DEPTHWISE_CONV_2D", inputs, [y], padding=padding, stride_h=sh, stride_w=sw,
         depth_multiplier=mult, dilation_h_factor=dh, dilation_w_factor=dw,
         fused_activation_function=act)
    label = f"n{n} {h}x{wd}x{cin} m{mult} k{kh}x{kw} s{sh}{sw} d{dh}{dw} {padding} {act} bias={has_bias}"
    return b.build([x], [y]), xv, label


@pytest.mark.parametrize("seed", range(40))
def test_int8_matches_tflm(seed: int) -> None:
    rng = np.random.default_rng(3000 + seed)
    g, xv, label = random_depthwise(rng, "int8")
    check_tflm(g, [xv], label)


@pytest.mark.parametrize("seed", range(12))
def test_float_matches_litert(seed: int) -> None:
    rng = np.random.default_rng(4000 + seed)
    g, xv, label = random_depthwise(rng, "float32")
    check_litert(g, [xv], rtol=1e-5, atol=1e-5, label=label)


def test_hybrid_per_tensor_refused() -> None:
    b = GraphBuilder()
    x = b.tensor("x", (1, 3, 3, 2), "float32")
    w = b.const("w", np.ones((1, 2, 2, 2), np.int8), qparams(0.1))
    y = b.tensor("y", (1, 2, 2, 2), "float32")
    b.op("DEPTHWISE_CONV_2D", [x, w], [y], padding="VALID", depth_multiplier=1)
    with pytest.raises(OpError, match="one filter scale per output channel"):
        run_model(b.build([x], [y]), [np.zeros((1, 3, 3, 2), np.float32)])


def random_hybrid(rng: np.random.Generator):
    """Float input and output with int8 per-channel weights (LiteRT needs per channel)."""
    g, xv, label = random_depthwise(rng, "float32")
    w = g.tensors[g.operators[0].inputs[1]]
    channels = w.shape[3]
    w.dtype = "int8"
    w.data = rng.integers(-127, 128, w.shape).astype(np.int8)
    w.quant = qparams(rng.uniform(0.002, 0.02, channels), 0, axis=3)
    return g, xv, f"hybrid {label}"


@pytest.mark.parametrize("seed", range(16))
def test_hybrid_matches_litert(seed: int) -> None:
    """Float input with int8 weights: LiteRT quantizes the input on the fly; so do we."""
    g, xv, label = random_hybrid(np.random.default_rng(4500 + seed))
    check_litert(g, [xv], rtol=1e-6, atol=1e-6, label=label)
