"""RESHAPE, SQUEEZE, CONCATENATION, TRANSPOSE: literal cases, random ones against TFLM and LiteRT."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph, Quantization
from edgecraft.ops import OpError, get_op
from edgecraft.ops.base import OpContext
from oracle import check_litert, check_tflm

Q = qparams(0.05, -3)


def quant(dtype: str) -> Quantization | None:
    return Q if dtype == "int8" else (qparams(0.05, 0) if dtype == "int16" else None)


def reshape_graph(in_shape: tuple[int, ...], target: list[int], out_shape: tuple[int, ...], dtype: str,
                  as_input: bool = True) -> Graph:
    b = GraphBuilder()
    x = b.tensor("x", in_shape, dtype, quant(dtype))
    y = b.tensor("y", out_shape, dtype, quant(dtype))
    if as_input:
        b.op("RESHAPE", [x, b.const("shape", np.array(target, np.int32))], [y])
    else:
        b.op("RESHAPE", [x], [y], new_shape=target)
    return b.build([x], [y])


def squeeze_graph(in_shape: tuple[int, ...], dims: list[int], out_shape: tuple[int, ...],
                  dtype: str) -> Graph:
    b = GraphBuilder()
    x = b.tensor("x", in_shape, dtype, quant(dtype))
    y = b.tensor("y", out_shape, dtype, quant(dtype))
    b.op("SQUEEZE", [x], [y], squeeze_dims=dims)
    return b.build([x], [y])


def concat_graph(shapes: list[tuple[int, ...]], axis: int, dtype: str) -> Graph:
    b = GraphBuilder()
    xs = [b.tensor(f"x{i}", s, dtype, quant(dtype)) for i, s in enumerate(shapes)]
    out = np.concatenate([np.zeros(s) for s in shapes], axis=axis).shape
    y = b.tensor("y", out, dtype, quant(dtype))
    b.op("CONCATENATION", xs, [y], axis=axis)
    return b.build(xs, [y])


def transpose_graph(in_shape: tuple[int, ...], perm: list[int], dtype: str) -> Graph:
    b = GraphBuilder()
    x = b.tensor("x", in_shape, dtype, quant(dtype))
    y = b.tensor("y", tuple(in_shape[p] for p in perm), dtype, quant(dtype))
    b.op("TRANSPOSE", [x, b.const("perm", np.array(perm, np.int32))], [y])
    return b.build([x], [y])


def ints(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    if dtype == "float32":
        return rng.normal(0, 1, shape).astype(np.float32)
    return rng.integers(-128, 128, shape).astype(dtype)


def random_shape(rng: np.random.Generator, lo: int = 1, hi: int = 4) -> tuple[int, ...]:
    return tuple(int(d) for d in rng.integers(1, 5, int(rng.integers(lo, hi + 1))))


def shape_of(g: Graph) -> tuple[int, ...]:
    op = g.operators[0]
    return get_op(op.type).shape(OpContext(op, g))[0]


# --- literal cases ---

def test_literal_reshape_infers_minus_one() -> None:
    x = np.arange(1, 7, dtype=np.int8).reshape(2, 3)
    g = reshape_graph((2, 3), [3, -1], (3, 2), "int8")
    assert shape_of(g) == (3, 2)
    assert check_tflm(g, [x])[0].tolist() == [[1, 2], [3, 4], [5, 6]]
    assert shape_of(reshape_graph((2, 3), [-1], (6,), "int8", as_input=False)) == (6,)


def test_literal_squeeze() -> None:
    g = squeeze_graph((1, 3, 1, 2), [0, -2], (3, 2), "int8")
    assert shape_of(g) == (3, 2)
    assert shape_of(squeeze_graph((1, 3, 1, 2), [], (3, 2), "int8")) == (3, 2)
    x = np.arange(6, dtype=np.int8).reshape(1, 3, 1, 2)
    assert check_tflm(g, [x])[0].tolist() == [[0, 1], [2, 3], [4, 5]]


def test_literal_concatenation_negative_axis() -> None:
    g = concat_graph([(2, 2), (2, 1)], -1, "int8")
    got = check_tflm(g, [np.array([[1, 2], [4, 5]], np.int8), np.array([[3], [6]], np.int8)])[0]
    assert got.tolist() == [[1, 2, 3], [4, 5, 6]]


def test_concatenation_refuses_mixed_quantization() -> None:
    # TFLM copies stored values and so refuses inputs quantized unlike the output; so do we.
    g = concat_graph([(2,), (2,)], 0, "int8")
    g.tensors[0].quant = qparams(0.5, 10)
    with pytest.raises(OpError, match="requantize it first"):
        shape_of(g)


def test_literal_transpose() -> None:
    g = transpose_graph((2, 3), [1, 0], "int8")
    x = np.arange(1, 7, dtype=np.int8).reshape(2, 3)
    assert check_tflm(g, [x])[0].tolist() == [[1, 4], [2, 5], [3, 6]]


# --- random cases ---

@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_reshape_random(dtype: str) -> None:
    rng = np.random.default_rng(11)
    for case in range(30 if dtype == "int8" else 8):
        in_shape = random_shape(rng)
        out_shape = tuple(int(d) for d in rng.permutation(np.array(in_shape)))[: int(rng.integers(1, 5))]
        out_shape = (*out_shape, int(np.prod(in_shape)) // int(np.prod(out_shape)))
        target = list(out_shape)
        if case % 2:
            target[int(rng.integers(len(target)))] = -1
        g = reshape_graph(in_shape, target, out_shape, dtype, as_input=case % 3 != 0)
        assert shape_of(g) == out_shape
        check = check_litert if dtype == "float32" else check_tflm
        check(g, [ints(rng, in_shape, dtype)], label=f"RESHAPE case {case} {in_shape}->{target}")


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_squeeze_random(dtype: str) -> None:
    rng = np.random.default_rng(12)
    for case in range(30 if dtype == "int8" else 8):
        in_shape = tuple(1 if rng.random() < 0.4 else d for d in random_shape(rng))
        ones = [i for i, d in enumerate(in_shape) if d == 1]
        dims = [i - len(in_shape) if rng.random() < 0.5 else i for i in ones if rng.random() < 0.6]
        drop = {d % len(in_shape) for d in dims} if dims else set(ones)
        out_shape = tuple(d for i, d in enumerate(in_shape) if i not in drop)
        g = squeeze_graph(in_shape, dims, out_shape, dtype)
        assert shape_of(g) == out_shape
        check = check_litert if dtype == "float32" else check_tflm
        check(g, [ints(rng, in_shape, dtype)], label=f"SQUEEZE case {case} {in_shape} {dims}")


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "float32"])
def test_concatenation_random(dtype: str) -> None:
    rng = np.random.default_rng(13)
    for case in range(30 if dtype == "int8" else 8):
        base = random_shape(rng)
        axis = int(rng.integers(-len(base), len(base)))
        shapes = []
        for _ in range(int(rng.integers(1, 6))):
            s = list(base)
            s[axis] = int(rng.integers(1, 4))
            shapes.append(tuple(s))
        g = concat_graph(shapes, axis, dtype)
        check = check_litert if dtype == "float32" else check_tflm
        inputs = [ints(rng, s, dtype) for s in shapes]
        check(g, inputs, label=f"CONCATENATION case {case} {shapes} axis {axis}")


@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_transpose_random(dtype: str) -> None:
    rng = np.random.default_rng(14)
    for case in range(30 if dtype == "int8" else 8):
        in_shape = random_shape(rng, 1, 5)  # TFLM's limit
        perm = [int(p) for p in rng.permutation(len(in_shape))]
        g = transpose_graph(in_shape, perm, dtype)
        check = check_litert if dtype == "float32" else check_tflm
        check(g, [ints(rng, in_shape, dtype)], label=f"TRANSPOSE case {case} {in_shape} {perm}")


def test_errors_say_what_is_wrong() -> None:
    with pytest.raises(OpError, match="needs 5 elements"):
        shape_of(reshape_graph((2, 3), [5], (5,), "int8"))
    with pytest.raises(OpError, match="one -1"):
        shape_of(reshape_graph((2, 3), [-1, -1], (6,), "int8"))
    with pytest.raises(OpError, match="has size 3, not 1"):
        shape_of(squeeze_graph((1, 3), [1], (1,), "int8"))
    g = concat_graph([(2, 2), (2, 1)], 1, "int8")
    g.tensors[1].shape = (3, 1)
    with pytest.raises(OpError, match="differ off axis"):
        shape_of(g)
    g = transpose_graph((2, 3), [1, 0], "int8")
    g.tensors[2].data = np.array([0, 0], np.int32)
    with pytest.raises(OpError, match="not a permutation"):
        shape_of(g)
