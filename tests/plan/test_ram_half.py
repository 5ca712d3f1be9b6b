"""RAM below TFLM's arena: a fully connected kernel's scratch over its dying input, and inputs
and outputs used in place in the arena (no buffers of the caller's own); each checked by exact
outputs of the generated C against TFLM."""

from __future__ import annotations

import ctypes

import numpy as np

from codegen.cases import random_inputs, tflm_outputs
from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.plan import plan_memory


def fc_chain(depth: int = 37, hidden: int = 19, units: int = 8, rows: int = 1) -> Graph:
    """x (rows, depth) -> FULLY_CONNECTED -> (rows, hidden) -> FULLY_CONNECTED -> (rows, units)."""
    rng = np.random.default_rng(depth)
    g = GraphBuilder("fc_chain")
    x = g.tensor("x", (rows, depth), "int8", qparams(0.05, 3))
    last, width = x, depth
    for n, out in enumerate((hidden, units)):
        w = g.const(f"w{n}", rng.integers(-127, 128, (out, width)).astype(np.int8), qparams(0.01, 0))
        b = g.const(f"b{n}", rng.integers(-900, 900, out).astype(np.int32), qparams(0.05 * 0.01, 0))
        y = g.tensor(f"y{n}", (rows, out), "int8", qparams(0.05 * 0.01 * 127 * np.sqrt(width) / 16, -5 + n))
        g.op("FULLY_CONNECTED", [last, w, b], [y], fused_activation_function="NONE", keep_num_dims=False)
        last, width = y, out
    return g.build([x], [last])


def test_fc_scratch_starts_below_its_dying_input_and_stays_exact() -> None:
    graph = fc_chain()
    plan = plan_memory(graph, kernels="dsp")
    # scratch 4 * (37 // 2 + 3) = 84 -> 96 B; 37 + 2 * (37 % 4) = 39 -> 48 B below the input
    assert (0, 0, -48) in plan.scratch_overlaps and len(plan.scratch_overlaps) == 2
    apart = plan_memory(graph, "reorder", kernels="dsp")  # the same plan without overlaps
    assert plan.arena_bytes == 96 + 32 < apart.arena_bytes == 48 + 96 + 32
    batches = random_inputs(graph, 40, seed=5)
    got = HostModel(generate(graph, "fcs", dsp=True)).run_batch(batches)[0]
    for b in range(40):
        assert np.array_equal(got[b], tflm_outputs(graph, [batches[0][b]])[0]), b


def test_fc_scratch_keeps_off_an_input_of_several_rows() -> None:
    plan = plan_memory(fc_chain(rows=2), kernels="dsp")
    assert plan.scratch_overlaps == ()  # row 2 is read after row 1's operands are written


def test_inputs_and_outputs_in_place_in_the_arena() -> None:
    graph = fc_chain(depth=24)
    gen = generate(graph, "io", dsp=True)
    host = HostModel(gen)
    lib = host.lib
    for fn in ("io_input_buffer", "io_output_buffer"):
        getattr(lib, fn).restype = ctypes.c_void_p
    assert lib.io_input_buffer(1) is None and lib.io_output_buffer(-1) is None
    inp, out = lib.io_input_buffer(0), lib.io_output_buffer(0)
    x = random_inputs(graph, 3, seed=2)[0]
    for b in range(3):
        ctypes.memmove(inp, x[b].tobytes(), x[b].nbytes)
        assert lib.io_invoke(ctypes.c_void_p(inp), ctypes.c_void_p(out)) == 0
        got = np.frombuffer(ctypes.string_at(out, 8), np.int8).reshape(1, 8)
        assert np.array_equal(got, tflm_outputs(graph, [x[b]])[0])
    assert "if ((const void *)input != (const void *)T0) memcpy(" in gen.files["io.c"]
