"""The DSP kernels' quick case (its inline-assembly inner loop, SMMLAR and SSAT requantization,
accumulators past 2^30 included), the fully connected kernel (long rows, its written-out dot
product) and the row-wise PAD on qemu-m4: outputs equal TFLM's exactly on the graphs of
tests/codegen/quick_cases.py."""

from __future__ import annotations

import pytest

from codegen.cases import check_against, random_inputs, tflm_outputs
from codegen.quick_cases import (
    fc_chain,
    long_fully_connected,
    pad_chain,
    quick_conv_chain,
    quick_depthwise_chain,
    shift_ladder,
    wide_accumulator_layer,
)
from edgecraft.codegen import generate
from edgecraft.emulate import emulate
from edgecraft.ir.graph import Graph
from oracle import check_tensor

pytestmark = pytest.mark.toolchain


@pytest.mark.parametrize("build", [lambda: quick_conv_chain(2, (13, 6, 1, 5)), lambda: quick_conv_chain(3),
                                   lambda: quick_depthwise_chain(7, 7), lambda: quick_depthwise_chain(8, 35),
                                   lambda: quick_depthwise_chain(9, 64),
                                   lambda: wide_accumulator_layer(12, False),
                                   lambda: wide_accumulator_layer(13, True),
                                   lambda: shift_ladder(5), lambda: shift_ladder(6, far=True)],
                         ids=["conv_tall", "conv", "dw7", "dw35", "dw64", "conv_wide", "dw_wide",
                              "nibble_shifts", "byte_shifts"])
def test_quick_kernels_exact_on_m4(build) -> None:  # type: ignore[no-untyped-def]
    graph: Graph = build()
    source = "".join(generate(graph, "k", dsp=True).files.values())
    assert source.count("_quick_dsp_s8(&") == len(graph.operators)
    batches = random_inputs(graph, 3, seed=5)
    r = emulate(graph, "qemu-m4", batches, dsp=True, name="quick")
    check_against(graph, r.outputs, batches, f"qemu-m4 {graph.name}")


@pytest.mark.parametrize("build", [lambda: long_fully_connected(3), lambda: fc_chain(4),
                                   lambda: pad_chain(3)], ids=["long_fc", "fc", "pad"])
def test_fully_connected_and_pad_exact_on_m4(build) -> None:  # type: ignore[no-untyped-def]
    """Rows past the scratch limit (the DSP fully connected kernel splits input words as it
    reads them), the operand path's written-out loop (ec_dot4_q15) and the row-wise PAD."""
    graph: Graph = build()
    batches = random_inputs(graph, 2, seed=6)
    r = emulate(graph, "qemu-m4", batches, dsp=True, name="rows")
    for b in range(2):
        want = tflm_outputs(graph, [batches[0][b]])[0]
        check_tensor(r.outputs[0][b], want, f"qemu-m4 {graph.name} input {b}")
