"""Randomized one-op graphs for the data-movement and reduction ops the PyTorch converter emits
(PADV2, SUM, SLICE, SPLIT, SPLIT_V, PACK, UNPACK, GATHER), in any of their types: shared by the
runtime tests (tests/ops) and the C generator's cases (tests/codegen/cases.py)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph

Builder = Callable[[np.random.Generator, str], Graph]


def _q(rng: np.random.Generator, dtype: str):  # type: ignore[no-untyped-def]
    if dtype == "int8":
        return qparams(float(rng.uniform(0.01, 0.1)), int(rng.integers(-20, 21)))
    if dtype == "int16":
        return qparams(float(rng.uniform(0.0005, 0.005)), 0)
    return None


def _shape(rng: np.random.Generator, lo: int = 1, hi: int = 5, rank: int | None = None) -> tuple[int, ...]:
    rank = int(rng.integers(1, 5)) if rank is None else rank
    return tuple(int(v) for v in rng.integers(lo, hi, rank))


def random_values(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Values covering the type: the full range for integers, normals for float32."""
    if dtype == "float32":
        return rng.standard_normal(shape).astype(np.float32)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    info = np.iinfo(np.dtype(dtype))
    lo, hi = max(int(info.min), -(1 << 20)), min(int(info.max), 1 << 20)
    return rng.integers(lo, hi + 1, shape).astype(dtype)


def padv2(rng: np.random.Generator, dtype: str = "int8") -> Graph:
    g = GraphBuilder("padv2")
    shape = _shape(rng)
    pads = rng.integers(0, 3, (len(shape), 2)).astype(np.int32)
    q = _q(rng, dtype)
    x = g.tensor("x", shape, dtype, q)
    value = g.const("value", random_values(rng, (1,), dtype), q)
    y = g.tensor("y", tuple(int(d + a + b) for d, (a, b) in zip(shape, pads, strict=True)), dtype, q)
    g.op("PADV2", [x, g.const("paddings", pads), value], [y])
    return g.build([x], [y])


def sum_(rng: np.random.Generator, dtype: str = "int8") -> Graph:
    g = GraphBuilder("sum")
    shape = (1, *(int(v) for v in rng.integers(1, 6, 3)))
    axes = sorted(int(a) for a in rng.choice([1, 2, 3], int(rng.integers(1, 3)), replace=False))
    keep = bool(rng.integers(0, 2))
    out = tuple(1 if i in axes else d for i, d in enumerate(shape)) if keep else tuple(
        d for i, d in enumerate(shape) if i not in axes)
    x = g.tensor("x", shape, dtype, _q(rng, dtype))
    count = int(np.prod([shape[a] for a in axes]))
    q_out = None
    if dtype != "float32":  # the sum's range grows with the count: a wider output scale
        qx = g.tensors[x].quant
        assert qx is not None
        q_out = qparams(float(qx.scale[0]) * float(rng.uniform(1, 2)) * np.sqrt(count),
                        int(rng.integers(-20, 21)) if dtype == "int8" else 0)
    y = g.tensor("y", out, dtype, q_out)
    g.op("SUM", [x, g.const("axes", np.array(axes, np.int32))], [y], keep_dims=keep)
    return g.build([x], [y])


def slice_(rng: np.random.Generator, dtype: str = "int8") -> Graph:
    g = GraphBuilder("slice")
    shape = _shape(rng, 1, 6)
    begin = [int(rng.integers(0, d)) for d in shape]
    size = [int(rng.integers(1, d - b + 1)) if rng.random() < 0.7 else -1
            for d, b in zip(shape, begin, strict=True)]
    out = tuple(d - b if s == -1 else s for d, b, s in zip(shape, begin, size, strict=True))
    index = np.int32 if rng.random() < 0.5 else np.int64
    q = _q(rng, dtype)
    x = g.tensor("x", shape, dtype, q)
    y = g.tensor("y", out, dtype, q)
    g.op("SLICE", [x, g.const("begin", np.array(begin, index)), g.const("size", np.array(size, index))], [y])
    return g.build([x], [y])


