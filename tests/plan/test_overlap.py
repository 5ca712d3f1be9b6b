"""Partial overlap of windowed ops: the offset rule against a simulated in-order C kernel, and
the generated C on QEMU bit-exact with TFLM under the overlap plan."""

from __future__ import annotations

import random

import numpy as np
import pytest

from edgecraft.formats import read_tflite, write_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.models.synthetic import small_cnn
from edgecraft.ops.base import OpContext
from edgecraft.ops.conv_common import out_size_and_padding, pool_filter, window_geometry
from edgecraft.plan import plan_memory
from edgecraft.plan.overlap import SLACK_PIXELS, overlap_offset
from oracle import CONFORMANCE, check_tensor


def make_op(kind: str, h: int, w: int, c: int, kh: int, kw: int, padding: str, stride: tuple[int, int],
            dilation: tuple[int, int] = (1, 1), out_c: int | None = None) -> Graph:
    """A one-op graph: CONV_2D, DEPTHWISE_CONV_2D or a pool on a batch-1 NHWC int8 tensor."""
    conv = kind in ("CONV_2D", "DEPTHWISE_CONV_2D")
    out_c = out_c or c
    attrs = dict(padding=padding, stride_h=stride[0], stride_w=stride[1], fused_activation_function="NONE")
    b = GraphBuilder()
    x = b.tensor("x", (1, h, w, c), quant=qparams(0.1, 0))
    ins = [x]
    if conv:
        attrs.update(dilation_h_factor=dilation[0], dilation_w_factor=dilation[1])
        shape = (out_c, kh, kw, c) if kind == "CONV_2D" else (1, kh, kw, out_c)
        if kind == "DEPTHWISE_CONV_2D":
            attrs["depth_multiplier"] = out_c // c
        ins.append(b.const("w", np.ones(shape, np.int8), qparams(0.1, 0)))
    else:
        attrs.update(filter_height=kh, filter_width=kw)
    d = dilation if conv else (1, 1)
    oh, _ = out_size_and_padding(h, kh, stride[0], d[0], padding)
    ow, _ = out_size_and_padding(w, kw, stride[1], d[1], padding)
    y = b.tensor("y", (1, oh, ow, out_c), quant=qparams(0.1, 0))
    b.op(kind, ins, [y], **attrs)
    return b.build([x], [y])


def windowed_op(rng: random.Random) -> Graph:
    kind = rng.choice(["CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"])
    h, w, c = rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 4)
    padding = rng.choice(["SAME", "VALID"])
    kh, kw = rng.randint(1, 3), rng.randint(1, 3)
    if padding == "VALID":
        kh, kw = min(kh, h), min(kw, w)
    out_c = rng.randint(1, 6) if kind == "CONV_2D" else c * rng.randint(1, 2) if kind != "MAX_POOL_2D" else c
    if kind == "AVERAGE_POOL_2D":
        out_c = c
    dilation = (rng.choice([1, 1, 2]), rng.choice([1, 1, 2])) if padding == "SAME" else (1, 1)
    return make_op(kind, h, w, c, kh, kw, padding, (rng.randint(1, 2), rng.randint(1, 2)), dilation, out_c)


