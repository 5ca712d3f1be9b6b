"""EMBEDDING_LOOKUP: rows of the table (input 1, rank 2 or more) picked by the int32 ids of
input 0. float32 and int8 tables copy rows; an int8 table with a float32 output (hybrid) is
dequantized with the table's scale (its zero point must be 0), ``scale * q`` in float32, as
TFLM's ``EvalHybrid``. An id outside the table is an error at run time, as in TFLM."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, OpError


def lookup_shape(ctx: OpContext) -> list[tuple[int, ...]]:
    ids, table, out = ctx.req_input(0), ctx.req_input(1), ctx.output(0)
    if ids.dtype != "int32" or len(ids.shape) != 1:
        raise OpError(f"EMBEDDING_LOOKUP ids must be a 1-D int32 tensor, got {ids.dtype} {list(ids.shape)}")
    if len(table.shape) < 2:
        raise OpError(f"EMBEDDING_LOOKUP table must have rank 2 or more, got {list(table.shape)}")
    if not (out.dtype == table.dtype or (table.dtype, out.dtype) == ("int8", "float32")):
        raise OpError(f"EMBEDDING_LOOKUP {table.dtype} table cannot give a {out.dtype} output")
    if (table.dtype, out.dtype) == ("int8", "float32") and table.zero_point != 0:
        raise OpError("EMBEDDING_LOOKUP hybrid lookup needs the int8 table's zero point to be 0 (TFLM)")
    return [(ids.shape[0], *table.shape[1:])]


def embedding_lookup(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    ids, table = np.asarray(args[0]), np.asarray(args[1])
    bad = (ids < 0) | (ids >= table.shape[0])
    if bad.any():
        raise OpError(f"EMBEDDING_LOOKUP: id {int(ids[bad][0])} is out of bounds [0, {table.shape[0] - 1}]")
    rows = table[ids]
    out = ctx.output(0)
    if out.dtype == "float32" and table.dtype == np.int8:
        return [np.float32(ctx.req_input(1).scale) * rows.astype(np.float32)]
    return [rows]


OP = OpDef(
    name="EMBEDDING_LOOKUP",
    shape=lookup_shape,
    kernels=dict.fromkeys(("float32", "int8"), embedding_lookup),
    dtype_input=1,
    code={"portable": ("ec_lookup.c", "ec_data_ops.c")},
    state_bytes=8,
)
