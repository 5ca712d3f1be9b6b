"""The DSP kernels' quick case (``ec_conv_2d_quick_dsp.c``, ``ec_depthwise_conv_2d_quick_dsp.c``,
the SMMLAR requantization in ``ec_dsp.h``), the DSP fully connected kernel's long rows and the
row-wise PAD, compiled for this machine (intrinsics in plain C), against TFLM, tolerance 0, on
graphs that reach every path; one build of each under ASan + UBSan. The generator must pick
the quick kernels for every layer there (the call in the generated source; both files are
compiled)."""

from __future__ import annotations

import re
from importlib import resources

import numpy as np
import pytest
from cases import check_against, random_inputs
from quick_cases import (
    far_dilation,
    long_fully_connected,
    pad_chain,
    quick_conv_chain,
    quick_depthwise_chain,
    shift_ladder,
    wide_accumulator_layer,
)

from edgecraft.codegen import GeneratedModel, generate
from edgecraft.codegen.host import HostModel, run_sanitized
from edgecraft.codegen.ops_c_quick import channel_words, depthwise_quads, rshift_table
from edgecraft.ops.arith import conv_multipliers
from edgecraft.ops.quick import DW_GROUP_WORDS, byte_shifts, depthwise_group_fits, depthwise_passes


def _calls(model: GeneratedModel, kernel: str) -> int:
    return sum(text.count(f"{kernel}(&") for name, text in model.files.items() if name.endswith(".c"))


@pytest.mark.parametrize(("seed", "first"), [(1, (9, 7, 3, 0)), (2, (13, 6, 1, 5)), (3, (11, 8, 2, 4))])
def test_quick_conv_matches_tflm(seed: int, first: tuple[int, int, int, int]) -> None:
    graph = quick_conv_chain(seed, first)
    model = generate(graph, "quick", dsp=True)
    assert model.kernels == ["conv_2d_dsp", "conv_2d_quick_dsp"]
    assert _calls(model, "ec_conv_2d_quick_dsp_s8") == len(graph.operators)
    batches = random_inputs(graph, 6, seed)
    check_against(graph, HostModel(model).run_batch(batches), batches, f"quick conv seed {seed}")


@pytest.mark.parametrize("channels", [4, 7, 13, 35, 64])
def test_quick_depthwise_matches_tflm(channels: int) -> None:
    graph = quick_depthwise_chain(channels, channels)
    model = generate(graph, "quick", dsp=True)
    assert model.kernels == ["depthwise_conv_2d_dsp", "depthwise_conv_2d_quick_dsp"]
    assert _calls(model, "ec_depthwise_conv_2d_quick_dsp_s8") == len(graph.operators)
    batches = random_inputs(graph, 6, channels)
    check_against(graph, HostModel(model).run_batch(batches), batches, f"quick depthwise {channels} channels")


@pytest.mark.parametrize("depthwise", [False, True])
def test_accumulators_past_2_30_take_the_quick_kernels_exactly(depthwise: bool) -> None:
    """The requantization takes TFLM's accumulator undoubled (SMMLAR with 2 m - 2^32), so a
    layer whose biases reach past 2^30 runs on the quick kernel, exact: scaled into the int8
    range (right shifts past 16 bits, a byte each) and scaled by 2^-16 to 2^-13 (shifts two a
    byte; outputs clamped, each to its accumulator's sign, both seen)."""
    stem = "depthwise_conv_2d" if depthwise else "conv_2d"
    for clamped in (True, False):
        graph = wide_accumulator_layer(11, depthwise, clamped)
        model = generate(graph, "wide", dsp=True)
        assert _calls(model, f"ec_{stem}_quick_dsp_s8") == 1
        batches = random_inputs(graph, 4, 11)
        outs = HostModel(model).run_batch(batches)
        inside = int(((outs[0] > -128) & (outs[0] < 127)).sum())
        assert inside == 0 and {-128, 127} <= set(outs[0].ravel().tolist()) if clamped else inside > 0
        check_against(graph, outs, batches, f"wide accumulators {stem} clamped {clamped}")


