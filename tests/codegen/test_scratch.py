"""Kernel scratch memory: declared by the op (``OpDef.scratch``), planned in the arena, handed to
the DSP kernels as a pointer, and exactly as large as the kernel uses (ASan on a build where
each scratch buffer is its own array with red zones around it)."""

from __future__ import annotations

import dataclasses
import re
from importlib import resources

import numpy as np
import pytest
from cases import CASES, check_against, random_inputs

from edgecraft.codegen import generate
from edgecraft.codegen.host import run_sanitized
from edgecraft.ir.graph import Graph
from edgecraft.models.synthetic import small_cnn
from edgecraft.ops import conv_2d, fully_connected
from edgecraft.ops.base import OpContext, OpError
from edgecraft.ops.registry import get_op
from edgecraft.plan import PlanError, plan_memory


def _c_define(filename: str, macro: str) -> int:
    text = resources.files("edgecraft.codegen").joinpath("kernels", filename).read_text()
    found = re.search(rf"#define {macro} (\d+)", text)
    assert found is not None, f"{macro} not in {filename}"
    return int(found.group(1))


def test_declared_limits_are_the_c_kernels_limits() -> None:
    assert _c_define("ec_dsp.h", "EC_PATCH_MAX") == conv_2d.DSP_PATCH_MAX
    assert _c_define("ec_fully_connected_dsp.c", "EC_FC_DEPTH_MAX") == fully_connected.DSP_DEPTH_MAX


def test_dsp_scratch_is_planned_in_the_arena_and_portable_kernels_need_none() -> None:
    graph = small_cnn(seed=1)
    portable, dsp = plan_memory(graph, kernels="portable"), plan_memory(graph, kernels="dsp")
    assert [b for b in portable.buffers if b.kind == "scratch"] == []
    scratch = {b.index: b for b in dsp.buffers if b.kind == "scratch"}
    convs = [j for j, op in enumerate(graph.operators) if op.type in ("CONV_2D", "FULLY_CONNECTED")]
    assert sorted(scratch) == convs
    op0 = graph.operators[0]  # 3x3 taps x 3 channels: n = 27, (27 + 6) words + two 27-byte patches
    assert get_op("CONV_2D").scratch_bytes(OpContext(op0, graph), "dsp") == 4 * 33 + 54
    assert scratch[0].size == 192 and scratch[0].first == scratch[0].last == 0  # 186 aligned to 16
    assert dsp.arena_bytes >= portable.arena_bytes
    with pytest.raises(PlanError, match="unknown kernel variant 'neon'"):
        plan_memory(graph, kernels="neon")
    with pytest.raises(OpError, match="portable, dsp"):
        get_op("CONV_2D").scratch_bytes(OpContext(op0, graph), "neon")


def _isolate_scratch(graph: Graph, name: str) -> dict[str, str]:
    """The DSP build of ``graph`` with every scratch slice moved out of the arena into an array
    of exactly the declared size (ASan puts red zones around global arrays)."""
    model = generate(graph, name, dsp=True)
    source = model.files[f"{name}.c"]
    arrays = []
    for j, op in enumerate(graph.operators):
        need = get_op(op.type).scratch_bytes(OpContext(op, graph), "dsp")
        if need:
            source, n = re.subn(rf"#define S{j} \(\(int8_t \*\)\(arena \+ \d+\)\)",
                                f"#define S{j} ec_scratch{j}", source)
            assert n == 1
            arrays.append(f"static int8_t ec_scratch{j}[{need}] EC_ALIGNED;")
    assert arrays, "the graph should need scratch"
    head = "/* ---- weights and biases"
    source = source.replace(head, "\n".join(arrays) + "\n" + head, 1)
    return {**model.files, f"{name}.c": source}


@pytest.mark.parametrize("build", ["small_cnn", "CONV_2D"])
def test_dsp_kernels_stay_inside_their_declared_scratch(build: str) -> None:
    graph = CASES[build](np.random.default_rng(11)) if build in CASES else small_cnn(seed=4)
    batches = random_inputs(graph, 2, seed=5)
    model = dataclasses.replace(generate(graph, "scr", dsp=True), files=_isolate_scratch(graph, "scr"))
    outs, stderr = run_sanitized(model, batches)
    assert stderr == "", stderr
    check_against(graph, outs, batches, f"{build} isolated scratch")
