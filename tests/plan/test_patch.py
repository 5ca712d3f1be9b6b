"""Patch-based residual blocks (``patch``, the default planner): two convolutions and the ADD
of their result to the block's input run band by band, so the convolutions' outputs never exist
whole; the plan is smaller than ``overlap``'s and the Python runtime, the C library on this
machine (portable and DSP kernels) and qemu-m4 give TFLM's bytes."""

from __future__ import annotations

import numpy as np
import pytest

from codegen.cases import random_inputs, tflm_outputs
from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.models.synthetic import ds_cnn
from edgecraft.plan import plan_memory
from edgecraft.runtime import Interpreter


def block(h: int = 9, w: int = 6, c: int = 8, k_a: int = 3, k_b: int = 3, depthwise_a: bool = False,
          swap: bool = False, extra_reader: bool = False, seed: int = 0) -> Graph:
    """x -> conv (3x3 stem) -> x1; y = conv_a(x1); z = conv_b(y); out = ADD(x1, z) (or (z, x1))."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder("block")
    x = g.tensor("x", (1, h, w, 3), "int8", qparams(0.04, -3))

    def conv(src: int, name: str, k: int, s_in: float, c_in: int, depthwise: bool = False,
             act: str = "RELU") -> int:
        ws = rng.uniform(0.004, 0.02, c).astype(np.float32)
        shape = (1, k, k, c) if depthwise else (c, k, k, c_in)
        wt = g.const(f"{name}_w", rng.integers(-127, 128, shape).astype(np.int8),
                     qparams(ws, 0, 3 if depthwise else 0))
        b = g.const(f"{name}_b", rng.integers(-2000, 2000, c).astype(np.int32), qparams(s_in * ws, 0))
        y = g.tensor(name, (1, h, w, c), "int8", qparams(0.05, int(rng.integers(-10, 10))))
        attrs = dict(padding="SAME", stride_h=1, stride_w=1, dilation_h_factor=1, dilation_w_factor=1,
                     fused_activation_function=act)
        if depthwise:
            g.op("DEPTHWISE_CONV_2D", [src, wt, b], [y], depth_multiplier=1, **attrs)
        else:
            g.op("CONV_2D", [src, wt, b], [y], **attrs)
        return y

    x1 = conv(x, "x1", 3, 0.04, 3)
    y = conv(x1, "y", k_a, 0.05, c, depthwise=depthwise_a and True)
    z = conv(y, "z", k_b, 0.05, c, act="NONE")
    out = g.tensor("out", (1, h, w, c), "int8", qparams(0.07, 2))
    g.op("ADD", [z, x1] if swap else [x1, z], [out], fused_activation_function="RELU")
    outs = [out]
    if extra_reader:  # y read twice: it must exist whole
        y2 = g.tensor("y2", (1, h, w, c), "int8", qparams(0.05, 0))
        g.op("RELU", [y], [y2])
        outs.append(y2)
    return g.build([x], outs)


@pytest.mark.parametrize("kwargs", [{}, {"swap": True, "depthwise_a": True}, {"k_b": 5, "h": 11}],
                         ids=["conv3-conv3", "depthwise-swapped-add", "conv3-conv5"])
def test_block_runs_in_bands_with_less_memory_and_exact_outputs(kwargs) -> None:  # type: ignore[no-untyped-def]
    graph = block(**kwargs)
    plan = plan_memory(graph, kernels="dsp")
    (patch,) = plan.patches
    assert plan.arena_bytes < plan_memory(graph, "overlap", kernels="dsp").arena_bytes
    assert patch.y_rows == 1 + (kwargs.get("k_b", 3) - 1) < patch.height
    y_buffer = next(b for b in plan.buffers if b.kind == "tensor" and b.index == patch.y)
    assert y_buffer.size < graph.tensors[patch.y].nbytes
    batches = random_inputs(graph, 12, seed=4)
    runtime = Interpreter(graph, plan=plan)
    hosts = [HostModel(generate(graph, "blk", dsp=dsp)).run_batch(batches)[0] for dsp in (False, True)]
    for b in range(12):
        want = tflm_outputs(graph, [batches[0][b]])[0]
        assert np.array_equal(runtime.run([batches[0][b]])[0], want)
        for got in hosts:
            assert np.array_equal(got[b], want), b


def test_chains_run_in_bands_their_outputs_over_their_inputs_and_exact() -> None:
    graph = ds_cnn(seed=1, blocks=3)  # depthwise 3x3 -> pointwise, three times, 25 x 5 x 64
    plan = plan_memory(graph, kernels="dsp")
    assert [p.ops for p in plan.patches] == [(1, 2), (3, 4), (5, 6)]
    assert all(p.add == -1 and p.rows == 2 for p in plan.patches)  # 5 pixels a row: bands of 2 rows
    assert {(p.x, p.z) for p in plan.patches} <= {(k, o) for k, o, _ in plan.overlaps}  # z over x
    assert plan.arena_bytes < plan_memory(graph, "overlap", kernels="dsp").arena_bytes
    batches = random_inputs(graph, 8, seed=6)
    runtime = Interpreter(graph, plan=plan)
    hosts = [HostModel(generate(graph, "chn", dsp=dsp)).run_batch(batches)[0] for dsp in (False, True)]
    for b in range(8):
        want = tflm_outputs(graph, [batches[0][b]])[0]
        assert np.array_equal(runtime.run([batches[0][b]])[0], want)
        for got in hosts:
            assert np.array_equal(got[b], want), b


def test_no_patch_where_an_intermediate_is_read_twice_or_the_halo_is_too_short() -> None:
    assert plan_memory(block(extra_reader=True)).patches == ()
    # conv_b 1x1 reads no row below, while conv_a 3x3 reads one above: w over x would break it
    assert plan_memory(block(k_b=1)).patches == ()
    assert plan_memory(block(), "overlap").patches == ()


@pytest.mark.toolchain
def test_block_and_chain_in_bands_are_exact_on_qemu_m4() -> None:
    from edgecraft.emulate import emulate

    for graph in (block(swap=True, seed=2), ds_cnn(seed=3, blocks=2)):
        batches = random_inputs(graph, 3, seed=1)
        run = emulate(graph, "qemu-m4", batches, name="blk")
        assert run.arena_bytes == plan_memory(graph, kernels="dsp").arena_bytes
        assert plan_memory(graph, kernels="dsp").patches
        for b in range(3):
            assert np.array_equal(run.outputs[0][b], tflm_outputs(graph, [batches[0][b]])[0])


@pytest.mark.toolchain
def test_per_operator_counts_come_from_a_build_without_patches() -> None:
    from edgecraft.emulate import emulate

    graph = block(seed=4)
    run = emulate(graph, "qemu-m4", random_inputs(graph, 1, seed=2), name="blk", per_op=True)
    assert run.arena_bytes == plan_memory(graph, "overlap", kernels="dsp").arena_bytes
    assert len(run.op_instructions) == 4 and min(run.op_instructions) > 500  # each op its own count
