"""EXPAND_DIMS, CAST, ARG_MAX and ARG_MIN: hand-checked cases, then randomized one-op models in
every type TFLM supports against TFLM (tolerance 0) and, for float32, LiteRT."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.runtime import run_model
from oracle import check_litert, check_tensor, check_tflm


def _values(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    if dtype == "float32":
        return rng.standard_normal(shape).astype(np.float32) * 20  # inside int8 for CAST (C: UB outside)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    info = np.iinfo(np.dtype(dtype))
    return rng.integers(info.min, int(info.max) + 1, shape).astype(dtype)


def expand_dims_case(rng: np.random.Generator, dtype: str) -> Graph:
    g = GraphBuilder("expand_dims")
    shape = tuple(int(v) for v in rng.integers(1, 5, int(rng.integers(1, 4))))
    axis = int(rng.integers(-len(shape) - 1, len(shape) + 1))
    out = list(shape)
    out.insert(axis % (len(shape) + 1), 1)
    q = qparams(0.05, 3) if dtype != "float32" else None
    x, y = g.tensor("x", shape, dtype, q), g.tensor("y", tuple(out), dtype, q)
    g.op("EXPAND_DIMS", [x, g.const("axis", np.array([axis], np.int32))], [y])
    return g.build([x], [y])


def cast_case(rng: np.random.Generator, dtype: str) -> Graph:
    g = GraphBuilder("cast")
    shape = tuple(int(v) for v in rng.integers(1, 5, int(rng.integers(1, 4))))
    # float32 -> uint32 (negative values are undefined in C) is a hand case
    targets = ("int8", "int16", "int32", "float32", "bool") + (("uint32",) if dtype != "float32" else ())
    to = str(rng.choice([t for t in targets if t != dtype]))
    x, y = g.tensor("x", shape, dtype), g.tensor("y", shape, to)
    g.op("CAST", [x], [y])
    return g.build([x], [y])


def arg_case(rng: np.random.Generator, dtype: str, op: str) -> Graph:
    g = GraphBuilder(op.lower())
    shape = tuple(int(v) for v in rng.integers(1, 6, int(rng.integers(1, 4))))
    axis = int(rng.integers(-len(shape), len(shape)))
    q = qparams(0.05, 3) if dtype == "int8" else None
    x = g.tensor("x", shape, dtype, q)
    y = g.tensor("y", tuple(d for i, d in enumerate(shape) if i != axis % len(shape)), "int32")
    g.op(op, [x, g.const("axis", np.array([axis], np.int32))], [y], output_type=2)
    return g.build([x], [y])


CASES = {
    "EXPAND_DIMS": (expand_dims_case, ("float32", "int16", "int8")),
    "CAST": (cast_case, ("int8", "int16", "int32", "uint32", "float32", "bool")),
    "ARG_MAX": (lambda rng, dtype: arg_case(rng, dtype, "ARG_MAX"), ("float32", "int8")),
    "ARG_MIN": (lambda rng, dtype: arg_case(rng, dtype, "ARG_MIN"), ("float32", "int8")),
}


def test_hand_cases() -> None:
    g = GraphBuilder()
    x = g.tensor("x", (2, 3), "int8", qparams(0.1, 0))
    mx, mn = g.tensor("mx", (2,), "int32"), g.tensor("mn", (3,), "int32")
    axis1, axis0 = g.const("a1", np.array([1], np.int32)), g.const("a0", np.array([-2], np.int32))
    g.op("ARG_MAX", [x, axis1], [mx], output_type=2)
    g.op("ARG_MIN", [x, axis0], [mn], output_type=2)
    graph = g.build([x], [mx, mn])
    xv = np.array([[3, 7, 7], [-1, -5, 2]], np.int8)  # ties: the first index wins
    assert [o.tolist() for o in run_model(graph, [xv])] == [[1, 2], [1, 1, 1]]
    check_tflm(graph, [xv], "hand")
    g = GraphBuilder()
    x, y = g.tensor("x", (3,), "float32"), g.tensor("y", (3,), "int8")
    g.op("CAST", [x], [y])
    graph = g.build([x], [y])
    xv = np.array([-2.7, 0.5, 100.9], np.float32)  # truncation toward zero
    assert run_model(graph, [xv])[0].tolist() == [-2, 0, 100]
    check_tflm(graph, [xv], "hand")
    for to, want in (("bool", [True, True, False, True]), ("uint32", [4294967040, 0, 0, 3000000000])):
        g = GraphBuilder()
        x, y = g.tensor("x", (4,), "float32"), g.tensor("y", (4,), to)
        g.op("CAST", [x], [y])
        graph = g.build([x], [y])
        # a negative float to uint32 is undefined in C: only values inside the type
        xv = np.array([-2.5 if to == "bool" else 4294967040.0, 0.5, 0.0, 3e9], np.float32)
        assert run_model(graph, [xv])[0].tolist() == want, to  # a cast to bool is value != 0
        check_tflm(graph, [xv], f"hand {to}")


def test_arg_max_nan_compares_false_as_in_the_installed_tflm() -> None:
    """Pinned: the installed TFLM compares with plain > / < (a NaN at index 0 stays the answer,
    a later NaN never wins), where TFLM's current sources (arg_min_max.h) describe a NaN-aware
    comparison that would give [2, 0, 0] and [1, 2, 0] here."""
    g = GraphBuilder()
    x = g.tensor("x", (3, 3), "float32")
    mx, mn = g.tensor("mx", (3,), "int32"), g.tensor("mn", (3,), "int32")
    axis = g.const("a", np.array([1], np.int32))
    g.op("ARG_MAX", [x, axis], [mx], output_type=2)
    g.op("ARG_MIN", [x, axis], [mn], output_type=2)
    graph = g.build([x], [mx, mn])
    nan = np.nan
    xv = np.array([[nan, 1, 2], [5, nan, -1], [nan, nan, nan]], np.float32)
    assert [o.tolist() for o in run_model(graph, [xv])] == [[0, 0, 0], [0, 2, 0]]
    check_tflm(graph, [xv], "nan")


@pytest.mark.parametrize("op", sorted(CASES))
def test_random_cases_match_tflm_in_every_type(op: str) -> None:
    build, types = CASES[op]
    rng = np.random.default_rng(sum(map(ord, op)) + 11)
    for dtype in types:
        for case in range(6 if op == "CAST" else 3):
            graph = build(rng, dtype)
            inputs = [_values(rng, t.shape, t.dtype) for t in graph.input_tensors()]
            label = f"{op} {dtype} case {case}"
            check_tflm(graph, inputs, label)
            if dtype == "float32":
                check_litert(graph, inputs, rtol=1e-5, label=label)


def test_expand_dims_in_c() -> None:
    """EXPAND_DIMS is a view: the generated C copies nothing and gives TFLM's bytes."""
    rng = np.random.default_rng(4)
    for dtype in ("int8", "int16", "float32"):
        graph = expand_dims_case(rng, dtype)
        inputs = [_values(rng, (2, *t.shape), t.dtype) for t in graph.input_tensors()]
        outs = HostModel(generate(graph, "expand"), opt="-O0").run_batch(inputs)
        for b in range(2):
            want = check_tflm(graph, [inputs[0][b]], dtype)
            check_tensor(outs[0][b], want[0], f"EXPAND_DIMS {dtype} input {b}")


