"""The DSP kernels trimmed for flash (issue 14, point 6), compiled for this machine against TFLM
(tolerance 0): FULLY_CONNECTED's entry without scratch, which the generator now calls for long
rows and filters with a zero point, and AVERAGE_POOL_2D summing four channels per word in
halfwords (EC_POOL_PAIRS, the default on DSP cores), windows past 255 pixels included, and its
small entry for windows over the whole image; FULLY_CONNECTED run as the quick convolution
kernel's 1x1 convolution in models that link that kernel anyway."""

from __future__ import annotations

import re

import numpy as np
import pytest
from cases import CASES, random_inputs, tflm_outputs
from quick_cases import conv_layer, global_pool, quick_head

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel
from edgecraft.ir import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.plan.lifetimes import scratch_bytes
from oracle import check_tensor


def _fc(depth: int, units: int, filter_zero_point: int, rows: int = 2) -> Graph:
    rng = np.random.default_rng(depth + units)
    g = GraphBuilder("fc_direct")
    x = g.tensor("x", (rows, depth), "int8", qparams(0.05, 7))
    w = g.const("w", rng.integers(-100, 100, (units, depth)).astype(np.int8),
                qparams(0.01, filter_zero_point))
    b = g.const("b", rng.integers(-3000, 3000, units).astype(np.int32), qparams(0.0005, 0))
    y = g.tensor("y", (rows, units), "int8", qparams(0.05 * 0.01 * 100 * np.sqrt(depth) / 4, -3))
    g.op("FULLY_CONNECTED", [x, w, b], [y], fused_activation_function="NONE", keep_num_dims=False)
    return g.build([x], [y])


@pytest.mark.parametrize(("depth", "units", "zp"), [(1030, 6, 0), (37, 9, 5)], ids=["long_rows", "filter_zp"])
def test_fc_without_scratch_matches_tflm(depth: int, units: int, zp: int) -> None:
    graph = _fc(depth, units, zp)
    model = generate(graph, "fcd", dsp=True)
    assert "ec_fully_connected_dsp_direct_s8(" in model.files["fcd.c"]
    batches = random_inputs(graph, 4, seed=2)
    outs = HostModel(model, opt="-O1").run_batch(batches)
    for b in range(4):
        want = tflm_outputs(graph, [x[b] for x in batches])[0]
        check_tensor(outs[0][b], want, f"fc direct {depth} input {b}")


def _fc_pair() -> Graph:
    """x (1, 256) -> FULLY_CONNECTED -> (1, 64) -> FULLY_CONNECTED -> (1, 12)."""
    rng = np.random.default_rng(3)
    g = GraphBuilder("fc_pair")
    x = g.tensor("x", (1, 256), "int8", qparams(0.05, 7))
    last, depth, scale = x, 256, 0.05
    for n, units in enumerate((64, 12)):
        w = g.const(f"w{n}", rng.integers(-100, 100, (units, depth)).astype(np.int8), qparams(0.01, 0))
        b = g.const(f"b{n}", rng.integers(-3000, 3000, units).astype(np.int32), qparams(scale * 0.01, 0))
        y_scale = scale * 0.01 * 100 * np.sqrt(depth) / 4
        y = g.tensor(f"y{n}", (1, units), "int8", qparams(y_scale, -3))
        g.op("FULLY_CONNECTED", [last, w, b], [y], fused_activation_function="NONE", keep_num_dims=False)
        last, depth, scale = y, units, y_scale
    return g.build([x], [last])


def test_fc_with_scratch_calls_the_pairs_entry() -> None:
    """The second layer's scratch stays below the arena's peak (the first layer's 256 + 64 B):
    it takes the pairs entry; the first layer's would lift the peak: the entry without."""
    graph = _fc_pair()
    model = generate(graph, "fcs", dsp=True)
    calls = [ln for ln in model.files["fcs.c"].splitlines() if "ec_fully_connected_dsp" in ln and ");" in ln]
    assert len(calls) == 2 and "_direct_s8(" in calls[0] and "ec_fully_connected_dsp_s8(" in calls[1], calls
    batches = random_inputs(graph, 4, seed=4)
    outs = HostModel(model).run_batch(batches)
    for b in range(4):
        check_tensor(outs[0][b], tflm_outputs(graph, [x[b] for x in batches])[0], f"fc pair input {b}")


