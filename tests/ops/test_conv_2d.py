"""CONV_2D: a hand-checked case, randomized int8 cases against TFLM, float cases against LiteRT."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ops import OpContext, get_op
from edgecraft.runtime import run_model
from oracle import check_litert, check_tflm

ACTIVATIONS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


def out_size(size: int, k: int, stride: int, dilation: int, padding: str) -> int:
    eff = (k - 1) * dilation + 1
    return -(-size // stride) if padding == "SAME" else (size - eff) // stride + 1


def test_hand_case() -> None:
    # x - zp = [[1,2,3],[4,5,6],[7,8,9]], filter [[1,2],[3,4]], VALID: sums 37 47 67 77;
    # + bias 1, * (1*1/2), + zp -3  ->  16 21 31 36 (halves round away from zero).
    b = GraphBuilder()
    x = b.tensor("x", (1, 3, 3, 1), "int8", qparams(1.0, 1))
    w = b.const("w", np.array([1, 2, 3, 4], np.int8).reshape(1, 2, 2, 1), qparams(1.0))
    bias = b.const("b", np.array([1], np.int32), qparams(1.0))
    y = b.tensor("y", (1, 2, 2, 1), "int8", qparams(2.0, -3))
    b.op("CONV_2D", [x, w, bias], [y], padding="VALID", stride_w=1, stride_h=1)
    g = b.build([x], [y])
    xq = (np.arange(1, 10) + 1).astype(np.int8).reshape(1, 3, 3, 1)
    (out,) = run_model(g, [xq])
    assert out.ravel().tolist() == [16, 21, 31, 36]
    check_tflm(g, [xq], "hand")
    cost = get_op("CONV_2D").cost(OpContext(g.operators[0], g))
    assert cost.macs == 4 * 4 and cost.bytes_written == 4 and cost.bytes_read == 9 + 4 + 4


def random_conv(rng: np.random.Generator, dtype: str):
    """A one-op CONV_2D graph with random geometry and quantization, and a random input."""
    n = int(rng.choice([1, 1, 2]))
    h, wd = (int(v) for v in rng.integers(2, 14, 2))
    kh, kw = (int(v) for v in rng.integers(1, 4, 2))
    sh, sw = (int(v) for v in rng.integers(1, 4, 2))
    dh, dw = (int(v) for v in rng.integers(1, 4, 2))
    padding = str(rng.choice(["SAME", "VALID"]))
    if padding == "VALID" and ((kh - 1) * dh + 1 > h or (kw - 1) * dw + 1 > wd):
        padding = "SAME"
    hybrid = dtype == "hybrid"  # float input and output, int8 weights
    groups = int(rng.choice([1, 1, 1, 2]))
    dtype = "float32" if hybrid else dtype
    cin = groups * int(rng.integers(1, 6))
    cout = groups * int(rng.integers(1, 9))
    act = str(rng.choice(ACTIVATIONS))
    has_bias = rng.random() < 0.7 or dtype == "float32"  # LiteRT's float conv requires a bias
    oh, ow = out_size(h, kh, sh, dh, padding), out_size(wd, kw, sw, dw, padding)
    b = GraphBuilder()
    wshape = (cout, kh, kw, cin // groups)
    if dtype == "int8":
        s_in = float(rng.uniform(0.005, 0.1))
        x = b.tensor("x", (n, h, wd, cin), "int8", qparams(s_in, int(rng.integers(-128, 128))))
        per_channel = rng.random() < 0.6
        s_w = rng.uniform(0.002, 0.02, cout) if per_channel else np.array([rng.uniform(0.002, 0.02)])
        w = b.const("w", rng.integers(-127, 128, wshape).astype(np.int8),
                    qparams(s_w, 0, axis=0))
        depth = kh * kw * cin // groups
        spread = s_in * float(s_w.mean()) * 74 * 73 * np.sqrt(depth)  # ~ std of the real sum
        y = b.tensor("y", (n, oh, ow, cout), "int8",
                     qparams(float(spread * rng.uniform(1.5, 4) / 128), int(rng.integers(-40, 40))))
        bias_data = rng.integers(-3000, 3000, cout).astype(np.int32)
        bias_q = qparams(np.float32(s_in) * s_w.astype(np.float32))
        xv = rng.integers(-128, 128, (n, h, wd, cin)).astype(np.int8)
    else:
        x = b.tensor("x", (n, h, wd, cin), "float32")
        if hybrid:
            per_channel = groups > 1 or rng.random() < 0.5  # LiteRT needs per-channel for groups
            s_w = rng.uniform(0.002, 0.02, cout if per_channel else 1)
            w = b.const("w", rng.integers(-127, 128, wshape).astype(np.int8), qparams(s_w, 0, axis=0))
        else:
            w = b.const("w", rng.standard_normal(wshape).astype(np.float32))
        y = b.tensor("y", (n, oh, ow, cout), "float32")
        bias_data, bias_q = rng.standard_normal(cout).astype(np.float32), None
        xv = rng.standard_normal((n, h, wd, cin)).astype(np.float32)
    # An absent bias is index -1 or a missing third input (LiteRT accepts only the latter).
    absent = [-1] if dtype == "int8" and rng.random() < 0.5 else []
    inputs = [x, w, b.const("b", bias_data, bias_q)] if has_bias else [x, w, *absent]
    b.op("CONV_2D", inputs, [y], padding=padding, stride_h=sh, stride_w=sw, dilation_h_factor=dh,
         dilation_w_factor=dw, fused_activation_function=act)
    kind = "hybrid " if hybrid else ""
    label = f"{kind}n{n} {h}x{wd}x{cin} k{kh}x{kw} s{sh}{sw} d{dh}{dw} g{groups} {padding} {act} b={has_bias}"
    return b.build([x], [y]), xv, label


@pytest.mark.parametrize("seed", range(40))
def test_int8_matches_tflm(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    g, xv, label = random_conv(rng, "int8")
    check_tflm(g, [xv], label)


@pytest.mark.parametrize("seed", range(12))
def test_float_matches_litert(seed: int) -> None:
    rng = np.random.default_rng(2000 + seed)
    g, xv, label = random_conv(rng, "float32")
    check_litert(g, [xv], rtol=1e-5, atol=1e-5, label=label)


@pytest.mark.parametrize("seed", range(16))
def test_hybrid_matches_litert(seed: int) -> None:
    """Float input with int8 weights (per tensor, per channel, grouped): LiteRT quantizes the
    input on the fly; so do we."""
    rng = np.random.default_rng(2500 + seed)
    g, xv, label = random_conv(rng, "hybrid")
    check_litert(g, [xv], rtol=1e-6, atol=1e-6, label=label)
