"""CUMSUM, ADD_N, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND, L2_POOL_2D, REDUCE_ALL, EMBEDDING_LOOKUP,
DYNAMIC_UPDATE_SLICE and BROADCAST_ARGS on randomized one-op models: integers equal to TFLM,
floats within 1e-5 of LiteRT. SPACE_TO_BATCH_ND's padding is compared with LiteRT (TFLM pads with
an uninitialized value) and with TFLM where nothing is padded."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import write_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.ops import OpError
from edgecraft.reference import run_litert
from edgecraft.runtime import run_model
from oracle import check_litert, check_tensor, check_tflm
from remaining_cases import quant, space_batch, values, with_output_shape

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]


def _check(graph: Graph, inputs: list[np.ndarray], label: str) -> None:
    if graph.output_tensors()[0].dtype == "float32":
        check_litert(graph, inputs, label=label)
    else:
        check_tflm(graph, inputs, label)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_cumsum_and_add_n(dtype: str) -> None:
    rng = np.random.default_rng(41)
    for case in range(16):
        shape = tuple(int(v) for v in rng.integers(1, 5, size=rng.integers(1, 4)))
        q_in, q_out = quant(rng, dtype), quant(rng, dtype, 0.05, 0.5)
        b = GraphBuilder()
        x = b.tensor("x", shape, dtype, q_in)
        axis = b.const("axis", np.array([int(rng.integers(-len(shape), len(shape)))], np.int32))
        y = b.tensor("y", shape, dtype, q_out)
        b.op("CUMSUM", [x, axis], [y], exclusive=bool(case % 2), reverse=bool(case // 2 % 2))
        _check(b.build([x], [y]), [values(rng, shape, dtype)], f"CUMSUM {case}")
        b = GraphBuilder()
        xs = [b.tensor(f"x{i}", shape, dtype, q_in) for i in range(2 + case % 3)]
        y = b.tensor("y", shape, dtype, q_out)
        b.op("ADD_N", xs, [y])
        _check(b.build(xs, [y]), [values(rng, shape, dtype) for _ in xs], f"ADD_N {case}")


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_space_to_batch_and_back(dtype: str) -> None:
    rng = np.random.default_rng(43)
    for case in range(12):
        s2b, b2s = space_batch(rng, dtype, four=case % 3 != 0, pad=case % 2 == 0)
        x = values(rng, s2b.input_tensors()[0].shape, dtype)
        if case % 2 == 0:  # padded: LiteRT's padding value (0.0, the zero point for int8)
            got, want = run_model(s2b, [x])[0], run_litert(write_tflite(s2b), [x])[0]
            check_tensor(got, want, f"SPACE_TO_BATCH_ND {case} (LiteRT)")
        else:
            _check(s2b, [x], f"SPACE_TO_BATCH_ND {case}")
        _check(b2s, [values(rng, b2s.input_tensors()[0].shape, dtype)], f"BATCH_TO_SPACE_ND {case}")


def test_l2_pool_and_reduce_all() -> None:
    rng = np.random.default_rng(44)
    for case in range(8):
        shape = (1, int(rng.integers(2, 7)), int(rng.integers(2, 7)), int(rng.integers(1, 4)))
        b = GraphBuilder()
        x = b.tensor("x", shape, "float32")
        graph = with_output_shape(b, "L2_POOL_2D", [x], b.tensor("y", (1,), "float32"),
                                   padding=["SAME", "VALID"][case % 2], stride_h=1 + case % 2,
                                   stride_w=1 + case // 2 % 2, filter_height=2, filter_width=1 + case % 3,
                                   fused_activation_function=ACTS[case % 4])
        check_litert(graph, [values(rng, shape, "float32")], label=f"L2_POOL_2D {case}")
        shape = tuple(int(v) for v in rng.integers(1, 4, size=3))
        axes = sorted({int(a) for a in rng.integers(0, 3, size=rng.integers(1, 3))})
        b = GraphBuilder()
        x = b.tensor("x", shape, "bool")
        axis = b.const("axes", np.array(axes, np.int32))
        graph = with_output_shape(b, "REDUCE_ALL", [x, axis], b.tensor("y", (1,), "bool"),
                                   keep_dims=bool(case % 2))
        check_tflm(graph, [values(rng, shape, "bool")], f"REDUCE_ALL {case}")


@pytest.mark.parametrize(("table_type", "out_type"),
                         [("float32", "float32"), ("int8", "int8"), ("int8", "float32")])
def test_embedding_lookup(table_type: str, out_type: str) -> None:
    rng = np.random.default_rng(45)
    for case in range(5):
        rows, cols = int(rng.integers(2, 6)), (int(rng.integers(1, 4)), int(rng.integers(1, 3)))
        q = qparams(float(rng.uniform(0.01, 0.1)), 0) if table_type == "int8" else None
        b = GraphBuilder()
        ids = b.tensor("ids", (int(rng.integers(1, 5)),), "int32")
        table = b.const("table", values(rng, (rows, *cols), table_type), q)
        y = b.tensor("y", (b.tensors[ids].shape[0], *cols), out_type, q if out_type == "int8" else None)
        b.op("EMBEDDING_LOOKUP", [ids, table], [y])
        graph = b.build([ids], [y])
        check_tflm(graph, [rng.integers(0, rows, b.tensors[ids].shape).astype(np.int32)], f"case {case}")
    with pytest.raises(OpError, match="out of bounds"):
        run_model(graph, [np.full(b.tensors[ids].shape, rows, np.int32)])


def test_dynamic_update_slice_and_broadcast_args() -> None:
    rng = np.random.default_rng(46)
    for case in range(16):
        dtype = ("float32", "int8", "int16", "int32")[case % 4]
        shape = tuple(int(v) for v in rng.integers(1, 5, size=rng.integers(1, 4)))
        update = tuple(int(rng.integers(0 if case % 7 == 0 else 1, d + 1)) for d in shape)
        index_type = ("int32", "int64")[case % 2]
        b = GraphBuilder()
        x, u = b.tensor("x", shape, dtype), b.tensor("u", update, dtype)
        s = b.tensor("start", (len(shape),), index_type)
        y = b.tensor("y", shape, dtype)
        b.op("DYNAMIC_UPDATE_SLICE", [x, u, s], [y])
        inputs = [values(rng, shape, dtype), values(rng, update, dtype),
                  rng.integers(-2, 6, len(shape)).astype(index_type)]
        check_tflm(b.build([x, u, s], [y]), inputs, f"DYNAMIC_UPDATE_SLICE {case}")
    for index_type in ("int32", "int64"):
        b = GraphBuilder()
        a, c = b.tensor("a", (3,), index_type), b.tensor("b", (1,), index_type)
        y = b.tensor("y", (3,), index_type)
        b.op("BROADCAST_ARGS", [a, c], [y])
        graph = b.build([a, c], [y])
        out = check_tflm(graph, [np.array([2, 1, 4], index_type), np.array([4], index_type)], index_type)
        assert out[0].tolist() == [2, 1, 4]
        with pytest.raises(OpError, match="do not broadcast"):
            run_model(graph, [np.array([2, 1, 4], index_type), np.array([3], index_type)])