#: (h, w, c, activation, batches), whether the whole-image entry takes it
GLOBAL_POOLS = [((25, 5, 64, "NONE", 1), True), ((3, 3, 8, "RELU", 1), True), ((15, 17, 4, "NONE", 1), True),
                ((1, 1, 4, "RELU6", 1), True), ((16, 16, 4, "NONE", 1), False), ((5, 5, 6, "NONE", 1), False),
                ((3, 3, 4, "NONE", 2), False)]


@pytest.mark.parametrize("pairs", [1, 0], ids=["pairs", "plain"])
def test_global_average_pool_entry_matches_tflm(pairs: int) -> None:
    """A window over the whole image (KWS's 25 x 5 x 64 head, an odd pixel count with a clamp,
    255 pixels at both extremes, one pixel) takes ec_global_average_pool_s8 without a parameter
    block; 256 pixels, 6 channels or 2 batches keep the general entry; all exact, with the
    halfword sums and without."""
    for k, (shape, small) in enumerate(GLOBAL_POOLS):
        graph = global_pool(*shape)
        model = generate(graph, f"gp{k}", dsp=True)
        source = model.files[f"gp{k}.c"]
        assert ("ec_global_average_pool_s8(" in source) is small and ("ec_pool_params" in source) is not small
        batches = random_inputs(graph, 3, seed=k)
        batches[0][0], batches[0][1] = 127, -128  # the sums' extremes
        outs = HostModel(model, opt="-O1", cflags=(f"-DEC_POOL_PAIRS={pairs}",)).run_batch(batches)
        for b in range(3):
            check_tensor(outs[0][b], tflm_outputs(graph, [x[b] for x in batches])[0], f"pool {shape} {b}")


def test_average_pool_halfword_sums_match_tflm() -> None:
    """Random windows (clipped, strided) and global windows of 125 and 600 pixels (the halfword
    sums emptied twice), 4 and 7 channels, with EC_POOL_PAIRS on the host."""
    rng = np.random.default_rng(5)
    graphs = [CASES["AVERAGE_POOL_2D"](rng) for _ in range(4)]
    graphs += [global_pool(25, 5, 4), global_pool(20, 30, 7)]
    for k, graph in enumerate(graphs):
        batches = random_inputs(graph, 3, seed=k)
        if k >= 4:  # the extremes, where a halfword would overflow without emptying
            batches[0][0] = 127 if k == 4 else -128
        outs = HostModel(generate(graph, f"pool{k}", dsp=True), opt="-O1",
                         cflags=("-DEC_POOL_PAIRS=1",)).run_batch(batches)
        for b in range(3):
            check_tensor(outs[0][b], tflm_outputs(graph, [x[b] for x in batches])[0], f"pool {k} input {b}")


def _wide_conv(width: int, depthwise: bool) -> Graph:
    """A 1x3 convolution (or depthwise) over one row of ``width`` pixels, 4 channels, int8 clamp."""
    rng = np.random.default_rng(width)
    g = GraphBuilder("wide")
    x = g.tensor("x", (1, 1, width, 4), "int8", qparams(0.05, -1))
    shape = (1, 1, 3, 4) if depthwise else (4, 1, 3, 4)
    ws = np.full(4, 0.01, np.float32)
    w = g.const("w", rng.integers(-127, 128, shape).astype(np.int8), qparams(ws, 0, 3 if depthwise else 0))
    b = g.const("b", rng.integers(-300, 300, 4).astype(np.int32), qparams(0.05 * ws, 0))
    y = g.tensor("y", (1, 1, width, 4), "int8", qparams(0.2, 3))
    conv_layer(g, depthwise, x, w, b, y)
    return g.build([x], [y])


