"""The interpreter runs inside one planned arena, bit-exact with TFLM under every algorithm."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edgecraft.formats import read_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.plan import ALGORITHMS, plan_memory
from edgecraft.runtime import InputError, Interpreter, run_model
from oracle import INT8_MODELS, check_tensor, check_tflm, conformance_model


def residual_model() -> Graph:
    """A small int8 network with every in-place case: RESHAPE views, ADD over a dying input,
    RELU over a dying input, and a branch a reordering can move."""
    rng = np.random.default_rng(3)
    b = GraphBuilder("residual")
    q, qw = qparams(0.05, -3), qparams(0.02, 0)
    x = b.tensor("x", (1, 6, 6, 4), quant=q)
    w = b.const("w", rng.integers(-20, 20, (4, 1, 1, 4), dtype=np.int8), qw)
    bias = b.const("b", rng.integers(-50, 50, (4,), dtype=np.int32), qparams(0.001, 0))
    c1 = b.tensor("c1", (1, 6, 6, 4), quant=q)
    b.op("CONV_2D", [x, w, bias], [c1], padding="SAME", stride_w=1, stride_h=1,
         fused_activation_function="RELU", dilation_w_factor=1, dilation_h_factor=1)
    c2 = b.tensor("c2", (1, 6, 6, 4), quant=q)
    b.op("CONV_2D", [c1, w, bias], [c2], padding="SAME", stride_w=1, stride_h=1,
         fused_activation_function="NONE", dilation_w_factor=1, dilation_h_factor=1)
    s = b.tensor("s", (1, 6, 6, 4), quant=qparams(0.08, 2))
    b.op("ADD", [c2, c1], [s], fused_activation_function="NONE")
    r = b.tensor("r", (1, 6, 6, 4), quant=qparams(0.08, 2))
    b.op("RELU", [s], [r])
    shape = b.const("shape", np.array([1, 144], np.int32))
    flat = b.tensor("flat", (1, 144), quant=qparams(0.08, 2))
    b.op("RESHAPE", [r, shape], [flat], new_shape=[1, 144])
    return b.build([x], [flat])


def test_arena_runs_match_tflm_on_a_model_built_in_code():
    g = residual_model()
    x = np.random.default_rng(0).integers(-128, 128, (1, 6, 6, 4), dtype=np.int8)
    want = check_tflm(g, [x], "residual default plan")
    plans = {a: plan_memory(g, a) for a in ALGORITHMS}
    assert plans["inplace"].arena_bytes < plans["greedy"].arena_bytes  # the aliases are used
    for a in ALGORITHMS:
        (got,) = Interpreter(g, a).run([x])
        check_tensor(got, want[0], f"residual {a}")


def test_tensors_are_views_into_one_arena():
    g = residual_model()
    interp = Interpreter(g, "inplace")
    assert interp.arena.dtype == np.uint8 and interp.arena.size == interp.plan.arena_bytes
    for k, view in interp.views.items():
        assert np.shares_memory(view, interp.arena)
        assert view.ctypes.data - interp.arena.ctypes.data == interp.plan.offset_of(k)


def test_a_plan_that_overlaps_live_tensors_breaks_the_outputs():
    # The check has teeth: put every buffer at offset 0 and the results change.
    g = residual_model()
    x = np.random.default_rng(1).integers(-128, 128, (1, 6, 6, 4), dtype=np.int8)
    good = Interpreter(g, "greedy")
    bad_plan = dataclasses.replace(
        good.plan, buffers=[dataclasses.replace(b, offset=0) for b in good.plan.buffers])
    (bad,) = Interpreter(g, plan=bad_plan).run([x])
    assert not np.array_equal(bad, good.run([x])[0])


def test_repeated_runs_reuse_the_arena_and_return_copies():
    g = residual_model()
    interp = Interpreter(g)
    rng = np.random.default_rng(2)
    x1, x2 = (rng.integers(-128, 128, (1, 6, 6, 4), dtype=np.int8) for _ in range(2))
    (a,) = interp.run([x1])
    (b,) = interp.run([x2])
    (a2,) = interp.run([x1])
    assert np.array_equal(a, a2) and not np.array_equal(a, b)
    assert not np.shares_memory(a, interp.arena)


def test_inputs_are_checked_with_one_line_errors():
    interp = Interpreter(residual_model())
    with pytest.raises(InputError, match=r"the model takes 1 input\(s\), got 2"):
        interp.run([np.zeros((1, 6, 6, 4), np.int8)] * 2)
    with pytest.raises(InputError, match=r"input 0 \('x'\) must have shape \[1, 6, 6, 4\] and dtype int8"):
        interp.run([np.zeros((1, 6, 6, 4), np.float32)])


@pytest.mark.conformance
@pytest.mark.parametrize("name", INT8_MODELS)
def test_conformance_models_bit_exact_under_every_algorithm(name):
    from edgecraft.reference import TflmRunner

    path = conformance_model(name)
    g = read_tflite(path)
    rng = np.random.default_rng(5)
    xs = [rng.integers(-128, 128, t.shape, dtype=np.int8) for t in g.input_tensors()]
    want = TflmRunner(path.read_bytes()).run(xs)
    for a in ALGORITHMS:
        got = run_model(g, xs, a)
        for i, (o, w) in enumerate(zip(got, want, strict=True)):
            check_tensor(o, w, f"{name} {a} output {i}")


def test_one_interpreter_shared_by_threads_gives_each_caller_its_own_result():
    from concurrent.futures import ThreadPoolExecutor

    g = residual_model()
    interp = Interpreter(g)
    rng = np.random.default_rng(4)
    xs = [rng.integers(-128, 128, (1, 6, 6, 4), dtype=np.int8) for _ in range(16)]
    want = [Interpreter(g).run([x])[0] for x in xs]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda x: interp.run([x])[0], xs))
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        check_tensor(a, b, f"thread run {i}")