def split(rng: np.random.Generator, dtype: str = "int8") -> Graph:
    g = GraphBuilder("split")
    shape = list(_shape(rng, 1, 4))
    axis = int(rng.integers(0, len(shape)))
    n = int(rng.integers(1, 4))
    shape[axis] *= n
    q = _q(rng, dtype)
    x = g.tensor("x", tuple(shape), dtype, q)
    part = tuple(d // n if i == axis else d for i, d in enumerate(shape))
    ys = [g.tensor(f"y{i}", part, dtype, q) for i in range(n)]
    signed = axis - len(shape) if rng.random() < 0.3 else axis
    g.op("SPLIT", [g.const("axis", np.array(signed, np.int32)), x], ys, num_splits=n)
    return g.build([x], ys)


def split_v(rng: np.random.Generator, dtype: str = "int8") -> Graph:
    g = GraphBuilder("split_v")
    shape = list(_shape(rng, 1, 4))
    axis = int(rng.integers(0, len(shape)))
    sizes = [int(v) for v in rng.integers(1, 4, int(rng.integers(1, 4)))]
    shape[axis] = sum(sizes)
    given = list(sizes)
    if rng.random() < 0.5:
        given[int(rng.integers(0, len(sizes)))] = -1
    q = _q(rng, dtype)
    x = g.tensor("x", tuple(shape), dtype, q)
    ys = [g.tensor(f"y{i}", tuple(s if k == axis else d for k, d in enumerate(shape)), dtype, q)
          for i, s in enumerate(sizes)]
    consts = [g.const("sizes", np.array(given, np.int32)), g.const("axis", np.array([axis], np.int32))]
    g.op("SPLIT_V", [x, *consts], ys, num_splits=len(sizes))
    return g.build([x], ys)


def pack(rng: np.random.Generator, dtype: str = "int8") -> Graph:
    g = GraphBuilder("pack")
    shape = _shape(rng, 1, 4, int(rng.integers(1, 4)))
    n = int(rng.integers(1, 4))
    axis = int(rng.integers(-len(shape) - 1, len(shape) + 1))
    q = _q(rng, dtype)
    xs = [g.tensor(f"x{i}", shape, dtype, q) for i in range(n)]
    out = list(shape)
    out.insert(axis % (len(shape) + 1), n)
    y = g.tensor("y", tuple(out), dtype, q)
    g.op("PACK", xs, [y], values_count=n, axis=axis)
    return g.build(xs, [y])


def unpack(rng: np.random.Generator, dtype: str = "int8") -> Graph:
    g = GraphBuilder("unpack")
    shape = _shape(rng, 1, 4, int(rng.integers(1, 5)))
    axis = int(rng.integers(0, len(shape)))
    q = _q(rng, dtype)
    x = g.tensor("x", shape, dtype, q)
    part = tuple(d for i, d in enumerate(shape) if i != axis)
    ys = [g.tensor(f"y{i}", part, dtype, q) for i in range(shape[axis])]
    g.op("UNPACK", [x], ys, num=shape[axis], axis=axis)
    return g.build([x], ys)


def gather(rng: np.random.Generator, dtype: str = "int8") -> Graph:
    g = GraphBuilder("gather")
    shape = _shape(rng, 1, 5, int(rng.integers(1, 4)))
    batch = int(rng.integers(0, len(shape)))
    axis = int(rng.integers(batch, len(shape)))
    pos_shape = shape[:batch] + _shape(rng, 1, 4, int(rng.integers(1, 3)))
    q = _q(rng, dtype)
    x = g.tensor("x", shape, dtype, q)
    pos = g.const("positions", rng.integers(0, shape[axis], pos_shape).astype(np.int32))
    y = g.tensor("y", shape[:axis] + pos_shape[batch:] + shape[axis + 1:], dtype, q)
    g.op("GATHER", [x, pos], [y], axis=axis, batch_dims=batch)
    return g.build([x], [y])


#: op name -> (random case builder, the types TFLM's kernel supports).
MOVEMENT_CASES: dict[str, tuple[Builder, tuple[str, ...]]] = {
    "PADV2": (padv2, ("int8", "int16", "int32", "float32")),
    "SUM": (sum_, ("int8", "int16", "float32")),
    "SLICE": (slice_, ("int8", "int16", "int32", "float32", "bool")),
    "SPLIT": (split, ("int8", "int16", "int32", "float32")),
    "SPLIT_V": (split_v, ("int8", "int16", "int32", "float32")),
    "PACK": (pack, ("int8", "int16", "int32", "int64", "float32")),
    "UNPACK": (unpack, ("int8", "int16", "int32", "float32")),
    "GATHER": (gather, ("int8", "float32")),
}
