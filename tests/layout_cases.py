"""Randomized one-op graphs for the layout ops (SPACE_TO_DEPTH, DEPTH_TO_SPACE, REVERSE_V2,
MIRROR_PAD, RESIZE_NEAREST_NEIGHBOR, GATHER_ND) in
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


def mirror_pad(rng: np.random.Generator, dtype: str = "int8") -> Graph:
    g = GraphBuilder("mirror_pad")
    rank = int(rng.integers(1, 5))
    shape = tuple(int(v) for v in rng.integers(1, 5, rank))
    mode = int(rng.integers(0, 2))
    pads = np.array([[int(rng.integers(0, d - 1 + mode + 1)) for _ in range(2)] for d in shape], np.int32)
    q = _q(rng, dtype)
    x = g.tensor("x", shape, dtype, q)
    y = g.tensor("y", tuple(int(d + lo + hi) for d, (lo, hi) in zip(shape, pads, strict=True)), dtype, q)
    g.op("MIRROR_PAD", [x, g.const("paddings", pads)], [y], mode=mode)
    return g.build([x], [y])


def resize_nearest_neighbor(rng: np.random.Generator, dtype: str = "int8",
                            op: str = "RESIZE_NEAREST_NEIGHBOR") -> Graph:
    g = GraphBuilder(op.lower())
    n, h, w, c = (int(v) for v in rng.integers(1, 6, 4))
    oh, ow = (int(v) for v in rng.integers(1, 12, 2))
    align = bool(rng.random() < 0.4)
    half = bool(not align and rng.random() < 0.5)  # TFLite refuses both at once
    q = _q(rng, dtype)
    x = g.tensor("x", (n, h, w, c), dtype, q)
    y = g.tensor("y", (n, oh, ow, c), dtype, q)
    g.op(op, [x, g.const("size", np.array([oh, ow], np.int32))], [y],
         align_corners=align, half_pixel_centers=half)
    return g.build([x], [y])


def resize_bilinear(rng: np.random.Generator, dtype: str = "int8") -> Graph:
    return resize_nearest_neighbor(rng, dtype, "RESIZE_BILINEAR")


def gather_nd(rng: np.random.Generator, dtype: str = "int8") -> Graph:
    g = GraphBuilder("gather_nd")
    rank = int(rng.integers(1, 4))
    shape = tuple(int(v) for v in rng.integers(1, 5, rank))
    k = int(rng.integers(1, rank + 1))
    lead = tuple(int(v) for v in rng.integers(1, 4, int(rng.integers(0, 3))))
    idx = np.stack([rng.integers(0, shape[i], lead) for i in range(k)], axis=-1).astype(np.int32)
    q = _q(rng, dtype)
    x = g.tensor("x", shape, dtype, q)
    y = g.tensor("y", lead + shape[k:], dtype, q)
    g.op("GATHER_ND", [x, g.const("indices", idx)], [y])
    return g.build([x], [y])


#: op name -> (random case builder, the types TFLM's kernel supports).
LAYOUT_CASES: dict[str, tuple[Builder, tuple[str, ...]]] = {
    "SPACE_TO_DEPTH": (space_to_depth, ("int8", "float32")),
    "DEPTH_TO_SPACE": (depth_to_space, ("int8", "float32")),
    "REVERSE_V2": (reverse_v2, ("int8", "int16", "int32", "int64", "uint8", "bool", "float32")),
    "MIRROR_PAD": (mirror_pad, ("int8", "float32")),
    "RESIZE_NEAREST_NEIGHBOR": (resize_nearest_neighbor, ("int8", "int16", "float32")),
    "GATHER_ND": (gather_nd, ("int8", "float32")),
    "RESIZE_BILINEAR": (resize_bilinear, ("int8",)),  # float32: LiteRT, within 1e-5
}

#: Types TFLM's sources list but the installed TFLM build refuses ("not supported"): checked
#: against LiteRT instead (tolerance 0: values are only moved).
LITERT_ONLY: dict[str, tuple[str, ...]] = {
    "MIRROR_PAD": ("int32", "int64"),
    "GATHER_ND": ("int32",),
}


def layout_chain(seed: int = 0) -> Graph:
    """Every layout op in one int8 graph (for the emulated boards): SPACE_TO_DEPTH,
    DEPTH_TO_SPACE, MIRROR_PAD, RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR, REVERSE_V2, GATHER_ND."""
    rng = np.random.default_rng(seed)
    q = _q(rng, "int8")
    g = GraphBuilder("layout_chain")
    x = g.tensor("x", (1, 4, 4, 2), "int8", q)
    s2d = g.tensor("s2d", (1, 2, 2, 8), "int8", q)
    g.op("SPACE_TO_DEPTH", [x], [s2d], block_size=2)
    d2s = g.tensor("d2s", (1, 4, 4, 2), "int8", q)
    g.op("DEPTH_TO_SPACE", [s2d], [d2s], block_size=2)
    padded = g.tensor("padded", (1, 6, 7, 2), "int8", q)
    pads = np.array([[0, 0], [1, 1], [2, 1], [0, 0]], np.int32)
    g.op("MIRROR_PAD", [d2s, g.const("pads", pads)], [padded], mode=0)
    near = g.tensor("near", (1, 9, 5, 2), "int8", q)
    g.op("RESIZE_NEAREST_NEIGHBOR", [padded, g.const("size1", np.array([9, 5], np.int32))], [near],
         align_corners=False, half_pixel_centers=True)
    bil = g.tensor("bil", (1, 5, 6, 2), "int8", q)
    g.op("RESIZE_BILINEAR", [near, g.const("size2", np.array([5, 6], np.int32))], [bil],
         align_corners=True, half_pixel_centers=False)
    rev = g.tensor("rev", (1, 5, 6, 2), "int8", q)
    g.op("REVERSE_V2", [bil, g.const("axes", np.array([2, 1], np.int32))], [rev])
    picked = g.tensor("picked", (3, 2), "int8", q)
    idx = np.array([[0, 1, 2], [0, 4, 5], [0, 2, 0]], np.int32)
    g.op("GATHER_ND", [rev, g.const("indices", idx)], [picked])
    return g.build([x], [picked, rev])