def test_a_dilation_past_a_byte_keeps_the_general_kernels_exactly() -> None:
    """ec_quick_params holds a dilation in a byte: dilated by 127 both layers take the quick
    kernels, by 128 the general ones; both exact."""
    for dilation, quick in ((127, 1), (128, 0)):
        graph = far_dilation(5, dilation)
        model = generate(graph, f"far{dilation}", dsp=True)
        for stem in ("conv_2d", "depthwise_conv_2d"):
            calls = _calls(model, f"ec_{stem}_quick_dsp_s8"), _calls(model, f"ec_{stem}_dsp_s8")
            assert calls == (quick, 1 - quick), (dilation, stem)
        batches = random_inputs(graph, 3, 5)
        check_against(graph, HostModel(model).run_batch(batches), batches, f"dilation {dilation}")


def test_depthwise_output_over_its_input_off_a_pixel_keeps_one_pass() -> None:
    """47 channels: a 3x3 layer takes two passes (8 + 3 quads, 3 leftovers); where the plan puts
    its output over its input at a shift that is not a whole pixel, a first pass would overwrite
    the second's inputs, so that layer keeps the general kernel; every layer exact."""
    graph = quick_depthwise_chain(47, 47)
    model = generate(graph, "overlap", dsp=True)
    general, quick = (_calls(model, f"ec_depthwise_conv_2d{k}_dsp_s8") for k in ("", "_quick"))
    assert general > 0 and general + quick == len(graph.operators)
    batches = random_inputs(graph, 3, 47)
    check_against(graph, HostModel(model).run_batch(batches), batches, "depthwise 47 channels")


def test_quick_depthwise_filter_is_stored_as_int8() -> None:
    """The quick depthwise kernel's filter takes the model's int8 bytes (reordered per four
    channels), not halfword pairs: a KWS-like 3x3 layer of 64 channels stores 576 bytes."""
    graph = quick_depthwise_chain(3, 64)
    source = generate(graph, "int8", dsp=True).files["int8.c"]
    for k, op in enumerate(graph.operators):
        taps = int(np.prod(graph.tensors[op.inputs[1]].shape))
        assert f"  int8_t weights[{taps}];\n}} op{k}_tables" in source
    assert "int32_t op0_pairs" not in source and "int32_t weights" not in source


def test_depthwise_group_buffer_agrees_with_the_kernel() -> None:
    """ops/quick.py's DW_GROUP_WORDS is the kernel's EC_DW_WORDS (the generator admits a filter
    whose quad of taps fits it; the kernel sizes its stack buffer and groups with it)."""
    kernels = resources.files("edgecraft.codegen").joinpath("kernels")
    text = kernels.joinpath("ec_depthwise_conv_2d_quick_dsp.c").read_text()
    found = re.search(r"#define EC_DW_WORDS (\d+)", text)
    assert found is not None and int(found.group(1)) == DW_GROUP_WORDS
    assert depthwise_group_fits((1, 8, 9, 4)) and not depthwise_group_fits((1, 9, 9, 4))
    assert depthwise_passes((1, 3, 3, 64), 64) == 2 and depthwise_passes((1, 5, 5, 13), 13) == 2


def test_depthwise_quads_layout() -> None:
    """Per four channels per tap one word of the four values, then per tap the leftovers."""
    w = np.arange(2 * 9, dtype=np.int8).reshape(1, 2, 1, 9)  # taps t0, t1; channels 0..8
    got = depthwise_quads(w)
    want = [0, 1, 2, 3, 9, 10, 11, 12, 4, 5, 6, 7, 13, 14, 15, 16, 8, 17]
    assert got.dtype == np.int8 and got.tolist() == want