@pytest.mark.parametrize("depthwise", [False, True], ids=["conv", "depthwise"])
def test_quick_block_is_halfwords_and_wider_layers_keep_the_general_kernel(depthwise: bool) -> None:
    """The quick kernels' compact block holds the geometry in halfwords: a row of 33,000
    pixels takes the general DSP kernel, 1,000 the quick one, both exact."""
    stem = "depthwise_conv_2d" if depthwise else "conv_2d"
    for width, quick in ((1000, True), (33_000, False)):
        graph = _wide_conv(width, depthwise)
        model = generate(graph, "wide", dsp=True)
        source = model.files["wide.c"]
        assert (f"ec_{stem}_quick_dsp_s8(" in source) is quick
        assert ("static const ec_quick_params op0" in source) is quick
        assert (f"ec_{stem}_dsp_s8(" in source) is not quick
        batches = random_inputs(graph, 2, seed=width)
        outs = HostModel(model, opt="-O1").run_batch(batches)
        for b in range(2):
            want = tflm_outputs(graph, [x[b] for x in batches])[0]
            check_tensor(outs[0][b], want, f"{stem} width {width} input {b}")


#: quick_head arguments: KWS's head (pool, 16 -> 12, one row), a per-tensor filter (3 rows of
#: 18: two leftover values, 5 units: an odd one), 2 rows of 12 (quads 3) to 7 units.
QUICK_HEADS = [((1, (5, 5), 16, 12), {"pool": True}), ((2, (3, 3), 6, 5), {"per_channel": False}),
               ((3, (2, 2), 6, 7), {})]


@pytest.mark.parametrize(("args", "kw"), QUICK_HEADS, ids=["kws_head", "per_tensor", "quads3"])
def test_fc_on_the_quick_conv_kernel_matches_tflm(args: tuple, kw: dict) -> None:  # type: ignore[type-arg]
    """The convolution links ec_conv_2d_quick_dsp.c: the FULLY_CONNECTED calls it too, not the
    fully connected kernel (whose file the linker then leaves out); its scratch holds the two
    pixels' operands."""
    graph = quick_head(*args, **kw)
    model = generate(graph, "hd", dsp=True)
    assert model.files["hd.c"].count("ec_conv_2d_quick_dsp_s8(&") == 2
    assert "ec_fully_connected" not in model.files["hd.c"].split("_invoke(")[-1]
    fc = len(graph.operators) - 1
    depth = graph.tensors[graph.operators[fc].inputs[1]].shape[1]
    assert scratch_bytes(graph, fc, "dsp") == 4 * (depth + depth % 4)
    batches = random_inputs(graph, 3, seed=args[0])
    outs = HostModel(model, opt="-O1").run_batch(batches)
    for b in range(3):
        check_tensor(outs[0][b], tflm_outputs(graph, [x[b] for x in batches])[0], f"head {args} {b}")


def test_fc_keeps_its_kernel_where_the_quick_one_does_not_fit_or_is_not_linked() -> None:
    """A clamp (RELU), a filter zero point, a convolution off the quick kernel (RELU6) or no
    convolution at all (fully connected models such as AD keep their tuned kernel)."""
    heads = [quick_head(4, (3, 3), 6, 5, fc_act="RELU"),
             quick_head(5, (3, 3), 6, 5, per_channel=False, filter_zero_point=3),
             quick_head(6, (3, 3), 6, 5)]
    heads[2].operators[0].attrs["fused_activation_function"] = "RELU6"
    for k, graph in enumerate([*heads, _fc(37, 9, 0)]):
        invoke = generate(graph, "fk", dsp=True).files["fk.c"].split("_invoke(")[-1]
        assert re.search(rf"ec_fully_connected_dsp(_direct)?_s8\(&op{len(graph.operators) - 1},", invoke), k
