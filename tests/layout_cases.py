"""Randomized one-op graphs for the layout ops (SPACE_TO_DEPTH, DEPTH_TO_SPACE, REVERSE_V2) in
every type TFLM runs them in: shared by the runtime tests (tests/ops) and the C generator's
host tests (tests/codegen)."""

from __future__ import annotations

import numpy as np

from edgecraft.ir.builder import GraphBuilder
from edgecraft.ir.graph import Graph
from movement_cases import Builder, _q


def space_to_depth(rng: np.random.Generator, dtype: str = "int8") -> Graph:
    g = GraphBuilder("space_to_depth")
    b = int(rng.integers(1, 4))
    n, h, w, c = (int(v) for v in rng.integers(1, 4, 4))
    h, w = b * h, b * w
    q = _q(rng, dtype)
    x = g.tensor("x", (n, h, w, c), dtype, q)
    y = g.tensor("y", (n, h // b, w // b, b * b * c), dtype, q)
    g.op("SPACE_TO_DEPTH", [x], [y], block_size=b)
    return g.build([x], [y])


def depth_to_space(rng: np.random.Generator, dtype: str = "int8") -> Graph:
    g = GraphBuilder("depth_to_space")
    b = int(rng.integers(1, 4))
    n, h, w, c = (int(v) for v in rng.integers(1, 4, 4))
    q = _q(rng, dtype)
    x = g.tensor("x", (n, h, w, b * b * c), dtype, q)
    y = g.tensor("y", (n, h * b, w * b, c), dtype, q)
    g.op("DEPTH_TO_SPACE", [x], [y], block_size=b)
    return g.build([x], [y])


def reverse_v2(rng: np.random.Generator, dtype: str = "int8") -> Graph:
    g = GraphBuilder("reverse_v2")
    rank = int(rng.integers(1, 5))
    shape = tuple(int(v) for v in rng.integers(1, 5, rank))
    count = int(rng.integers(1, rank + 1))
    first = int(rng.integers(0, rank - count + 1))
    axes = [int(a) for a in rng.permutation(np.arange(first, first + count))]  # TFLM: neighbours
    axes = [a - rank if rng.random() < 0.3 else a for a in axes]
    q = _q(rng, dtype)
    x = g.tensor("x", shape, dtype, q)
    y = g.tensor("y", shape, dtype, q)
    g.op("REVERSE_V2", [x, g.const("axes", np.array(axes, np.int32))], [y])
    return g.build([x], [y])


#: op name -> (random case builder, the types TFLM's kernel supports).
LAYOUT_CASES: dict[str, tuple[Builder, tuple[str, ...]]] = {
    "SPACE_TO_DEPTH": (space_to_depth, ("int8", "float32")),
    "DEPTH_TO_SPACE": (depth_to_space, ("int8", "float32")),
    "REVERSE_V2": (reverse_v2, ("int8", "int16", "int32", "int64", "uint8", "bool", "float32")),
}
