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


def fc_chain(depth: int = 37, hidden: int = 19, units: int = 8, rows: int = 1, wide: int = 0) -> Graph:
    """x (rows, depth) -> FULLY_CONNECTED -> (rows, hidden) -> FULLY_CONNECTED -> (rows, units)
    [-> FULLY_CONNECTED -> (rows, wide)]."""
    rng = np.random.default_rng(depth)
    g = GraphBuilder("fc_chain")
    x = g.tensor("x", (rows, depth), "int8", qparams(0.05, 3))
    last, width, scale = x, depth, 0.05
    for n, out in enumerate((hidden, units, wide) if wide else (hidden, units)):
        w = g.const(f"w{n}", rng.integers(-127, 128, (out, width)).astype(np.int8), qparams(0.01, 0))
        b = g.const(f"b{n}", rng.integers(-900, 900, out).astype(np.int32), qparams(scale * 0.01, 0))
        y_scale = scale * 0.01 * 127 * np.sqrt(width) / 16
        y = g.tensor(f"y{n}", (rows, out), "int8", qparams(y_scale, -5 + n))
        g.op("FULLY_CONNECTED", [last, w, b], [y], fused_activation_function="NONE", keep_num_dims=False)
        last, width, scale = y, out, y_scale
    return g.build([x], [last])


def test_fc_scratch_starts_below_its_dying_input_and_stays_exact() -> None:
    # the last layer (8 -> 144) is the arena's peak: 16 + 144 = 160 B
    graph = fc_chain(wide=144)
    plan = plan_memory(graph, kernels="dsp")
    # op 0's scratch 4 * (37 // 2 + 3) = 84 -> 96 B starts 37 + 2 * (37 % 4) = 39 -> 48 B below
    # its input; op 1's likewise; op 2's would lift the peak and is dropped (its kernel's entry
    # without scratch runs instead)
    assert (0, 0, -48) in plan.scratch_overlaps and len(plan.scratch_overlaps) == 2
    assert plan.scratch_offset(2) is None and plan.scratch_offset(0) is not None
    apart = plan_memory(graph, "reorder", kernels="dsp")  # the same plan without overlaps
    assert plan.arena_bytes == 16 + 144 < apart.arena_bytes == 48 + 32 + 96
    batches = random_inputs(graph, 40, seed=5)
    got = HostModel(generate(graph, "fcs", dsp=True)).run_batch(batches)[0]
    for b in range(40):
        assert np.array_equal(got[b], tflm_outputs(graph, [batches[0][b]])[0]), b


def test_fc_scratch_dropped_where_it_would_be_the_peak() -> None:
    """AD's shape: a wide input's SMLAD operands would double the arena; the layer runs the
    kernel's entry without scratch, exact, and the arena is the live tensors' peak."""
    graph = fc_chain(depth=160, hidden=32, units=32, wide=160)
    dsp, portable = plan_memory(graph, kernels="dsp"), plan_memory(graph, kernels="portable")
    assert dsp.scratch_offset(0) is None and dsp.scratch_offset(2) is None
    assert dsp.scratch_offset(1) is not None  # below the peak: kept, the faster entry
    assert dsp.arena_bytes == portable.arena_bytes == 160 + 32
    batches = random_inputs(graph, 20, seed=6)
    gen = generate(graph, "wide", dsp=True)
    assert "ec_fully_connected_dsp_direct_s8(" in gen.files["wide.c"]
    got = HostModel(gen).run_batch(batches)[0]
    for b in range(20):
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
