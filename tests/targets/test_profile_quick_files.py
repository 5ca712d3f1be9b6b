"""``profile``'s code estimate counts, of a convolution's general and quick DSP kernel files,
the one its layer links (``ops/quick.py``; both before, 12 KB too many on KWS)."""

from __future__ import annotations

from codegen.quick_cases import quick_conv_chain, quick_depthwise_chain
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