def test_right_shifts_per_channel_as_nibbles_match_tflm() -> None:
    """19 channels with shifts -1 to -16, each its neighbours' 5 apart (two a byte, the odd last
    channel's low nibble; the depthwise quads' halfword and leftover channels): both layers on
    the quick kernels, exact; the tables hold 10 bytes, the kernels built for nibbles."""
    graph = shift_ladder(3)
    assert not byte_shifts(graph)
    for op in graph.operators:
        x, w, y = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
        _, shift = conv_multipliers(x.scale, w.quant.scale, y.scale, 19)
        assert sorted(set(shift.tolist())) == list(range(-16, 0))
    model = generate(graph, "ladder", dsp=True)
    assert _calls(model, "ec_conv_2d_quick_dsp_s8") == _calls(model, "ec_depthwise_conv_2d_quick_dsp_s8") == 1
    assert model.files["ladder.c"].count("uint8_t rshift[12];") == 2  # 10 bytes, to a word
    for kernel in ("conv_2d", "depthwise_conv_2d"):
        assert "#define EC_QUICK_BYTE_SHIFTS 0" in model.files[f"ec_{kernel}_quick_dsp.c"]
    batches = random_inputs(graph, 4, 3)
    check_against(graph, HostModel(model).run_batch(batches), batches, "shift ladder")


def test_right_shift_past_16_keeps_a_byte_per_channel() -> None:
    """A shift of -17 does not fit a nibble: that model's quick kernels take a byte per channel
    (every layer's table 19 bytes, EC_QUICK_BYTE_SHIFTS left on), both layers still quick, exact."""
    graph = shift_ladder(4, far=True)
    assert byte_shifts(graph)
    model = generate(graph, "far", dsp=True)
    assert _calls(model, "ec_conv_2d_quick_dsp_s8") == _calls(model, "ec_depthwise_conv_2d_quick_dsp_s8") == 1
    assert model.files["far.c"].count("uint8_t rshift[20];") == 2  # 19 bytes, to a word
    for kernel in ("conv_2d", "depthwise_conv_2d"):
        assert "#define EC_QUICK_BYTE_SHIFTS 0" not in model.files[f"ec_{kernel}_quick_dsp.c"]
    batches = random_inputs(graph, 4, 4)
    check_against(graph, HostModel(model).run_batch(batches), batches, "shift -17")


def test_rshift_table_layout() -> None:
    """-shift - 1 two channels a byte, the even channel in the low nibble (an odd count padded),
    or a byte each."""
    assert rshift_table(np.array([-1, -16, -5]), nibbles=True).tolist() == [0xF0, 0x04]
    assert rshift_table(np.array([-1, -17, -5]), nibbles=False).tolist() == [0, 16, 4]


def test_channel_words_layout() -> None:
    """Per pair of channels bias, bias, 2 m - 2^32 (twice); an odd last channel padded with 0."""
    m = np.array([2**30, 2**30 + 1, 2**31 - 1])
    got = channel_words(np.array([5, -6, 7]), m).tolist()
    assert got == [5, -6, -(2**31), -(2**31) + 2, 7, 0, -2, 0]


def test_parameter_block_points_to_one_table() -> None:
    """Each quick layer's block holds one pointer, to its tables (no separate arrays)."""
    graph = quick_depthwise_chain(7, 7)
    source = generate(graph, "one", dsp=True).files["one.c"]
    for k in range(len(graph.operators)):
        assert f".tables = op{k}_tables.chan," in source
    assert "_multiplier[" not in source and "_rshift[" not in source and "_filter[" not in source


def test_long_fully_connected_rows_match_tflm() -> None:
    graph = long_fully_connected(2, depth=1030, units=9)
    batches = random_inputs(graph, 4, 2)
    check_against(graph, HostModel(generate(graph, "fc", dsp=True)).run_batch(batches), batches, "long fc")


def test_row_wise_pad_matches_tflm() -> None:
    graph = pad_chain(1)
    batches = random_inputs(graph, 4, 1)
    check_against(graph, HostModel(generate(graph, "pad")).run_batch(batches), batches, "pad chain")


def test_quick_kernels_clean_under_sanitizers() -> None:
    graphs = (quick_conv_chain(4, (10, 5, 1, 4)), quick_depthwise_chain(5, 6), quick_depthwise_chain(6, 36),
              long_fully_connected(5), pad_chain(2), shift_ladder(7))
    for graph in graphs:
        batches = random_inputs(graph, 2, seed=9)
        outs, stderr = run_sanitized(generate(graph, "asan", dsp=True), batches)
        assert stderr == "", stderr
        check_against(graph, outs, batches, f"asan {graph.name}")