def run_in_place(graph: Graph, d: int, block: int) -> bool:
    """Run a toy kernel with the op's window geometry in one byte array, output at input + d,
    ``block`` output pixels read before they are written (row-major), and compare with the
    same kernel on separate buffers."""
    op = graph.operators[0]
    x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    _, h, w, c = x.shape
    _, oh, ow, oc = y.shape
    ctx = OpContext(op, graph)
    if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        kh, kw = graph.tensors[op.inputs[1]].shape[1:3]
        dh, dw = op.attrs["dilation_h_factor"], op.attrs["dilation_w_factor"]
    else:
        (kh, kw), dh, dw = pool_filter(ctx), 1, 1
    _, _, top, left = window_geometry(ctx, h, w, kh, kw, op.type in ("CONV_2D", "DEPTHWISE_CONV_2D"))
    sh, sw = op.attrs["stride_h"], op.attrs["stride_w"]
    base = max(0, -d)
    arena = np.zeros(base + max(h * w * c, d + oh * ow * oc) + 8, np.int64)
    arena[base:base + h * w * c] = np.arange(1, h * w * c + 1) * 7 % 251
    pristine = arena[base:base + h * w * c].copy()

    def pixel(src: np.ndarray, start: int, r: int, col: int) -> list[int]:
        vals = []
        for k in range(oc):
            acc = 0
            for i in range(kh):
                for j in range(kw):
                    yy, xx = r * sh - top + i * dh, col * sw - left + j * dw
                    if 0 <= yy < h and 0 <= xx < w:
                        chans = range(c) if op.type == "CONV_2D" else [k * c // oc]
                        acc += sum(int(src[start + (yy * w + xx) * c + ch]) * (k + 1) for ch in chans)
            vals.append(acc % 65521)
        return vals

    want = [pixel(pristine, 0, p // ow, p % ow) for p in range(oh * ow)]
    for p0 in range(0, oh * ow, block):
        pixels = range(p0, min(p0 + block, oh * ow))
        got = [pixel(arena, base, p // ow, p % ow) for p in pixels]
        for p, vals in zip(pixels, got, strict=True):
            arena[base + d + p * oc:base + d + (p + 1) * oc] = vals
    return bool(np.array_equal(arena[base + d:base + d + oh * ow * oc], np.array(want).reshape(-1)))


def test_overlap_offset_is_safe_for_in_order_kernels():
    rng = random.Random(11)
    for _ in range(150):
        g = windowed_op(rng)
        d = overlap_offset(g, 0)
        assert d is not None
        for block in (1, SLACK_PIXELS + 1):
            assert run_in_place(g, d, block), (g.operators[0].type, g.operators[0].attrs, d)


def test_the_rule_is_tight_enough_to_matter():
    # A 3x3 stride-1 depthwise on 8x8x4: the output may start (W + 1 + slack) pixels below its
    # input, far less than a whole tensor; starting at the input itself would clobber row 0.
    g = make_op("DEPTHWISE_CONV_2D", 8, 8, 4, 3, 3, "SAME", (1, 1))
    d = overlap_offset(g, 0)
    assert d == -(8 + 1 + 1 + SLACK_PIXELS) * 4
    assert run_in_place(g, d, 1) and not run_in_place(g, 0, 1)


def test_no_overlap_for_batches_or_non_windowed_ops():
    b = GraphBuilder()
    x, y = b.tensor("x", (2, 4, 4, 1)), b.tensor("y", (2, 2, 2, 1))
    b.op("MAX_POOL_2D", [x], [y], padding="VALID", stride_w=2, stride_h=2, filter_width=2, filter_height=2)
    z = b.tensor("z", (2, 2, 2, 1))
    b.op("RELU", [y], [z])
    g = b.build([x], [z])
    assert overlap_offset(g, 0) is None and overlap_offset(g, 1) is None
    assert plan_memory(g).overlaps == ()


def _emulate_against_tflm(graph: Graph, target: str, dsp: bool) -> None:
    from edgecraft.codegen import generate
    from edgecraft.emulate.machines import machine
    from edgecraft.emulate.runner import emulate_generated
    from edgecraft.reference import run_tflm

    rng = np.random.default_rng(3)
    xs = [rng.integers(-128, 128, (2, *t.shape), dtype=np.int8) for t in graph.input_tensors()]
    model = generate(graph, "model", dsp=dsp, algorithm="overlap")
    kernels = "dsp" if dsp else "portable"  # the DSP kernels' scratch is planned in the arena
    assert model.arena_bytes == plan_memory(graph, "overlap", 16, kernels=kernels).arena_bytes
    got = emulate_generated(model, machine(target), xs).outputs[0]
    for i in range(2):
        want = run_tflm(write_tflite(graph), [x[i] for x in xs])[0]
        check_tensor(got[i], want, f"{target} dsp={dsp} sample {i}")


@pytest.mark.toolchain
@pytest.mark.parametrize(("target", "dsp"), [("qemu-m4", True), ("qemu-m3", False)])
def test_generated_c_is_exact_with_overlapping_buffers(target: str, dsp: bool) -> None:
    graph = small_cnn()
    assert plan_memory(graph).overlaps
    _emulate_against_tflm(graph, target, dsp)


@pytest.mark.toolchain
@pytest.mark.conformance
def test_generated_c_is_exact_on_vww_with_overlapping_buffers() -> None:
    path = CONFORMANCE / "vww_96_int8.tflite"
    if not path.exists():
        pytest.skip(f"conformance corpus not found at {CONFORMANCE}")
    _emulate_against_tflm(read_tflite(path), "qemu-m4", True)
