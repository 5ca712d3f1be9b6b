"""float32 ops in generated C on the host: within 1e-5 of the runtime (itself checked against
LiteRT by the ops tests), comparisons equal; clean under the sanitizers. int8 ARG_MAX/ARG_MIN and
the unquantized integer ops equal to TFLM."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel, run_sanitized
from edgecraft.codegen.opcode import CodegenError
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.runtime import run_model
from float_cases import binary_graph, inputs_for, int_graph, int_inputs, matmul_graph, nn_graph, unary_graph
from oracle import check_tensor, check_tflm

GRAPHS = {"nn": nn_graph, "unary": unary_graph, "binary": binary_graph, "matmul": matmul_graph}


def check_outputs(graph, got, want) -> None:  # type: ignore[no-untyped-def]
    for op, g, w in zip(graph.operators, got, want, strict=True):
        assert g.shape == w.shape and g.dtype == w.dtype, op.type
        if w.dtype in (np.bool_, np.int32):
            np.testing.assert_array_equal(g, w, err_msg=op.type)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=op.type)


@pytest.mark.parametrize("kind", sorted(GRAPHS))
def test_float_ops_in_c(kind: str) -> None:
    rng = np.random.default_rng(90 + len(kind))
    graph = GRAPHS[kind](rng)
    model = HostModel(generate(graph, f"f_{kind}"), opt="-O0")
    for _ in range(2):
        inputs = inputs_for(rng, graph)
        check_outputs(graph, model.run(inputs), run_model(graph, inputs))


def test_float_ops_under_sanitizers() -> None:
    rng = np.random.default_rng(93)
    graph = nn_graph(rng)
    inputs = [np.stack([x]) for x in inputs_for(rng, graph)]
    _, stderr = run_sanitized(generate(graph, "f_nn"), inputs)
    assert stderr == "", stderr


def test_arg_min_max_int8_in_c() -> None:
    """ARG_MAX and ARG_MIN of int8 (ties: the first index) equal to TFLM."""
    rng = np.random.default_rng(94)
    b = GraphBuilder("arg")
    x = b.tensor("x", (2, 5, 3), "int8", qparams(0.05, 3))
    outs = []
    for op, axis, shape in (("ARG_MAX", 1, (2, 3)), ("ARG_MIN", 0, (5, 3))):
        y = b.tensor(f"y{len(outs)}", shape, "int32")
        b.op(op, [x, b.const(f"a{len(outs)}", np.array([axis], np.int32))], [y], output_type=2)
        outs.append(y)
    graph = b.build([x], outs)
    xs = [rng.integers(-3, 3, (2, 5, 3)).astype(np.int8)]  # few values: ties
    got = HostModel(generate(graph, "arg"), opt="-O0").run(xs)
    for g, w in zip(got, check_tflm(graph, xs, "arg"), strict=True):
        check_tensor(g, w, "arg int8")


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
def test_integer_ops_in_c(dtype: str) -> None:
    rng = np.random.default_rng(96)
    graph = int_graph(dtype)
    model = HostModel(generate(graph, f"i_{dtype}"), opt="-O0")
    xs = int_inputs(rng, graph)
    for op, g, w in zip(graph.operators, model.run(xs), check_tflm(graph, xs, dtype), strict=True):
        check_tensor(g, w, f"{op.type} {dtype}")


def test_int32_division_by_zero_fails_the_invoke() -> None:
    graph = int_graph("int32")
    xs = int_inputs(np.random.default_rng(97), graph)
    xs[1][0, 0, 0] = 0
    with pytest.raises(RuntimeError, match="i_zero_invoke returned -1"):
        HostModel(generate(graph, "i_zero"), opt="-O0").run(xs)


def test_int8_and_bool_reductions_in_c() -> None:
    """REDUCE_MAX and REDUCE_MIN of int8 (keep_dims both ways), REDUCE_ALL of bool: equal to TFLM."""
    rng = np.random.default_rng(99)
    for op, dtype in (("REDUCE_MAX", "int8"), ("REDUCE_MIN", "int8"), ("REDUCE_ALL", "bool")):
        b = GraphBuilder("red")
        q = qparams(0.05, -4) if dtype == "int8" else None
        x = b.tensor("x", (2, 3, 4), dtype, q)
        y1, y2 = b.tensor("y1", (2, 1, 1), dtype, q), b.tensor("y2", (3,), dtype, q)
        b.op(op, [x, b.const("a1", np.array([1, -1], np.int32))], [y1], keep_dims=True)
        b.op(op, [x, b.const("a2", np.array([2, 0], np.int32))], [y2], keep_dims=False)
        graph = b.build([x], [y1, y2])
        xs = [rng.integers(-128, 128, (2, 3, 4)).astype(np.int8) if dtype == "int8"
              else rng.random((2, 3, 4)) < 0.85]
        got = HostModel(generate(graph, "red"), opt="-O0").run(xs)
        for g, w in zip(got, check_tflm(graph, xs, op), strict=True):
            check_tensor(g, w, f"{op} {dtype}")


def test_build_names_why_int8_div_has_no_c() -> None:
    b = GraphBuilder("div")
    q = qparams(0.05, 0)
    x1, x2, y = (b.tensor(n, (4,), "int8", q) for n in ("x1", "x2", "y"))
    b.op("DIV", [x1, x2], [y])
    with pytest.raises(CodegenError, match=r"DIV with int8 input has no C kernel: .*31 bits"):
        generate(b.build([x1, x2], [y]), "div")
