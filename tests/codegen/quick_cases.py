"""Graphs whose every CONV_2D / DEPTHWISE_CONV_2D layer takes the DSP kernels' quick case
(``ec_conv_2d_quick_dsp.c``, ``ec_depthwise_conv_2d_quick_dsp.c``): no activation (the int8
clamp), shapes that reach each of its paths: padding on every border, strides, dilation, 1x1
in place and strided, one-channel tall filters (KWS's and micro_speech's first layer), patch
lengths with leftover taps (n % 4), odd output channel counts, odd pixel counts, depthwise
channel counts with leftovers, more channels than one group of the depthwise kernel's expanded
filter holds (8 quads of a 3x3 filter, 2 of a 5x5), 3x3 windows in runs across (dilated
too) and filters wider than three taps."""

from __future__ import annotations

import numpy as np

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph

#: (kernel h, kernel w, stride, dilation, padding, output channels) of each quick_conv_chain layer.
CONV_LAYERS = [(3, 3, 1, 1, "SAME", 5), (1, 1, 1, 1, "SAME", 17), (3, 3, 2, 1, "VALID", 9),
               (2, 2, 1, 2, "SAME", 4), (1, 1, 2, 1, "VALID", 4), (3, 3, 1, 1, "SAME", 8)]
#: (kernel, stride, dilation, padding) of each quick_depthwise_chain layer.
DEPTHWISE_LAYERS = [(3, 1, 1, "SAME"), (3, 1, 2, "SAME"), (3, 2, 1, "VALID"), (2, 1, 2, "SAME"),
                    (5, 1, 1, "SAME"), (1, 1, 1, "VALID"), (3, 2, 1, "SAME")]


def conv_layer(g: GraphBuilder, depthwise: bool, x: int, w: int, b: int, y: int,
               padding: str = "SAME", dilation: int = 1) -> None:
    """A stride-1 DEPTHWISE_CONV_2D (depth multiplier 1) or CONV_2D x -> y, no activation."""
    attrs = dict(padding=padding, stride_h=1, stride_w=1, dilation_h_factor=dilation,
                 dilation_w_factor=dilation, fused_activation_function="NONE")
    if depthwise:
        g.op("DEPTHWISE_CONV_2D", [x, w, b], [y], depth_multiplier=1, **attrs)
    else:
        g.op("CONV_2D", [x, w, b], [y], **attrs)


