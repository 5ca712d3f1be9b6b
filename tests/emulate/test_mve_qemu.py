"""The Helium (MVE) kernels, built for Cortex-M55 and run on qemu-m55 (mps3-an547, which executes
MVE): outputs equal TFLM's exactly on shapes whose lengths are not multiples of 16 (tail
predication), and the ops without an MVE kernel fall back to their DSP ones in the same build."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from codegen.cases import check_against, random_inputs
from edgecraft.cli.build_cmd import build_project
from edgecraft.codegen import generate
from edgecraft.emulate import EmulateError, emulate, firmware
from edgecraft.formats import write_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph, Quantization
from edgecraft.models.synthetic import small_cnn
from edgecraft.plan import DEFAULT_ALGORITHM, PROFILE_ALGORITHM

pytestmark = pytest.mark.toolchain


def fc_chain(seed: int) -> Graph:
    """FULLY_CONNECTED layers in a chain, depths 37, 9, 16, 6, 1, 48, 32 (tails of 5, 9, 0, 6, 1,
    0, 0 bytes; 16, 48 and 32 with the input held in registers), unit counts that leave 0 to 3
    units after the blocks of four, per-channel and per-tensor filters (these with a zero
    point), with and without bias, every fused activation."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("fc_chain")
    rows, dims = 3, [37, 9, 16, 6, 1, 48, 32, 7]
    s = float(rng.uniform(0.02, 0.1))
    x = first = g.tensor("x", (rows, dims[0]), "int8", qparams(s, int(rng.integers(-20, 21))))
    acts = ["RELU", "NONE", "RELU6", "NONE", "RELU_N1_TO_1", "NONE", "RELU"]
    for k, (depth, units) in enumerate(itertools.pairwise(dims)):
        per_channel = k % 2 == 0
        ws = rng.uniform(0.002, 0.02, units if per_channel else 1).astype(np.float32)
        zero = 0 if per_channel else int(rng.integers(-9, 10))  # TFLM takes a per-tensor filter offset
        w = g.const(f"w{k}", rng.integers(-127, 128, (units, depth)).astype(np.int8), qparams(ws, zero))
        inputs = [x, w]
        if k != 1:
            bias = rng.integers(-3000, 3000, units).astype(np.int32)
            inputs.append(g.const(f"b{k}", bias, qparams(np.broadcast_to(s * ws, (units,)).copy(), 0)))
        s = s * float(ws.mean()) * 127 * np.sqrt(depth) / 16
        y = g.tensor(f"y{k}", (rows, units), "int8", qparams(s, int(rng.integers(-20, 21))))
        g.op("FULLY_CONNECTED", inputs, [y], fused_activation_function=acts[k], keep_num_dims=False)
        x = y
    return g.build([first], [x])


#: (kernel, stride, dilation, padding, output channels, groups) of each layer of conv_chain.
CONV_LAYERS = [(3, 1, 1, "SAME", 5, 1), (1, 1, 1, "SAME", 17, 1), (3, 2, 1, "VALID", 9, 1),
               (2, 1, 2, "SAME", 4, 1), (1, 2, 1, "VALID", 6, 1), (3, 1, 1, "SAME", 6, 2)]


