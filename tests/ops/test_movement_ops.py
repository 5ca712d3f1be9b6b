"""PADV2, SUM, SLICE, SPLIT, SPLIT_V, PACK, UNPACK, GATHER: hand-checked cases, then randomized
one-op models in every type TFLM supports for them against TFLM (tolerance 0; float32 also
against LiteRT within 1e-5)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import write_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ops import OpError
from edgecraft.reference import run_tflm
from edgecraft.runtime import run_model
from movement_cases import MOVEMENT_CASES, random_values
from oracle import check_litert, check_tflm


def test_padv2_pads_with_the_given_raw_value() -> None:
    g = GraphBuilder()
    q = qparams(0.1, -3)
    x = g.tensor("x", (1, 2), "int8", q)
    y = g.tensor("y", (1, 4), "int8", q)
    pads, value = g.const("p", np.array([[0, 0], [1, 1]], np.int32)), g.const("v", np.array([7], np.int8), q)
    g.op("PADV2", [x, pads, value], [y])
    graph = g.build([x], [y])
    xv = np.array([[5, 6]], np.int8)
    assert run_model(graph, [xv])[0].tolist() == [[7, 5, 6, 7]]
    check_tflm(graph, [xv], "hand")


def test_sum_int8_hand_case() -> None:
    # zp_in 1, zp_out -2, scale ratio 0.5: sum(x - 1) over 4 values * 0.5 - 2.
    g = GraphBuilder()
    x = g.tensor("x", (1, 4), "int8", qparams(0.05, 1))
    y = g.tensor("y", (1,), "int8", qparams(0.1, -2))
    g.op("SUM", [x, g.const("axes", np.array([1], np.int32))], [y], keep_dims=False)
    graph = g.build([x], [y])
    xv = np.array([[11, 21, 31, 41]], np.int8)  # sum(x - 1) = 100 -> 50 - 2
    assert run_model(graph, [xv])[0].tolist() == [48]
    check_tflm(graph, [xv], "hand")


def test_slice_split_pack_unpack_gather_hand_cases() -> None:
    g = GraphBuilder()
    x = g.tensor("x", (2, 3), "int32")
    s = g.tensor("s", (2, 2), "int32")
    g.op("SLICE", [x, g.const("b", np.array([0, 1], np.int32)), g.const("n", np.array([-1, 2], np.int32))],
         [s])
    a, b = g.tensor("a", (2, 1), "int32"), g.tensor("b", (2, 1), "int32")
    g.op("SPLIT", [g.const("axis", np.array(1, np.int32)), s], [a, b], num_splits=2)
    p = g.tensor("p", (2, 2, 1), "int32")
    g.op("PACK", [b, a], [p], values_count=2, axis=0)
    u0, u1 = g.tensor("u0", (2, 1), "int32"), g.tensor("u1", (2, 1), "int32")
    g.op("UNPACK", [p], [u0, u1], num=2, axis=1)
    graph = g.build([x], [a, b, p, u0, u1])
    xv = np.array([[1, 2, 3], [4, 5, 6]], np.int32)
    outs = run_model(graph, [xv])
    assert [o.tolist() for o in outs] == [[[2], [5]], [[3], [6]], [[[3], [6]], [[2], [5]]],
                                          [[3], [2]], [[6], [5]]]
    check_tflm(graph, [xv], "hand")
    g = GraphBuilder()
    x = g.tensor("x", (3, 2), "float32")
    y = g.tensor("y", (2, 2), "float32")
    g.op("GATHER", [x, g.const("i", np.array([2, 0], np.int32))], [y], axis=0, batch_dims=0)
    graph = g.build([x], [y])
    assert run_model(graph, [np.arange(6, dtype=np.float32).reshape(3, 2)])[0].tolist() == [[4, 5], [0, 1]]


def test_bad_configurations_are_op_errors() -> None:
    g = GraphBuilder()
    x = g.tensor("x", (3, 2), "int8", qparams(0.1, 0))
    y = g.tensor("y", (1, 2), "int8", qparams(0.1, 0))
    g.op("GATHER", [x, g.const("i", np.array([3], np.int32))], [y], axis=0, batch_dims=0)
    with pytest.raises(OpError, match=r"GATHER position outside 0\.\.2"):
        run_model(g.build([x], [y]), [np.zeros((3, 2), np.int8)])
    g = GraphBuilder()
    x = g.tensor("x", (3, 2), "int8", qparams(0.1, 0))
    y = g.tensor("y", (2, 2), "int8", qparams(0.1, 0))
    g.op("SLICE", [x, g.const("b", np.array([2, 0], np.int32)), g.const("n", np.array([2, 2], np.int32))],
         [y])
    with pytest.raises(OpError, match="leaves the input shape"):
        run_model(g.build([x], [y]), [np.zeros((3, 2), np.int8)])


@pytest.mark.parametrize("op", sorted(MOVEMENT_CASES))
def test_random_cases_match_tflm_in_every_type(op: str) -> None:
    build, types = MOVEMENT_CASES[op]
    rng = np.random.default_rng(sum(map(ord, op)) + 77)
    for dtype in types:
        for case in range(3):
            graph = build(rng, dtype)
            inputs = [random_values(rng, t.shape, t.dtype) for t in graph.input_tensors()]
            label = f"{op} {dtype} case {case}"
            check_tflm(graph, inputs, label)
            if dtype == "float32":
                check_litert(graph, inputs, rtol=1e-5, label=label)


def test_tflm_refuses_int32_gather_data() -> None:
    """TFLM's GATHER takes float32 and int8 data only (int32 is the positions' type): pinned so
    the runtime's type list stays TFLM's."""
    g = GraphBuilder()
    x = g.tensor("x", (3,), "int32")
    y = g.tensor("y", (1,), "int32")
    g.op("GATHER", [x, g.const("i", np.array([1], np.int32))], [y], axis=0, batch_dims=0)
    with pytest.raises(RuntimeError):
        run_tflm(write_tflite(g.build([x], [y])), [np.arange(3, dtype=np.int32)])
    with pytest.raises(OpError, match="no int32 kernel"):
        run_model(g.build([x], [y]), [np.arange(3, dtype=np.int32)])