def test_cast_the_c_kernel_lacks_is_refused_by_name() -> None:
    """CAST to bool runs in the runtime (above); C refuses it in one line rather than writing
    4-byte values into a 1-byte bool."""
    from edgecraft.codegen.opcode import CodegenError

    g = GraphBuilder()
    x, y = g.tensor("x", (4,), "int8"), g.tensor("y", (4,), "bool")
    g.op("CAST", [x], [y])
    with pytest.raises(CodegenError, match=r"CAST (from int8|to bool) has no C kernel"):
        generate(g.build([x], [y]))


@pytest.mark.parametrize(("src", "to"), [("uint32", "int32"), ("int32", "uint32"), ("uint32", "int16")])
def test_cast_from_and_to_uint32_in_c(src: str, to: str) -> None:
    """The signal library's uint32 tensors meet the builtins through CAST (TFLM's
    audio preprocessor): in C, every value wraps as TFLM's static_cast does."""
    g = GraphBuilder()
    x, y = g.tensor("x", (6,), src), g.tensor("y", (6,), to)
    g.op("CAST", [x], [y])
    graph = g.build([x], [y])
    values = (np.array([0, 1, 70000, 2**31 - 1, 2**31, 2**32 - 1], np.uint32) if src == "uint32"
              else np.array([0, 1, -1, 70000, -(2**31), 2**31 - 1], np.int32))
    (got,) = HostModel(generate(graph, "cast"), opt="-O0").run([values])
    check_tensor(got, check_tflm(graph, [values], f"{src} -> {to}")[0], f"CAST {src} -> {to} in C")
