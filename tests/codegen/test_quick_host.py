"""The DSP kernels' quick case (``ec_conv_2d_quick_dsp.c``, ``ec_depthwise_conv_2d_quick_dsp.c``,
the SMMLAR requantization in ``ec_dsp.h``), the DSP fully connected kernel's long rows and the
row-wise PAD, compiled for this machine (intrinsics in plain C), against TFLM, tolerance 0, on
graphs that reach every path; one build of each under ASan + UBSan. The generator must pick
the quick kernels for every layer there (the call in the generated source; both files are
compiled)."""

from __future__ import annotations

import pytest
from cases import random_inputs, tflm_outputs
from quick_cases import (
    long_fully_connected,
    pad_chain,
    quick_conv_chain,
    quick_depthwise_chain,
    wide_accumulator_layer,
)

from edgecraft.codegen import GeneratedModel, generate
from edgecraft.codegen.host import HostModel, run_sanitized
from edgecraft.ir.graph import Graph
from oracle import check_tensor


def _calls(model: GeneratedModel, kernel: str) -> int:
    return sum(text.count(f"{kernel}(&") for name, text in model.files.items() if name.endswith(".c"))


def _check(graph: Graph, outs: list, batches: list, label: str) -> None:  # type: ignore[type-arg]
    for b in range(len(batches[0])):
        for i, want in enumerate(tflm_outputs(graph, [x[b] for x in batches])):
            check_tensor(outs[i][b], want, f"{label} input {b} output {i}")


@pytest.mark.parametrize(("seed", "first"), [(1, (9, 7, 3, 0)), (2, (13, 6, 1, 5)), (3, (11, 8, 2, 4))])
def test_quick_conv_matches_tflm(seed: int, first: tuple[int, int, int, int]) -> None:
    graph = quick_conv_chain(seed, first)
    model = generate(graph, "quick", dsp=True)
    assert model.kernels == ["conv_2d_dsp", "conv_2d_quick_dsp"]
    assert _calls(model, "ec_conv_2d_quick_dsp_s8") == len(graph.operators)
    batches = random_inputs(graph, 6, seed)
    _check(graph, HostModel(model).run_batch(batches), batches, f"quick conv seed {seed}")


@pytest.mark.parametrize("channels", [4, 7, 13])
def test_quick_depthwise_matches_tflm(channels: int) -> None:
    graph = quick_depthwise_chain(channels, channels)
    model = generate(graph, "quick", dsp=True)
    assert model.kernels == ["depthwise_conv_2d_dsp", "depthwise_conv_2d_quick_dsp"]
    assert _calls(model, "ec_depthwise_conv_2d_quick_dsp_s8") == len(graph.operators)
    batches = random_inputs(graph, 6, channels)
    _check(graph, HostModel(model).run_batch(batches), batches, f"quick depthwise {channels} channels")


@pytest.mark.parametrize("depthwise", [False, True])
def test_accumulators_past_2_30_take_the_quick_kernels_exactly(depthwise: bool) -> None:
    """The requantization takes TFLM's accumulator undoubled (SMMLAR with 2 m - 2^32), so a
    layer whose biases reach past 2^30 runs on the quick kernel, still exact."""
    graph = wide_accumulator_layer(11, depthwise)
    model = generate(graph, "wide", dsp=True)
    stem = "depthwise_conv_2d" if depthwise else "conv_2d"
    assert _calls(model, f"ec_{stem}_quick_dsp_s8") == 1
    batches = random_inputs(graph, 4, 11)
    outs = HostModel(model).run_batch(batches)
    assert int(((outs[0] > -128) & (outs[0] < 127)).sum()) > 0  # not all clamped
    _check(graph, outs, batches, f"wide accumulators {stem}")


def test_long_fully_connected_rows_match_tflm() -> None:
    graph = long_fully_connected(2, depth=1030, units=9)
    batches = random_inputs(graph, 4, 2)
    _check(graph, HostModel(generate(graph, "fc", dsp=True)).run_batch(batches), batches, "long fc")


def test_row_wise_pad_matches_tflm() -> None:
    graph = pad_chain(1)
    batches = random_inputs(graph, 4, 1)
    _check(graph, HostModel(generate(graph, "pad")).run_batch(batches), batches, "pad chain")


def test_quick_kernels_clean_under_sanitizers() -> None:
    graphs = (quick_conv_chain(4, (10, 5, 1, 4)), quick_depthwise_chain(5, 6), long_fully_connected(5),
              pad_chain(2))
    for graph in graphs:
        batches = random_inputs(graph, 2, seed=9)
        outs, stderr = run_sanitized(generate(graph, "asan", dsp=True), batches)
        assert stderr == "", stderr
        _check(graph, outs, batches, f"asan {graph.name}")
