"""Randomized values and SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND one-op models, shared by the ops
and C tests."""

from __future__ import annotations

import numpy as np

from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.ops import OpContext, get_op


def values(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    if dtype == "float32":
        return rng.standard_normal(shape).astype(np.float32)
    if dtype == "bool":
        return rng.random(shape) < 0.8
    lo = -128 if dtype == "int8" else -1000
    return rng.integers(lo, -lo, shape).astype(dtype)


def quant(rng: np.random.Generator, dtype: str, lo: float = 0.01, hi: float = 0.1):  # type: ignore[no-untyped-def]
    return qparams(float(rng.uniform(lo, hi)), int(rng.integers(-20, 21))) if dtype == "int8" else None


def with_output_shape(b: GraphBuilder, op_type: str, inputs: list[int], out: int, **attrs: object) -> Graph:
    op = b.op(op_type, inputs, [out], **attrs)
    graph = b.build([k for k in inputs if b.tensors[k].data is None], [out])
    graph.tensors[out].shape = get_op(op_type).shape(OpContext(op, graph))[0]
    return graph


def space_batch(rng: np.random.Generator, dtype: str, four: bool, pad: bool) -> tuple[Graph, Graph]:
    n, h, w, c = (int(v) for v in rng.integers(1, 5, 4))
    bh, bw = int(rng.integers(1, 4)), int(rng.integers(1, 4)) if four else 1
    top, left = (int(rng.integers(0, 3)), int(rng.integers(0, 3)) if four else 0) if pad else (0, 0)
    bottom, right = (-(h + top)) % bh, (-(w + left)) % bw if four else 0
    if not pad:
        h, w = h * bh, w * bw if four else w
        bottom = right = 0
    shape = (n, h, w, c) if four else (n, h, c)
    q = quant(rng, dtype)
    b = GraphBuilder()
    x = b.tensor("x", shape, dtype, q)
    block = b.const("block", np.array([bh, bw] if four else [bh], np.int32))
    pads = b.const("pads", np.array([[top, bottom], [left, right]] if four else [[top, bottom]], np.int32))
    s2b = with_output_shape(b, "SPACE_TO_BATCH_ND", [x, block, pads], b.tensor("y", (1,), dtype, q))
    b = GraphBuilder()
    x = b.tensor("x", s2b.output_tensors()[0].shape, dtype, q)
    block = b.const("block", np.array([bh, bw] if four else [bh], np.int32))
    crop_top, crop_left = int(rng.integers(0, bh)), int(rng.integers(0, bw))
    crops = b.const("crops", np.array([[crop_top, 0], [crop_left, 0]] if four else [[crop_top, 0]], np.int32))
    b2s = with_output_shape(b, "BATCH_TO_SPACE_ND", [x, block, crops], b.tensor("y", (1,), dtype, q))
    return s2b, b2s
