"""What the two-input elementwise ops (ADD, SUB, MUL, MAXIMUM, MINIMUM) share.

TFLite broadcasts like numpy: shapes are aligned at their last dimension, a missing leading
dimension counts as 1, and two dimensions agree when they are equal or one of them is 1.
TFLM's broadcast loops handle up to 6 dimensions (MAXIMUM and MINIMUM: 5).
"""

from __future__ import annotations

from edgecraft.ops.base import Cost, OpContext, OpError, ShapeRule
from edgecraft.ops.quant import ACTIVATIONS


def broadcast_shape(a: tuple[int, ...], b: tuple[int, ...], max_rank: int = 6) -> tuple[int, ...]:
    """The shape ``a`` and ``b`` broadcast to; :class:`OpError` when they do not fit together."""
    rank = max(len(a), len(b))
    if rank > max_rank:
        raise OpError(f"shapes {list(a)} and {list(b)} have rank {rank}; at most {max_rank} is supported")
    a1 = (1,) * (rank - len(a)) + tuple(a)
    b1 = (1,) * (rank - len(b)) + tuple(b)
    out = []
    for da, db in zip(a1, b1, strict=True):
        if da != db and 1 not in (da, db):
            raise OpError(
                f"shapes {list(a)} and {list(b)} do not broadcast: dimensions {da} and {db} "
                "must be equal or one of them 1"
            )
        out.append(db if da == 1 else da)
    return tuple(out)


def binary_shape(max_rank: int = 6) -> ShapeRule:
    """Shape rule of a two-input elementwise op: the broadcast of input 0 and input 1."""

    def rule(ctx: OpContext) -> list[tuple[int, ...]]:
        a, b = ctx.req_input(0), ctx.req_input(1)
        if a.dtype != b.dtype:
            raise OpError(f"{ctx.op.type} inputs must have the same dtype, got {a.dtype} and {b.dtype}")
        act = activation(ctx)
        if act not in ACTIVATIONS:
            raise OpError(f"{ctx.op.type} fused activation {act} is not supported; use one of {ACTIVATIONS}")
        if act != "NONE" and a.dtype not in ("int8", "int16", "float32"):
            raise OpError(f"{a.dtype} {ctx.op.type} supports no fused activation, got {act}")
        return [broadcast_shape(a.shape, b.shape, max_rank)]

    return rule


def activation(ctx: OpContext) -> str:
    """The op's fused activation (``"NONE"`` when the attribute is absent)."""
    return str(ctx.attrs.get("fused_activation_function", "NONE"))


def per_element_cost(ctx: OpContext) -> Cost:
    """One multiply-accumulate per output element; reads the inputs once, writes the output.

    ADD and SUB count like MUL: their int8 form rescales both inputs and the result, so one
    op per output element is the honest order of magnitude for latency estimates.
    """
    out = ctx.output(0)
    read = sum(t.nbytes for i in range(ctx.num_inputs) if (t := ctx.input(i)) is not None)
    return Cost(out.size, read, out.nbytes)