def _out_hw(h: int, w: int, kh: int, kw: int, stride: int, dil: int, padding: str) -> tuple[int, int]:
    if padding == "SAME":
        return -(-h // stride), -(-w // stride)
    return (h - (kh - 1) * dil - 1) // stride + 1, (w - (kw - 1) * dil - 1) // stride + 1


def quick_conv_chain(seed: int, first: tuple[int, int, int, int] = (9, 7, 3, 0)) -> Graph:
    """CONV_2D layers in a chain (CONV_LAYERS) from an h x w x c input; ``first`` = (h, w, c,
    tall): with tall > 0 a one-channel tall x 4 stride-2 layer comes first (KWS-like)."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("quick_conv_chain")
    h, w, c, tall = first
    s = float(rng.uniform(0.02, 0.1))
    x = start = g.tensor("x", (1, h, w, c), "int8", qparams(s, int(rng.integers(-20, 21))))
    layers = ([(tall, 4, 2, 1, "SAME", 7)] if tall else []) + CONV_LAYERS
    for k, (kh, kw, stride, dil, padding, out_c) in enumerate(layers):
        ws = rng.uniform(0.002, 0.02, out_c).astype(np.float32)
        values = rng.integers(-127, 128, (out_c, kh, kw, c)).astype(np.int8)
        wt = g.const(f"w{k}", values, qparams(ws, 0, 0))
        inputs = [x, wt]
        if k != 1:
            bias = rng.integers(-3000, 3000, out_c).astype(np.int32)
            inputs.append(g.const(f"b{k}", bias, qparams(s * ws, 0)))
        h, w = _out_hw(h, w, kh, kw, stride, dil, padding)
        s = s * float(ws.mean()) * 127 * np.sqrt(kh * kw * c) / 16
        y = g.tensor(f"y{k}", (1, h, w, out_c), "int8", qparams(s, int(rng.integers(-20, 21))))
        g.op("CONV_2D", inputs, [y], padding=padding, stride_h=stride, stride_w=stride,
             dilation_h_factor=dil, dilation_w_factor=dil, fused_activation_function="NONE")
        x, c = y, out_c
    return g.build([start], [x])


def quick_depthwise_chain(seed: int, channels: int) -> Graph:
    """DEPTHWISE_CONV_2D layers in a chain (DEPTHWISE_LAYERS) from a 9x8 input, multiplier 1."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("quick_depthwise_chain")
    h, w, c = 9, 8, channels
    s = float(rng.uniform(0.02, 0.1))
    x = start = g.tensor("x", (1, h, w, c), "int8", qparams(s, int(rng.integers(-20, 21))))
    for k, (kernel, stride, dil, padding) in enumerate(DEPTHWISE_LAYERS):
        ws = rng.uniform(0.002, 0.02, c).astype(np.float32)
        values = rng.integers(-127, 128, (1, kernel, kernel, c)).astype(np.int8)
        wt = g.const(f"w{k}", values, qparams(ws, 0, 3))
        inputs = [x, wt]
        if k != 2:
            bias = rng.integers(-3000, 3000, c).astype(np.int32)
            inputs.append(g.const(f"b{k}", bias, qparams(s * ws, 0)))
        h, w = _out_hw(h, w, kernel, kernel, stride, dil, padding)
        s = s * float(ws.mean()) * 127 * kernel / 16
        y = g.tensor(f"y{k}", (1, h, w, c), "int8", qparams(s, int(rng.integers(-20, 21))))
        g.op("DEPTHWISE_CONV_2D", inputs, [y], padding=padding, stride_h=stride, stride_w=stride,
             dilation_h_factor=dil, dilation_w_factor=dil, depth_multiplier=1,
             fused_activation_function="NONE")
        x = y
    return g.build([start], [x])


def wide_accumulator_layer(seed: int, depthwise: bool, clamped: bool = False) -> Graph:
    """One 3x3 CONV_2D or DEPTHWISE_CONV_2D whose biases put the accumulators between 2^30 and
    2^31 in magnitude (the quick kernels' requantization takes any int32: no doubling), scaled
    so most outputs stay inside the int8 range (right shifts past 16 bits); ``clamped``: scaled
    by 2^-16 to 2^-13 instead (shifts that fit a nibble: outputs clamped to the sign of the
    accumulator, which a wrapped sum would flip)."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("wide_acc")
    c, out_c = 8, 8 if depthwise else 6
    x = g.tensor("x", (1, 5, 6, c), "int8", qparams(0.05, int(rng.integers(-20, 21))))
    ws = rng.uniform(0.002, 0.02, out_c).astype(np.float32)
    w = g.const("w", rng.integers(-127, 128, (1, 3, 3, c) if depthwise else (out_c, 3, 3, c)).astype(np.int8),
                qparams(ws, 0, 3 if depthwise else 0))
    bias = (rng.choice([-1, 1], out_c) * rng.integers(2**30 + 1, 2**31 - 2**22, out_c)).astype(np.int32)
    b = g.const("b", bias, qparams(0.05 * ws, 0))
    # outputs = bias x 0.05 x ws / s_out: the largest bias to about 110
    out_scale = 0.05 * ws.min() * 2**16 / 0.75 if clamped else 2**31 * 0.05 * ws.max() / 110
    y = g.tensor("y", (1, 5, 6, out_c), "int8", qparams(float(out_scale), 1))
    conv_layer(g, depthwise, x, w, b, y)
    return g.build([x], [y])


def far_dilation(seed: int, dilation: int = 128) -> Graph:
    """A 1x3 CONV_2D then a 1x3 DEPTHWISE_CONV_2D, SAME, dilated by ``dilation`` across a
    2 x 300 x 4 input (taps ``dilation`` pixels apart, some in the padding): past 127 the quick
    parameter block cannot hold the dilation, so both layers keep the general DSP kernels."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("far_dilation")
    c = 4
    x = start = g.tensor("x", (1, 2, 300, c), "int8", qparams(0.05, int(rng.integers(-20, 21))))
    s = 0.05
    for k, depthwise in enumerate((False, True)):
        ws = rng.uniform(0.002, 0.02, c).astype(np.float32)
        shape = (1, 1, 3, c) if depthwise else (c, 1, 3, c)
        values = rng.integers(-127, 128, shape).astype(np.int8)
        w = g.const(f"w{k}", values, qparams(ws, 0, 3 if depthwise else 0))
        b = g.const(f"b{k}", rng.integers(-3000, 3000, c).astype(np.int32), qparams(s * ws, 0))
        s = s * float(ws.mean()) * 127 * np.sqrt(3 * (1 if depthwise else c)) / 16
        y = g.tensor(f"y{k}", (1, 2, 300, c), "int8", qparams(s, int(rng.integers(-20, 21))))
        conv_layer(g, depthwise, x, w, b, y, dilation=dilation)
        x = y
    return g.build([start], [x])


def long_fully_connected(seed: int, depth: int = 1101, units: int = 6) -> Graph:
    """FULLY_CONNECTED rows longer than the DSP kernel's scratch limit (EC_FC_DEPTH_MAX, 1024):
    input words split as they are read; a block of four units and two leftover units, a tail
    of depth % 4 values, per-channel filters."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("long_fc")
    s = float(rng.uniform(0.02, 0.1))
    x = g.tensor("x", (2, depth), "int8", qparams(s, int(rng.integers(-20, 21))))
    ws = rng.uniform(0.002, 0.02, units).astype(np.float32)
    w = g.const("w", rng.integers(-127, 128, (units, depth)).astype(np.int8), qparams(ws, 0))
    b = g.const("b", rng.integers(-3000, 3000, units).astype(np.int32), qparams(s * ws, 0))
    y = g.tensor("y", (2, units), "int8", qparams(s * float(ws.mean()) * 127 * np.sqrt(depth) / 16, 3))
    g.op("FULLY_CONNECTED", [x, w, b], [y], fused_activation_function="NONE", keep_num_dims=False)
    return g.build([x], [y])


#: (input shape, paddings) of pad_chain's PADs: trailing unpadded dimensions merged into one
#: block, the innermost dimension padded, rank 1, no padding at all, rows wholly in the padding.
PADS = [((1, 5, 4, 3), [[0, 0], [1, 2], [2, 0], [0, 0]]), ((1, 8, 6, 3), [[0, 0], [0, 1], [1, 1], [1, 2]]),
        ((1, 9, 8, 6), [[1, 0], [0, 0], [0, 0], [0, 0]]), ((2, 9, 8, 6), [[0, 0], [0, 0], [0, 0], [0, 0]])]


def pad_chain(seed: int) -> Graph:
    """PAD layers in a chain (PADS), then a rank-1 PAD of the flattened result."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("pad_chain")
    q = qparams(0.05, int(rng.integers(-20, 21)))
    x = first = g.tensor("x", PADS[0][0], "int8", q)
    for k, (shape, pads) in enumerate(PADS):
        out = tuple(d + a + b for d, (a, b) in zip(shape, pads, strict=True))
        y = g.tensor(f"y{k}", out, "int8", q)
        g.op("PAD", [x, g.const(f"p{k}", np.array(pads, np.int32))], [y])
        x = y
    flat = g.tensor("flat", (int(np.prod(g.tensors[x].shape)),), "int8", q)
    flat_shape = g.tensors[flat].shape
    g.op("RESHAPE", [x, g.const("shape", np.array(flat_shape, np.int32))], [flat], new_shape=list(flat_shape))
    y = g.tensor("padded", (flat_shape[0] + 7,), "int8", q)
    g.op("PAD", [flat, g.const("p_flat", np.array([[3, 4]], np.int32))], [y])
    return g.build([first], [y])


def fc_chain(seed: int, dims: tuple[int, ...] = (37, 24, 16, 9, 5)) -> Graph:
    """FULLY_CONNECTED layers in a chain (3 rows) through the DSP kernel's operand path: depths
    with 0 to 4 whole pairs of groups of four and tails of 0 to 3 values, unit counts with and
    without leftovers after the blocks of four, per-channel filters."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("fc_chain")
    s = float(rng.uniform(0.02, 0.1))
    x = first = g.tensor("x", (3, dims[0]), "int8", qparams(s, int(rng.integers(-20, 21))))
    for k in range(len(dims) - 1):
        depth, units = dims[k], dims[k + 1]
        ws = rng.uniform(0.002, 0.02, units).astype(np.float32)
        w = g.const(f"w{k}", rng.integers(-127, 128, (units, depth)).astype(np.int8), qparams(ws, 0))
        b = g.const(f"b{k}", rng.integers(-3000, 3000, units).astype(np.int32), qparams(s * ws, 0))
        s = s * float(ws.mean()) * 127 * np.sqrt(depth) / 16
        y = g.tensor(f"y{k}", (3, units), "int8", qparams(s, int(rng.integers(-20, 21))))
        g.op("FULLY_CONNECTED", [x, w, b], [y], fused_activation_function="NONE", keep_num_dims=False)
        x = y
    return g.build([first], [x])


def global_pool(h: int, w: int, c: int, act: str = "NONE", n: int = 1) -> Graph:
    """AVERAGE_POOL_2D over the whole h x w image (VALID), ``n`` batches, activation ``act``."""
    g = GraphBuilder("gpool")
    q = qparams(0.04, -5)
    x = g.tensor("x", (n, h, w, c), "int8", q)
    y = g.tensor("y", (n, 1, 1, c), "int8", q)
    g.op("AVERAGE_POOL_2D", [x], [y], padding="VALID", stride_h=1, stride_w=1, filter_height=h,
         filter_width=w, fused_activation_function=act)
    return g.build([x], [y])


def quick_head(seed: int, hw: tuple[int, int], conv_out: int, units: int, pool: bool = False,
               per_channel: bool = True, fc_act: str = "NONE", filter_zero_point: int = 0) -> Graph:
    """A 1x1 CONV_2D on the quick kernel (16 -> ``conv_out`` channels over h x w), then, after a
    whole-image AVERAGE_POOL_2D when ``pool`` (KWS's head), a FULLY_CONNECTED to ``units`` that
    reads the result as rows of w x conv_out values (1 x conv_out after the pool): a per-channel
    or per-tensor filter, with activation ``fc_act`` and filter zero point as given."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("quick_head")
    h, w = hw
    s = float(rng.uniform(0.02, 0.1))
    x = start = g.tensor("x", (1, h, w, 16), "int8", qparams(s, int(rng.integers(-20, 21))))
    ws = rng.uniform(0.002, 0.02, conv_out).astype(np.float32)
    wt = g.const("w0", rng.integers(-127, 128, (conv_out, 1, 1, 16)).astype(np.int8), qparams(ws, 0, 0))
    bias = g.const("b0", rng.integers(-3000, 3000, conv_out).astype(np.int32), qparams(s * ws, 0))
    s = s * float(ws.mean()) * 127 * 4 / 16
    y = g.tensor("y0", (1, h, w, conv_out), "int8", qparams(s, int(rng.integers(-20, 21))))
    g.op("CONV_2D", [x, wt, bias], [y], padding="VALID", stride_h=1, stride_w=1, dilation_h_factor=1,
         dilation_w_factor=1, fused_activation_function="NONE")
    x, rows, depth = y, h, w * conv_out
    if pool:
        y = g.tensor("pooled", (1, 1, 1, conv_out), "int8", g.tensors[x].quant)
        g.op("AVERAGE_POOL_2D", [x], [y], padding="VALID", stride_h=1, stride_w=1, filter_height=h,
             filter_width=w, fused_activation_function="NONE")
        x, rows, depth = y, 1, conv_out
    ws = rng.uniform(0.002, 0.02, units).astype(np.float32) if per_channel else np.float32(0.01)
    values = rng.integers(-127, 128, (units, depth)).astype(np.int8)
    wt = g.const("w1", values, qparams(ws, 0) if per_channel else qparams(float(ws), filter_zero_point))
    bias = g.const("b1", rng.integers(-3000, 3000, units).astype(np.int32), qparams(s * ws, 0))
    s = s * float(np.mean(ws)) * 127 * np.sqrt(depth) / 16
    y = g.tensor("y1", (rows, units), "int8", qparams(s, int(rng.integers(-20, 21))))
    g.op("FULLY_CONNECTED", [x, wt, bias], [y], fused_activation_function=fc_act, keep_num_dims=False)
    return g.build([start], [y])


def shift_ladder(seed: int, far: bool = False) -> Graph:
    """A 3x3 CONV_2D (8 -> 19 channels) and a 3x3 DEPTHWISE_CONV_2D over its 19 channels (four
    quads and three leftovers), every channel's right shift its own: channel c's effective scale is
    0.75 x 2^-k with k = 1 + 5 c mod 16 (shifts -1 to -16, neighbours 5 apart, so a nibble
    read for the wrong channel changes outputs); ``far``: the convolution's channel 3 at
    2^-17 instead (shift -17, past the quick kernels' nibble: the model keeps a byte per
    channel)."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("shift_ladder")
    s, c_in, c = 2.0**-4, 8, 19  # every activation scale: the effective scale is the filter's
    k = 1 + (5 * np.arange(c)) % 16
    x = start = g.tensor("x", (1, 6, 5, c_in), "int8", qparams(s, int(rng.integers(-20, 21))))
    for n, shape in enumerate([(c, 3, 3, c_in), (1, 3, 3, c)]):
        kk = k.copy()
        if far and n == 0:
            kk[3] = 17
        ws = (0.75 * 2.0 ** -kk).astype(np.float32)
        wt = g.const(f"w{n}", rng.integers(-127, 128, shape).astype(np.int8), qparams(ws, 0, 3 * n))
        b = g.const(f"b{n}", rng.integers(-3000, 3000, c).astype(np.int32), qparams(s * ws, 0))
        y = g.tensor(f"y{n}", (1, 6, 5, c), "int8", qparams(s, int(rng.integers(-20, 21))))
        conv_layer(g, bool(n), x, wt, b, y)
        x = y
    return g.build([start], [x])