def conv_chain(seed: int) -> Graph:
    """CONV_2D layers in a chain from a 9x7x3 input: padded 3x3, in-place 1x1, strided, dilated,
    a 1x1 with stride 2 (gathered, not in place), channel counts that leave vector tails, and a
    grouped layer (the DSP kernel in the same build)."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("conv_chain")
    h, w, c = 9, 7, 3
    s = float(rng.uniform(0.02, 0.1))
    x = first = g.tensor("x", (1, h, w, c), "int8", qparams(s, int(rng.integers(-20, 21))))
    for k, (kernel, stride, dil, padding, out_c, groups) in enumerate(CONV_LAYERS):
        ws = rng.uniform(0.002, 0.02, out_c).astype(np.float32)
        wt = g.const(f"w{k}", rng.integers(-127, 128, (out_c, kernel, kernel, c // groups)).astype(np.int8),
                     qparams(ws, 0, 0))
        b = g.const(f"b{k}", rng.integers(-3000, 3000, out_c).astype(np.int32), qparams(s * ws, 0))
        eff = (kernel - 1) * dil + 1
        h, w = (-(-h // stride), -(-w // stride)) if padding == "SAME" else ((h - eff) // stride + 1,
                                                                              (w - eff) // stride + 1)
        s = s * float(ws.mean()) * 127 * np.sqrt(kernel * kernel * c // groups) / 16
        y = g.tensor(f"y{k}", (1, h, w, out_c), "int8", qparams(s, int(rng.integers(-20, 21))))
        g.op("CONV_2D", [x, wt, b], [y], padding=padding, stride_h=stride, stride_w=stride,
             dilation_h_factor=dil, dilation_w_factor=dil,
             fused_activation_function="RELU" if k % 2 else "NONE")
        x, c = y, out_c
    return g.build([first], [x])


#: (kernel, stride, dilation, padding, depth multiplier) of each layer of depthwise_chain.
DEPTHWISE_LAYERS = [(3, 1, 1, "SAME", 1), (3, 2, 1, "VALID", 1), (2, 1, 2, "SAME", 1), (3, 1, 1, "SAME", 2),
                    (1, 1, 1, "VALID", 1)]


def depthwise_chain(seed: int, channels: int) -> Graph:
    """DEPTHWISE_CONV_2D layers in a chain from a 9x8 input: padded (every border case),
    strided, dilated, a depth multiplier of 2 (the DSP kernel in the same build)."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("depthwise_chain")
    h, w, c = 9, 8, channels
    s = float(rng.uniform(0.02, 0.1))
    x = first = g.tensor("x", (1, h, w, c), "int8", qparams(s, int(rng.integers(-20, 21))))
    for k, (kernel, stride, dil, padding, mult) in enumerate(DEPTHWISE_LAYERS):
        out_c = c * mult
        ws = rng.uniform(0.002, 0.02, out_c).astype(np.float32)
        wt = g.const(f"w{k}", rng.integers(-127, 128, (1, kernel, kernel, out_c)).astype(np.int8),
                     qparams(ws, 0, 3))
        b = g.const(f"b{k}", rng.integers(-3000, 3000, out_c).astype(np.int32), qparams(s * ws, 0))
        eff = (kernel - 1) * dil + 1
        h, w = (-(-h // stride), -(-w // stride)) if padding == "SAME" else ((h - eff) // stride + 1,
                                                                              (w - eff) // stride + 1)
        s = s * float(ws.mean()) * 127 * kernel / 16
        y = g.tensor(f"y{k}", (1, h, w, out_c), "int8", qparams(s, int(rng.integers(-20, 21))))
        g.op("DEPTHWISE_CONV_2D", [x, wt, b], [y], padding=padding, stride_h=stride, stride_w=stride,
             dilation_h_factor=dil, dilation_w_factor=dil, depth_multiplier=mult,
             fused_activation_function="RELU6" if k % 2 else "NONE")
        x, c = y, out_c
    return g.build([first], [x])


#: (kernel, stride, padding) of each layer of depthwise_rows_chain (all on the row kernel).
ROW_LAYERS = [(3, 1, "SAME"), (3, 2, "SAME"), (4, 1, "VALID"), (2, 2, "VALID"), (3, 1, "VALID")]


def depthwise_rows_chain(seed: int, channels: int) -> Graph:
    """DEPTHWISE_CONV_2D layers with rows of 8 or more outputs from a 20x41 input, which the
    Helium row kernel runs (``ec_depthwise_conv_2d_mve_rows_s8``): stride 1 with one load per
    two outputs, stride 2, a 4x4 window (one load per output), a 2x2 window, rows of 41, 21,
    18, 9 and 7 outputs (ends of 1, 1, 2, 1 outputs after the groups of four), padding on
    every side; the last layer (7 wide) is on the sixteen-channel kernel again."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("depthwise_rows_chain")
    h, w, c = 20, 41, channels
    s = float(rng.uniform(0.02, 0.1))
    x = first = g.tensor("x", (1, h, w, c), "int8", qparams(s, int(rng.integers(-20, 21))))
    for k, (kernel, stride, padding) in enumerate(ROW_LAYERS):
        ws = rng.uniform(0.002, 0.02, c).astype(np.float32)
        wt = g.const(f"w{k}", rng.integers(-127, 128, (1, kernel, kernel, c)).astype(np.int8),
                     qparams(ws, 0, 3))
        b = g.const(f"b{k}", rng.integers(-3000, 3000, c).astype(np.int32), qparams(s * ws, 0))
        h, w = (-(-h // stride), -(-w // stride)) if padding == "SAME" else ((h - kernel) // stride + 1,
                                                                              (w - kernel) // stride + 1)
        s = s * float(ws.mean()) * 127 * kernel / 16
        y = g.tensor(f"y{k}", (1, h, w, c), "int8", qparams(s, int(rng.integers(-20, 21))))
        g.op("DEPTHWISE_CONV_2D", [x, wt, b], [y], padding=padding, stride_h=stride, stride_w=stride,
             depth_multiplier=1, fused_activation_function="RELU6" if k % 2 else "NONE")
        x = y
    return g.build([first], [x])


#: (output channels, fused activation) of each 1x1 layer of pointwise_chain, from 4 channels.
POINTWISE_LAYERS = [(16, "RELU6"), (32, "NONE"), (48, "RELU"), (64, "NONE"), (8, "RELU6"), (20, "NONE")]


def pointwise_chain(seed: int) -> Graph:
    """1x1 CONV_2D layers on a 4x6 image, right shifts only: 4 and 8 input channels (four and
    two pixels a 16-byte row, block-diagonal filters), then depths 16, 32, 48 and 64 with unit
    counts in blocks of four (the fully connected product with the requantization in its loop)."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("pointwise_chain")
    c = 4
    s = float(rng.uniform(0.02, 0.1))
    x = first = g.tensor("x", (1, 4, 6, c), "int8", qparams(s, int(rng.integers(-20, 21))))
    for k, (out_c, act) in enumerate(POINTWISE_LAYERS):
        ws = rng.uniform(0.002, 0.02, out_c).astype(np.float32)
        wt = g.const(f"w{k}", rng.integers(-127, 128, (out_c, 1, 1, c)).astype(np.int8), qparams(ws, 0, 0))
        b = g.const(f"b{k}", rng.integers(-3000, 3000, out_c).astype(np.int32), qparams(s * ws, 0))
        s = s * float(ws.mean()) * 127 * np.sqrt(c) / 16
        y = g.tensor(f"y{k}", (1, 4, 6, out_c), "int8", qparams(s, int(rng.integers(-20, 21))))
        g.op("CONV_2D", [x, wt, b], [y], padding="VALID", stride_h=1, stride_w=1,
             fused_activation_function=act)
        x, c = y, out_c
    return g.build([first], [x])


def pool_graph(seed: int) -> Graph:
    """Pooling from an 18x16x21 input (21 channels: a full vector and a tail): a padded 3x3
    average (windows clipped at the border), a strided padded 3x3 maximum with RELU6, a 2x2
    strided average with RELU, and the global average over 288 taps (the int32 lanes)."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("pool_graph")
    q = qparams(float(rng.uniform(0.02, 0.1)), int(rng.integers(-20, 21)))
    x = g.tensor("x", (1, 18, 16, 21), "int8", q)
    a = g.tensor("a", (1, 18, 16, 21), "int8", q)
    g.op("AVERAGE_POOL_2D", [x], [a], padding="SAME", stride_h=1, stride_w=1, filter_height=3, filter_width=3,
         fused_activation_function="NONE")
    m = g.tensor("m", (1, 9, 8, 21), "int8", q)
    g.op("MAX_POOL_2D", [a], [m], padding="SAME", stride_h=2, stride_w=2, filter_height=3, filter_width=3,
         fused_activation_function="RELU6")
    s = g.tensor("s", (1, 4, 4, 21), "int8", q)
    g.op("AVERAGE_POOL_2D", [m], [s], padding="VALID", stride_h=2, stride_w=2, filter_height=2,
         filter_width=2, fused_activation_function="RELU")
    gl = g.tensor("g", (1, 1, 1, 21), "int8", q)
    g.op("AVERAGE_POOL_2D", [a], [gl], padding="VALID", stride_h=1, stride_w=1, filter_height=18,
         filter_width=16, fused_activation_function="NONE")
    return g.build([x], [s, gl])


def elementwise_graph(seed: int) -> Graph:
    """ADD, SUB and MUL on 1x5x7x3 tensors (105 elements: a predicated tail) with different
    scales and zero points and every clamp, and an ADD that broadcasts a 1x1x1x3 input (the
    DSP kernel in the same build)."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("elementwise_graph")
    shape = (1, 5, 7, 3)

    def q() -> Quantization:
        return qparams(float(rng.uniform(0.01, 0.2)), int(rng.integers(-40, 41)))

    a = g.tensor("a", shape, "int8", q())
    b = g.tensor("b", shape, "int8", q())
    c = g.tensor("c", (1, 1, 1, 3), "int8", q())
    s = g.tensor("s", shape, "int8", q())
    g.op("ADD", [a, b], [s], fused_activation_function="NONE")
    d = g.tensor("d", shape, "int8", q())
    g.op("SUB", [s, a], [d], fused_activation_function="RELU")
    m = g.tensor("m", shape, "int8", q())
    g.op("MUL", [d, b], [m], fused_activation_function="RELU6")
    e = g.tensor("e", shape, "int8", q())
    g.op("ADD", [m, c], [e], fused_activation_function="NONE")
    return g.build([a, b, c], [s, e])


def _check(graph: Graph, outputs: list[np.ndarray], batches: list[np.ndarray]) -> None:
    check_against(graph, outputs, batches, "qemu-m55 mve")


@pytest.mark.parametrize("seed", [1, 2])
def test_fully_connected_mve_is_exact_on_m55(seed: int) -> None:
    graph = fc_chain(seed)
    assert generate(graph, "k", mve=True).kernels == ["fully_connected_mve"]
    batches = random_inputs(graph, 2, seed)
    r = emulate(graph, "qemu-m55", batches, name="fc_chain")
    _check(graph, r.outputs, batches)


@pytest.mark.parametrize("seed", [1, 2])
def test_conv_2d_mve_is_exact_on_m55(seed: int) -> None:
    graph = conv_chain(seed)
    assert generate(graph, "k", mve=True).kernels == ["conv_2d_dsp", "conv_2d_mve", "fully_connected_mve"]
    batches = random_inputs(graph, 2, seed)
    r = emulate(graph, "qemu-m55", batches, name="conv_chain")
    _check(graph, r.outputs, batches)


@pytest.mark.parametrize("channels", [5, 8, 21])
def test_depthwise_conv_2d_mve_is_exact_on_m55(channels: int) -> None:
    graph = depthwise_chain(channels, channels)
    assert generate(graph, "k", mve=True).kernels == ["depthwise_conv_2d_dsp", "depthwise_conv_2d_mve"]
    batches = random_inputs(graph, 2, channels)
    r = emulate(graph, "qemu-m55", batches, name="depthwise_chain")
    _check(graph, r.outputs, batches)


@pytest.mark.parametrize("channels", [8, 19])
def test_depthwise_rows_mve_is_exact_on_m55(channels: int) -> None:
    graph = depthwise_rows_chain(channels, channels)
    code = generate(graph, "k", mve=True).files["k.c"]
    assert code.count("ec_depthwise_conv_2d_mve_rows_s8(") == 4
    assert code.count("ec_depthwise_conv_2d_mve_s8(") == 1
    batches = random_inputs(graph, 2, channels)
    r = emulate(graph, "qemu-m55", batches, name="depthwise_rows_chain")
    _check(graph, r.outputs, batches)


@pytest.mark.parametrize("level", ["-Os", "-O3"])
def test_helium_kernels_are_exact_built_at_os_and_o3(level: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A project built for size or for speed: the fully connected and depthwise row kernels'
    assembly stopped GCC there ("impossible constraints") until their loop counts shared a
    register; now they build and stay exact."""
    monkeypatch.setattr(firmware, "OPT", (level, *firmware.OPT[1:]))
    for graph in (fc_chain(1), depthwise_rows_chain(19, 19)):
        batches = random_inputs(graph, 2, 1)
        r = emulate(graph, "qemu-m55", batches, name=graph.name)
        _check(graph, r.outputs, batches)


def test_pointwise_mve_is_exact_on_m55() -> None:
    """Without patches (the per-operator build) the 4- and 8-channel layers run packed; the
    default plan runs the first layers band by band, unpacked (their parameter block rewritten)."""
    seed = 1
    graph = pointwise_chain(seed)
    code = generate(graph, "k", mve=True, algorithm=PROFILE_ALGORITHM).files["k.c"]
    assert ".rows = 6, .depth = 16, .units = 64" in code and ".rows = 12, .depth = 16, .units = 40" in code
    batches = random_inputs(graph, 2, seed)
    for per_op in (True, False):
        r = emulate(graph, "qemu-m55", batches, name="pointwise_chain", per_op=per_op)
        _check(graph, r.outputs, batches)


def _one_depthwise(width: int, shift_right: bool) -> Graph:
    g = GraphBuilder("one_depthwise")
    x = g.tensor("x", (1, 3, width, 8), "int8", qparams(0.05, 3))
    ws = np.full(8, 0.01, np.float32)
    wt = g.const("w", np.ones((1, 3, 3, 8), np.int8), qparams(ws, 0, 3))
    y = g.tensor("y", (1, 3, width, 8), "int8", qparams(0.02 if shift_right else 0.0001, -4))
    g.op("DEPTHWISE_CONV_2D", [x, wt], [y], padding="SAME", stride_h=1, stride_w=1, depth_multiplier=1,
         fused_activation_function="NONE")
    return g.build([x], [y])


@pytest.mark.parametrize(("width", "shift_right", "rows"), [(200, True, True), (2400, True, False),
                                                            (200, False, False), (7, True, False)])
def test_depthwise_row_kernel_only_where_it_applies(width: int, shift_right: bool, rows: bool) -> None:
    """The row kernel needs right shifts, rows of 8 outputs or more, and scratch rows its 16-bit
    scatter offsets reach (2400 columns do not); the others take the sixteen-channel kernel."""
    code = generate(_one_depthwise(width, shift_right), "k", mve=True).files["k.c"]
    assert ("ec_depthwise_conv_2d_mve_rows_s8(" in code) == rows
    assert ("ec_depthwise_conv_2d_mve_s8(" in code) != rows


def test_m55_builds_mve_by_default_and_falls_back_to_dsp_kernels() -> None:
    graph = small_cnn(seed=3)
    model = generate(graph, "k", dsp=True, mve=True)
    assert model.mve and {"fully_connected_mve", "conv_2d_mve", "depthwise_conv_2d_mve"} <= set(model.kernels)
    batches = random_inputs(graph, 2, 4)
    mve = emulate(graph, "qemu-m55", batches, name="small_cnn")
    dsp = emulate(graph, "qemu-m55", batches, name="small_cnn", mve=False)
    _check(graph, mve.outputs, batches)
    for a, b in zip(mve.outputs, dsp.outputs, strict=True):
        np.testing.assert_array_equal(a, b)
    assert mve.instructions < dsp.instructions


def test_mve_is_refused_on_a_core_without_it() -> None:
    with pytest.raises(EmulateError, match="no Helium"):
        emulate(small_cnn(seed=3), "qemu-m4", random_inputs(small_cnn(seed=3), 1), mve=True)


def test_build_for_the_m55_board_selects_the_mve_kernels(tmp_path: Path) -> None:
    model = tmp_path / "fc_chain.tflite"
    model.write_bytes(write_tflite(fc_chain(3)))
    result = build_project(model, "qemu-m55", tmp_path / "out", None, None, DEFAULT_ALGORITHM)
    assert result["mve"] and result["kernels"] == ["fully_connected_mve"]
    assert (tmp_path / "out" / "src" / "ec_fully_connected_mve.c").exists() and result["ram"]["stack"] > 0
    m4 = build_project(model, "qemu-m4", tmp_path / "m4", None, None, DEFAULT_ALGORITHM, stack=False)
    # a DSP build names the fully connected file and the quick convolution's (the op's code
    # record); the linker keeps the one called, here the fully connected kernel
    assert not m4["mve"] and m4["kernels"] == ["conv_2d_quick_dsp", "fully_connected_dsp"]


def test_m55_holds_more_constants_than_its_512_kib_itcm() -> None:
    """mps3-an547's ITCM (512 KiB, where the core boots) keeps the code; the constants go to the
    2 MiB FPGA SRAM and the data to the 4 MiB ISRAM, so 600 KiB of weights build and run exactly."""
    rng = np.random.default_rng(5)
    g = GraphBuilder("big_fc")
    x = g.tensor("x", (1, 768), "int8", qparams(0.05, 3))
    ws = rng.uniform(0.002, 0.02, 800).astype(np.float32)
    w = g.const("w", rng.integers(-127, 128, (800, 768)).astype(np.int8), qparams(ws, 0))
    b = g.const("b", rng.integers(-3000, 3000, 800).astype(np.int32), qparams(0.05 * ws, 0))
    y = g.tensor("y", (1, 800), "int8", qparams(0.9, -4))
    g.op("FULLY_CONNECTED", [x, w, b], [y], fused_activation_function="NONE", keep_num_dims=False)
    graph = g.build([x], [y])
    batches = random_inputs(graph, 1, 5)
    r = emulate(graph, "qemu-m55", batches, name="big_fc")
    assert r.flash_bytes > 600 * 1024
    _check(graph, r.outputs, batches)


@pytest.mark.parametrize("seed", [1, 2])
def test_pooling_mve_is_exact_on_m55(seed: int) -> None:
    graph = pool_graph(seed)
    assert generate(graph, "k", mve=True).kernels == ["pooling_mve"]
    batches = random_inputs(graph, 2, seed)
    r = emulate(graph, "qemu-m55", batches, name="pool_graph")
    _check(graph, r.outputs, batches)


@pytest.mark.parametrize("seed", [1, 2])
def test_add_sub_mul_mve_are_exact_on_m55(seed: int) -> None:
    graph = elementwise_graph(seed)
    assert generate(graph, "k", mve=True).kernels == ["add_table", "elementwise_mve"]
    batches = random_inputs(graph, 2, seed)
    r = emulate(graph, "qemu-m55", batches, name="elementwise_graph")
    _check(graph, r.outputs, batches)
