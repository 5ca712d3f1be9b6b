"""The DSP kernels' quick case (its inline-assembly inner loop, SMMLAR and SSAT requantization,
accumulators past 2^30 included), the fully connected kernel (long rows, its written-out dot
product) and the row-wise PAD on qemu-m4: outputs equal TFLM's exactly on the graphs of
tests/codegen/quick_cases.py."""

from __future__ import annotations

import pytest

from codegen import quick_cases as qc
from codegen.cases import emulated_exactly
from edgecraft.codegen import generate
from edgecraft.ir.graph import Graph

pytestmark = pytest.mark.toolchain


@pytest.mark.parametrize("build", [lambda: qc.quick_conv_chain(2, (13, 6, 1, 5)),
                                   lambda: qc.quick_conv_chain(3),
                                   lambda: qc.quick_depthwise_chain(7, 7),
                                   lambda: qc.quick_depthwise_chain(8, 35),
                                   lambda: qc.quick_depthwise_chain(9, 64),
                                   lambda: qc.wide_accumulator_layer(12, False),
                                   lambda: qc.wide_accumulator_layer(13, True),
                                   lambda: qc.shift_ladder(5), lambda: qc.shift_ladder(6, far=True)],
                         ids=["conv_tall", "conv", "dw7", "dw35", "dw64", "conv_wide", "dw_wide",
                              "nibble_shifts", "byte_shifts"])
def test_quick_kernels_exact_on_m4(build) -> None:  # type: ignore[no-untyped-def]
    graph: Graph = build()
    source = "".join(generate(graph, "k", dsp=True).files.values())
    assert source.count("_quick_dsp_s8(&") == len(graph.operators)
    emulated_exactly(graph, "qemu-m4", 3, seed=5, dsp=True, name="quick")


@pytest.mark.parametrize("build", [lambda: qc.long_fully_connected(3), lambda: qc.fc_chain(4),
                                   lambda: qc.pad_chain(3)], ids=["long_fc", "fc", "pad"])
def test_fully_connected_and_pad_exact_on_m4(build) -> None:  # type: ignore[no-untyped-def]
    """Rows past the scratch limit (the DSP fully connected kernel splits input words as it
    reads them), the operand path's written-out loop (ec_dot4_q15) and the row-wise PAD."""
    graph: Graph = build()
    emulated_exactly(graph, "qemu-m4", 2, seed=6, dsp=True, name="rows")
