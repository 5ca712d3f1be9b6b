"""``profile``'s code estimate counts, of a convolution's general and quick DSP kernel files,
the one its layer links (``ops/quick.py``; both before, 12 KB too many on KWS); a fully connected
layer run on the quick convolution kernel counts no file of its own."""

from __future__ import annotations

from codegen.quick_cases import far_dilation, quick_conv_chain, quick_depthwise_chain, quick_head
from edgecraft.ops.base import OpContext
from edgecraft.ops.quick import quick_layer
from edgecraft.targets.profiling import (
    MODEL_CODE_BYTES,
    PER_OP_CODE_BYTES,
    kernel_code_bytes,
    kernel_file_bytes,
)


def test_quick_layers_count_the_quick_file_only() -> None:
    sizes = kernel_file_bytes()
    for graph, stem in ((quick_conv_chain(3), "conv_2d"), (quick_depthwise_chain(7, 7), "depthwise_conv_2d")):
        assert all(quick_layer(OpContext(op, graph)) for op in graph.operators)
        base = MODEL_CODE_BYTES + PER_OP_CODE_BYTES * len(graph.operators)
        assert kernel_code_bytes(graph) == base + sizes[f"ec_{stem}_quick_dsp.c"]
        assert kernel_code_bytes(graph, dsp=False) == base + sizes[f"ec_{stem}.c"]


def test_a_layer_with_a_relu6_clamp_counts_the_general_file() -> None:
    graph = quick_depthwise_chain(7, 7)
    for op in graph.operators:
        op.attrs["fused_activation_function"] = "RELU6"
    assert not any(quick_layer(OpContext(op, graph)) for op in graph.operators)
    base = MODEL_CODE_BYTES + PER_OP_CODE_BYTES * len(graph.operators)
    assert kernel_code_bytes(graph) == base + kernel_file_bytes()["ec_depthwise_conv_2d_dsp.c"]


def test_a_fully_connected_layer_on_the_quick_conv_kernel_counts_no_file_of_its_own() -> None:
    sizes = kernel_file_bytes()
    quick, clamped = quick_head(2, (3, 3), 6, 5), quick_head(2, (3, 3), 6, 5, fc_act="RELU")
    base = MODEL_CODE_BYTES + 2 * PER_OP_CODE_BYTES + sizes["ec_conv_2d_quick_dsp.c"]
    assert kernel_code_bytes(quick) == base
    assert kernel_code_bytes(clamped) == base + sizes["ec_fully_connected_dsp.c"]


def test_a_dilation_the_parameter_block_cannot_hold_counts_the_general_files() -> None:
    # the C generator keeps the general kernels past a dilation of 127 (ec_quick_params holds
    # it in a byte); profile counts what the build links (tests/codegen/test_quick_host.py)
    sizes = kernel_file_bytes()
    base = MODEL_CODE_BYTES + 2 * PER_OP_CODE_BYTES
    for dilation, suffix in ((127, "_quick_dsp.c"), (128, "_dsp.c")):
        graph = far_dilation(5, dilation)
        assert [quick_layer(OpContext(op, graph)) for op in graph.operators] == [dilation == 127] * 2
        files = (f"ec_{stem}{suffix}" for stem in ("conv_2d", "depthwise_conv_2d"))
        assert kernel_code_bytes(graph) == base + sum(sizes[f] for f in files), dilation
