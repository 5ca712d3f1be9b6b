"""Int8 models built in code with seeded random weights and plausible quantization.

They exercise the same ops as the MLPerf Tiny models (convolution, depthwise convolution,
pooling, residual add, fully connected, softmax), so every check on the conformance corpus has
a twin that runs on a fresh clone without it. Output scales are chosen from the layer's fan-in
so activations spread over the int8 range instead of saturating.
"""

from __future__ import annotations

import numpy as np

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph


class _Net:
    def __init__(self, name: str, seed: int) -> None:
        self.g = GraphBuilder(name)
        self.rng = np.random.default_rng(seed)
        self.n = 0

    def _name(self, kind: str) -> str:
        self.n += 1
        return f"{kind}_{self.n}"

    def _weights(self, shape: tuple[int, ...], out_axis: int) -> tuple[int, float, np.ndarray]:
        w = self.rng.integers(-127, 128, shape).astype(np.int8)
        channels = shape[out_axis]
        scales = self.rng.uniform(0.002, 0.01, channels).astype(np.float32)
        return self.g.const(self._name("w"), w, qparams(scales, 0, out_axis)), 0.0, scales

    def _bias(self, in_scale: float, w_scales: np.ndarray) -> int:
        scales = (in_scale * w_scales).astype(np.float32)
        b = self.rng.integers(-2000, 2000, len(scales)).astype(np.int32)
        return self.g.const(self._name("b"), b, qparams(scales, 0))

    def _out(self, shape: tuple[int, ...], in_scale: float, w_scale: float, fan_in: int) -> tuple[int, float]:
        scale = float(in_scale * w_scale * 127 * np.sqrt(fan_in) / 24)
        zp = int(self.rng.integers(-20, 20))
        return self.g.tensor(self._name("t"), shape, "int8", qparams(scale, zp)), scale

    def conv(self, x: int, shape: tuple[int, ...], scale: float, out_ch: int, k: int, stride: int,
             depthwise: bool = False, act: str = "RELU") -> tuple[int, tuple[int, ...], float]:
        n, h, w, c = shape
        oh, ow = -(-h // stride), -(-w // stride)
        if depthwise:
            wt, _, ws = self._weights((1, k, k, c), 3)
            out_ch, fan_in, op = c, k * k, "DEPTHWISE_CONV_2D"
        else:
            wt, _, ws = self._weights((out_ch, k, k, c), 0)
            fan_in, op = k * k * c, "CONV_2D"
        b = self._bias(scale, ws)
        y, yscale = self._out((n, oh, ow, out_ch), scale, float(ws.mean()), fan_in)
        attrs = dict(padding="SAME", stride_w=stride, stride_h=stride, fused_activation_function=act,
                     dilation_w_factor=1, dilation_h_factor=1)
        if depthwise:
            attrs["depth_multiplier"] = 1
        self.g.op(op, [x, wt, b], [y], **attrs)
        return y, (n, oh, ow, out_ch), yscale


def small_cnn(seed: int = 0) -> Graph:
    """A 1x32x32x3 int8 image classifier: conv, depthwise, pointwise, residual add, pooling,
    fully connected, softmax (10 classes)."""
    net = _Net("small_cnn", seed)
    g = net.g
    x = g.tensor("input", (1, 32, 32, 3), "int8", qparams(0.0078125, -1))
    t, shape, s = net.conv(x, (1, 32, 32, 3), 0.0078125, 16, 3, 2)
    d, shape, s_d = net.conv(t, shape, s, 16, 3, 1, depthwise=True)
    p, shape, s_p = net.conv(d, shape, s_d, 16, 1, 1, act="NONE")
    a_scale = max(s, s_p) * 1.5
    a = g.tensor("residual", shape, "int8", qparams(a_scale, -5))
    g.op("ADD", [t, p], [a], fused_activation_function="RELU")
    q, shape, s_q = net.conv(a, shape, a_scale, 32, 3, 2)
    pooled = g.tensor("pooled", (1, 1, 1, 32), "int8", qparams(s_q, g.tensors[q].zero_point))
    g.op("AVERAGE_POOL_2D", [q], [pooled], padding="VALID", stride_w=1, stride_h=1,
         filter_width=shape[2], filter_height=shape[1], fused_activation_function="NONE")
    shape_const = g.const("flat_shape", np.array([1, 32], np.int32))
    flat = g.tensor("flat", (1, 32), "int8", qparams(s_q, g.tensors[q].zero_point))
    g.op("RESHAPE", [pooled, shape_const], [flat], new_shape=[1, 32])
    w, _, ws = net._weights((10, 32), 0)
    b = net._bias(s_q, ws)
    logits, _ = net._out((1, 10), s_q, float(ws.mean()), 32)
    g.op("FULLY_CONNECTED", [flat, w, b], [logits], fused_activation_function="NONE")
    probs = g.tensor("probs", (1, 10), "int8", qparams(1 / 256, -128))
    g.op("SOFTMAX", [logits], [probs], beta=1.0)
    return g.build([x], [probs])


def ds_cnn(seed: int = 0, blocks: int = 4) -> Graph:
    """A 1x49x10x1 keyword-spotting network shaped like MLPerf Tiny's DS-CNN: a strided 10x4
    convolution to 64 channels, ``blocks`` depthwise + pointwise pairs, average pooling, fully
    connected, softmax (12 classes). Its overlap plan is not proven within the search budget."""
    net = _Net("ds_cnn", seed)
    g = net.g
    x = g.tensor("input", (1, 49, 10, 1), "int8", qparams(0.5, -128))
    t, shape, s = net.conv(x, (1, 49, 10, 1), 0.5, 64, 3, 2)
    for _ in range(blocks):
        t, shape, s = net.conv(t, shape, s, 64, 3, 1, depthwise=True)
        t, shape, s = net.conv(t, shape, s, 64, 1, 1)
    zp = g.tensors[t].zero_point
    pooled = g.tensor("pooled", (1, 1, 1, 64), "int8", qparams(s, zp))
    g.op("AVERAGE_POOL_2D", [t], [pooled], padding="VALID", stride_w=shape[2], stride_h=shape[1],
         filter_width=shape[2], filter_height=shape[1], fused_activation_function="NONE")
    flat = g.tensor("flat", (1, 64), "int8", qparams(s, zp))
    g.op("RESHAPE", [pooled, g.const("flat_shape", np.array([1, 64], np.int32))], [flat], new_shape=[1, 64])
    w, _, ws = net._weights((12, 64), 0)
    logits = g.tensor("logits", (1, 12), "int8", qparams(0.0625, 0))
    g.op("FULLY_CONNECTED", [flat, w, net._bias(s, ws)], [logits], fused_activation_function="NONE")
    probs = g.tensor("probs", (1, 12), "int8", qparams(1 / 256, -128))
    g.op("SOFTMAX", [logits], [probs], beta=1.0)
    return g.build([x], [probs])


def tiny_mlp(seed: int = 0, features: int = 16, hidden: int = 32, classes: int = 4) -> Graph:
    """A 2-layer int8 fully connected classifier (1 x ``features`` in, ``classes`` out)."""
    net = _Net("tiny_mlp", seed)
    g = net.g
    x = g.tensor("input", (1, features), "int8", qparams(0.05, 0))
    w1, _, ws1 = net._weights((hidden, features), 0)
    h, s_h = net._out((1, hidden), 0.05, float(ws1.mean()), features)
    g.op("FULLY_CONNECTED", [x, w1, net._bias(0.05, ws1)], [h], fused_activation_function="RELU")
    w2, _, ws2 = net._weights((classes, hidden), 0)
    y, _ = net._out((1, classes), s_h, float(ws2.mean()), hidden)
    g.op("FULLY_CONNECTED", [h, w2, net._bias(s_h, ws2)], [y], fused_activation_function="NONE")
    return g.build([x], [y])
