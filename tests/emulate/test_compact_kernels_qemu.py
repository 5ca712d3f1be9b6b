"""The kernels trimmed for flash (issue 14, point 6) on qemu-m4, where their inline assembly
runs: AVERAGE_POOL_2D's small entry for windows over the whole image (SXTAB16 halfword sums,
two pixels a turn and an odd one) exact against TFLM at the sums' extremes, and FULLY_CONNECTED
run as the quick convolution kernel's 1x1 convolution."""

from __future__ import annotations

import pytest

from codegen.cases import random_inputs, tflm_outputs
from codegen.quick_cases import global_pool, quick_head
from edgecraft.codegen import generate
from edgecraft.emulate import emulate
from oracle import check_tensor

pytestmark = pytest.mark.toolchain


@pytest.mark.parametrize("shape", [(15, 17, 8, "NONE"), (4, 6, 12, "RELU")], ids=["255_pixels", "24_relu"])
def test_global_average_pool_exact_on_m4(shape: tuple[int, int, int, str]) -> None:
    graph = global_pool(*shape)
    assert "ec_global_average_pool_s8(" in generate(graph, "gp", dsp=True).files["gp.c"]
    batches = random_inputs(graph, 3, seed=1)
    batches[0][0], batches[0][1] = 127, -128
    r = emulate(graph, "qemu-m4", batches, dsp=True, name="gp")
    for b in range(3):
        check_tensor(r.outputs[0][b], tflm_outputs(graph, [x[b] for x in batches])[0], f"pool {shape} {b}")


@pytest.mark.parametrize("kws_head", [True, False], ids=["kws_head", "per_tensor_rows3"])
def test_fc_on_the_quick_conv_kernel_exact_on_m4(kws_head: bool) -> None:
    graph = quick_head(1, (5, 5), 16, 12, pool=True) if kws_head else quick_head(2, (3, 3), 6, 5,
                                                                                   per_channel=False)
    assert generate(graph, "hd", dsp=True).files["hd.c"].count("ec_conv_2d_quick_dsp_s8(&") == 2
    batches = random_inputs(graph, 3, seed=2)
    r = emulate(graph, "qemu-m4", batches, dsp=True, name="hd")
    for b in range(3):
        check_tensor(r.outputs[0][b], tflm_outputs(graph, [x[b] for x in batches])[0], f"head {kws_head} {b}")
