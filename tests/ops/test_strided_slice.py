"""STRIDED_SLICE: literal cases, random ones against TFLM (int8) and LiteRT (float32, all masks)."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.ops import OpError, get_op
from edgecraft.ops.base import OpContext
from edgecraft.runtime import run_model
from oracle import check_litert, check_tflm


def slice_graph(in_shape: tuple[int, ...], begin: list[int], end: list[int], strides: list[int],
                dtype: str = "int8", **masks: int) -> Graph:
    """A one-op graph whose output shape is filled in by the op's own shape rule (the oracles
    check it: TFLM refuses a wrong output shape, LiteRT computes its own)."""
    b = GraphBuilder()
    q = qparams(0.1, 2) if dtype == "int8" else None
    x = b.tensor("x", in_shape, dtype, q)
    consts = [b.const(name, np.array(v, np.int32)) for name, v in (("begin", begin), ("end", end),
                                                                    ("strides", strides))]
    y = b.tensor("y", (), dtype, q)
    b.op("STRIDED_SLICE", [x, *consts], [y], **masks)
    g = b.build([x], [y])
    g.tensors[y].shape = output_shape(g)
    return g


def output_shape(g: Graph) -> tuple[int, ...]:
    return get_op("STRIDED_SLICE").shape(OpContext(g.operators[0], g))[0]


X = np.arange(12, dtype=np.int8).reshape(3, 4)
LITERAL = [
    # begin, end, strides, masks, expected
    ([1, -1], [3, 0], [1, -2], {}, [[7, 5], [11, 9]]),
    ([1, 0], [2, 4], [1, 1], {"shrink_axis_mask": 1}, [4, 5, 6, 7]),
    ([5, 1], [3, 3], [1, 1], {"begin_mask": 1}, [[1, 2], [5, 6], [9, 10]]),
    ([0, 2], [0, 0], [1, 1], {"begin_mask": 1, "end_mask": 3}, [[2, 3], [6, 7], [10, 11]]),
    ([-1, 0], [0, 4], [-1, 3], {}, [[8, 11], [4, 7]]),
]


@pytest.mark.parametrize(("begin", "end", "strides", "masks", "want"), LITERAL)
def test_literal_int8(begin: list[int], end: list[int], strides: list[int], masks: dict[str, int],
                      want: list) -> None:
    g = slice_graph(X.shape, begin, end, strides, **masks)
    assert run_model(g, [X])[0].tolist() == want
    assert check_tflm(g, [X])[0].tolist() == want


def test_literal_ellipsis_new_axis_offset() -> None:
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    # x[..., 1] with shrink: ellipsis covers the first two dimensions.
    g = slice_graph(x.shape, [0, 1], [0, 2], [1, 1], "float32", ellipsis_mask=1, shrink_axis_mask=2)
    np.testing.assert_array_equal(run_model(g, [x])[0], x[..., 1])
    # x[:, np.newaxis, 1:3]: new axis at spec 1, last dimension untouched.
    g = slice_graph(x.shape, [0, 0, 1], [0, 0, 3], [1, 1, 1], "float32", begin_mask=1, end_mask=1,
                    new_axis_mask=2)
    np.testing.assert_array_equal(run_model(g, [x])[0], x[:, np.newaxis, 1:3])
    # offset: end is relative to begin, x[1:2, 0:3, 2:4].
    g = slice_graph(x.shape, [1, 0, 2], [1, 3, 2], [1, 1, 1], "float32", offset=True)
    np.testing.assert_array_equal(run_model(g, [x])[0], x[1:2, 0:3, 2:4])


def random_axis(rng: np.random.Generator, n: int, allow_shrink: bool) -> tuple[int, int, int, dict]:
    """begin, end, stride and mask bits for one dimension of size ``n``, often out of range."""
    if allow_shrink and rng.random() < 0.2:
        return int(rng.integers(-n, n)), 0, 1, {"shrink_axis_mask": 1}
    stride = int(rng.choice([-3, -2, -1, 1, 1, 2, 3]))
    begin, end = (int(v) for v in rng.integers(-n - 2, n + 3, 2))
    bits = {k: int(rng.random() < 0.25) for k in ("begin_mask", "end_mask")}
    return begin, end, stride, bits


Slice = tuple[list[int], list[int], list[int], dict[str, int]]


def random_slice(rng: np.random.Generator, shape: tuple[int, ...], allow_shrink: bool = True) -> Slice:
    """begin, end, strides and masks for a slice of ``shape``."""
    begin: list[int] = []
    end: list[int] = []
    strides: list[int] = []
    masks = {"begin_mask": 0, "end_mask": 0, "shrink_axis_mask": 0}
    for i, n in enumerate(shape):
        b, e, s, bits = random_axis(rng, n, allow_shrink)
        begin.append(b)
        end.append(e)
        strides.append(s)
        for k, v in bits.items():
            masks[k] |= v << i
    return begin, end, strides, masks


def test_int8_random_vs_tflm() -> None:
    rng = np.random.default_rng(21)
    done = 0
    while done < 40:
        shape = tuple(int(d) for d in rng.integers(1, 6, int(rng.integers(1, 5))))
        begin, end, strides, masks = random_slice(rng, shape)
        g = slice_graph(shape, begin, end, strides, **masks)
        if 0 in g.tensors[-1].shape:  # empty slices: nothing to compare
            continue
        x = rng.integers(-128, 128, shape).astype(np.int8)
        check_tflm(g, [x], f"case {done} {shape} {begin} {end} {strides} {masks}")
        done += 1


def test_float_random_vs_litert_with_every_mask() -> None:
    rng = np.random.default_rng(22)
    done = 0
    while done < 30:
        shape = tuple(int(d) for d in rng.integers(1, 5, int(rng.integers(1, 5))))
        # Name fewer dimensions than the input has, sometimes, and mark one spec as the ellipsis.
        named = int(rng.integers(1, len(shape) + 1))
        begin, end, strides, masks = random_slice(rng, shape[:named])
        if rng.random() < 0.4:
            masks["ellipsis_mask"] = 1 << int(rng.integers(named))
        if rng.random() < 0.4:
            masks["new_axis_mask"] = 1 << int(rng.integers(named))
        if rng.random() < 0.2:
            # offset as the converter emits it (a SLICE: begin and size in range, stride 1);
            # LiteRT crashes or reads out of bounds on other combinations.
            begin = [int(rng.integers(n)) for n in shape]
            end = [int(rng.integers(1, n - b + 1)) for n, b in zip(shape, begin, strict=True)]
            strides, masks = [1] * len(shape), {"offset": 1}
        try:
            g = slice_graph(shape, begin, end, strides, "float32", **masks)
        except OpError:  # a shrink index that the ellipsis moved out of range
            continue
        if 0 in g.tensors[-1].shape or len(g.tensors[-1].shape) > 5:
            continue
        x = rng.normal(0, 1, shape).astype(np.float32)
        check_litert(g, [x], label=f"case {done} {shape} {begin} {end} {strides} {masks}")
        done += 1


def test_errors_say_what_is_wrong() -> None:
    with pytest.raises(OpError, match="non-zero"):
        slice_graph((3,), [0], [3], [0])
    with pytest.raises(OpError, match="differ in length"):
        slice_graph((3, 3), [0, 0], [3], [1, 1])
