"""Planner invariants on thousands of random graphs, and greedy == TFLM on random int8 models."""

from __future__ import annotations

import random

import numpy as np
import pytest

from edgecraft.formats import write_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.ops.registry import find_op
from edgecraft.plan import ALGORITHMS, MemoryPlan, plan_memory
from edgecraft.reference import tflm_arena_report


def is_view(op_type: str) -> bool:
    """The op record says its output is a view of its input (RESHAPE, SQUEEZE)."""
    op = find_op(op_type)
    return op is not None and op.view


def random_graph(rng: random.Random) -> Graph:
    """A random DAG: 1-2 inputs, 1-12 ops (generic, elementwise, views), random sizes."""
    b = GraphBuilder()
    live = [b.tensor(f"in{i}", (1, rng.randint(1, 40))) for i in range(rng.randint(1, 2))]
    inputs = list(live)
    for j in range(rng.randint(1, 12)):
        kind = rng.choice(["TEST_OP", "TEST_OP", "ADD", "RELU", "RESHAPE", "SQUEEZE"])
        src = rng.choice(live)
        shape = b.tensors[src].shape
        if kind == "ADD":
            same = [k for k in live if b.tensors[k].shape == shape]
            ins = [src, rng.choice(same)]
            outs = [b.tensor(f"t{j}", shape)]
        elif kind == "RELU":
            ins, outs = [src], [b.tensor(f"t{j}", shape)]
        elif is_view(kind):
            ins, outs = [src], [b.tensor(f"t{j}", (1, 1, shape[-1]))]
        else:
            ins = rng.sample(live, min(len(live), rng.randint(1, 3)))
            outs = [b.tensor(f"t{j}_{n}", (1, rng.randint(1, 40))) for n in range(rng.choice([1, 1, 2]))]
        b.op(kind, ins, outs)
        live += outs
    produced = [k for k in live if k not in inputs]
    outputs = rng.sample(produced, min(len(produced), rng.randint(1, 2)))
    return b.build(inputs, outputs)


def view_roots(graph: Graph) -> dict[int, int]:
    """Tensor -> the tensor it is a byte-for-byte view of (through RESHAPE/SQUEEZE chains)."""
    root = {k: k for k in range(len(graph.tensors))}
    for op in graph.operators:
        if is_view(op.type):
            root[op.outputs[0]] = root[op.inputs[0]]
    return root


def check_plan(graph: Graph, plan: MemoryPlan) -> None:
    """Every live buffer placed, aligned, inside the arena, and no two live buffers overlap
    unless one is a view of the other or the later one overwrites the earlier as it dies."""
    order = plan.order
    assert sorted(order) == list(range(len(graph.operators)))
    made = set(graph.inputs)
    for j in order:  # a topological order
        reads = [k for k in graph.operators[j].inputs if k >= 0 and not graph.tensors[k].is_constant]
        assert all(k in made for k in reads)
        made |= set(graph.operators[j].outputs)
    planned = {b.index for b in plan.buffers if b.kind == "tensor"}
    assert planned == {k for k in made if graph.tensors[k].nbytes > 0}
    roots = view_roots(graph)
    overlaps = {(k, o): d for k, o, d in plan.overlaps}
    offset = {b.index: b.offset for b in plan.buffers if b.kind == "tensor"}
    for k, o in overlaps:  # the op reads k for the last time and writes o
        op = next(op for op in graph.operators if op.outputs == [o])
        assert op.inputs[0] == k and k not in graph.outputs
    live_sum = [0] * max(len(order), 1)
    for b in plan.buffers:
        assert b.offset % plan.alignment == 0 and b.size % plan.alignment == 0
        assert b.offset >= 0 and b.offset + b.size <= plan.arena_bytes
        if b.kind == "tensor":
            assert b.size >= graph.tensors[b.index].nbytes
        for s in range(b.first, b.last + 1):
            live_sum[s] += b.size
    for i, a in enumerate(plan.buffers):
        for c in plan.buffers[i + 1:]:
            if a.last < c.first or c.last < a.first:
                continue
            if a.offset + a.size <= c.offset or c.offset + c.size <= a.offset:
                continue
            assert a.kind == c.kind == "tensor", (a, c)
            pair = overlaps.get((a.index, c.index), overlaps.get((c.index, a.index)))
            if pair is not None:  # a partial overlap: the output starts at least -D below
                k, o = (a.index, c.index) if (a.index, c.index) in overlaps else (c.index, a.index)
                assert offset[o] <= offset[k] + pair
                continue
            assert a.offset == c.offset, (a, c)
            if roots[a.index] == roots[c.index]:
                continue
            early, late = (a, c) if a.first <= c.first else (c, a)
            op = graph.operators[order[late.first]]
            assert early.last == late.first and early.index in op.inputs, (a, c)
            assert early.index not in graph.outputs
    assert plan.lower_bound_bytes <= plan.arena_bytes
    if plan.algorithm == "greedy":
        assert plan.lower_bound_bytes == max(live_sum)


def test_invariants_on_thousands_of_random_graphs():
    rng = random.Random(20261123)
    for n in range(2000):
        g = random_graph(rng)
        align = rng.choice([1, 4, 16])
        # The searching algorithms cost more: every fourth graph gets all four.
        algorithms = ALGORITHMS if n % 4 == 0 else ("greedy", "inplace")
        plans = {a: plan_memory(g, a, alignment=align) for a in algorithms}
        for p in plans.values():
            check_plan(g, p)
        if n % 4 == 0:
            assert plans["optimal"].arena_bytes <= plans["greedy"].arena_bytes
            assert plans["reorder"].arena_bytes <= plans["optimal"].arena_bytes


def random_cnn(rng: random.Random) -> Graph:
    """A random chain-with-branches of windowed ops and adds on NHWC tensors (overlap cases)."""
    b = GraphBuilder()
    live = [b.tensor("x", (1, rng.randint(4, 12), rng.randint(4, 12), rng.randint(1, 8)))]
    for j in range(rng.randint(1, 8)):
        src = rng.choice(live[-3:])
        _, h, w, c = b.tensors[src].shape
        kind = rng.choice(["DEPTHWISE_CONV_2D", "CONV_2D", "MAX_POOL_2D", "ADD"])
        stride = rng.choice([1, 2]) if h > 2 and w > 2 else 1
        oh, ow = -(-h // stride), -(-w // stride)
        if kind == "ADD":
            out = b.tensor(f"t{j}", (1, h, w, c))
            b.op("ADD", [src, src], [out])
        elif kind == "MAX_POOL_2D":
            out = b.tensor(f"t{j}", (1, oh, ow, c))
            b.op(kind, [src], [out], padding="SAME", stride_h=stride, stride_w=stride, filter_height=3,
                 filter_width=3)
        else:
            oc = c * rng.randint(1, 2) if kind == "DEPTHWISE_CONV_2D" else rng.randint(1, 16)
            shape = (1, 3, 3, oc) if kind == "DEPTHWISE_CONV_2D" else (oc, 1, 1, c)
            wt = b.const(f"w{j}", np.zeros(shape, np.int8))
            out = b.tensor(f"t{j}", (1, oh, ow, oc))
            b.op(kind, [src, wt], [out], padding="SAME", stride_h=stride, stride_w=stride,
                 dilation_h_factor=1, dilation_w_factor=1, depth_multiplier=oc // c)
        live.append(out)
    return b.build([live[0]], [live[-1]])


def test_overlap_invariants_on_random_cnns():
    rng = random.Random(5)
    seen = 0
    for _ in range(150):
        g = random_cnn(rng)
        plan = plan_memory(g, "overlap", alignment=rng.choice([1, 16]))
        check_plan(g, plan)
        seen += len(plan.overlaps)
        assert plan.arena_bytes <= plan_memory(g, "reorder", alignment=plan.alignment).arena_bytes
    assert seen > 100


def test_plans_are_pure_and_repeatable():
    rng = random.Random(7)
    for _ in range(50):
        g = random_graph(rng)
        for a in ALGORITHMS:
            assert plan_memory(g, a) == plan_memory(g, a)


def random_int8_model(rng: random.Random) -> Graph:
    """A random int8 model TFLM can allocate: RELU, ADD, CONCATENATION, MAX_POOL_2D on NHWC."""
    q = qparams(0.05, 0)
    b = GraphBuilder()
    x = b.tensor("x", (1, 8, 8, rng.randint(1, 6)), quant=q)
    live = [x]
    for j in range(rng.randint(2, 10)):
        kind = rng.choice(["RELU", "ADD", "CONCATENATION", "MAX_POOL_2D"])
        src = rng.choice(live)
        n, h, w, c = b.tensors[src].shape
        if kind == "ADD":
            other = rng.choice([k for k in live if b.tensors[k].shape == (n, h, w, c)])
            out = b.tensor(f"t{j}", (n, h, w, c), quant=q)
            b.op("ADD", [src, other], [out], fused_activation_function="NONE")
        elif kind == "CONCATENATION":
            other = rng.choice([k for k in live if b.tensors[k].shape[:3] == (n, h, w)])
            c2 = b.tensors[other].shape[3]
            out = b.tensor(f"t{j}", (n, h, w, c + c2), quant=q)
            b.op("CONCATENATION", [src, other], [out], axis=3, fused_activation_function="NONE")
        elif kind == "MAX_POOL_2D" and h >= 2:
            out = b.tensor(f"t{j}", (n, h // 2, w // 2, c), quant=q)
            b.op("MAX_POOL_2D", [src], [out], padding="VALID", stride_w=2, stride_h=2,
                 filter_width=2, filter_height=2, fused_activation_function="NONE")
        else:
            out = b.tensor(f"t{j}", (n, h, w, c), quant=q)
            b.op("RELU", [src], [out])
        live.append(out)
    return b.build([x], [live[-1]] + ([live[-2]] if rng.random() < 0.3 and live[-2] != x else []))


@pytest.mark.parametrize("seed", range(12))
def test_greedy_equals_tflm_planner_on_random_models(seed):
    g = random_int8_model(random.Random(seed))
    head = tflm_arena_report(write_tflite(g))["head"]
    assert plan_memory(g, "greedy").arena_bytes == head
    assert plan_memory(g).arena_bytes <= head
