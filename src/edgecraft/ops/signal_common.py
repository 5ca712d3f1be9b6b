"""What TFLite Micro's signal-library ops share (custom ops ``Signal*``, see ``signal_window.py``
and its neighbours): options in a flexbuffer map instead of a builtin options table, shape and
type checks, and the state an op keeps between invocations.

The reader and writer see ``Options(FLEXBUFFERS, fields)``: each field is ``(attr, key, kind)``
with ``key`` the flexbuffer map key (TFLM reads the map's values by their position in key
order) and ``kind`` ``int`` or ``bool``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpError, Options

#: The ``Options.table`` of a custom op whose options are a flexbuffer map.
FLEXBUFFERS = "flexbuffers"


def flex_options(*fields: tuple[str, str]) -> Options:
    """Options of a signal op: ``(attr, kind)`` pairs, the attribute named as its map key."""
    return Options(FLEXBUFFERS, tuple((attr, attr, kind) for attr, kind in fields))


def need(ctx: OpContext, ok: bool, what: str) -> None:
    """Raise :class:`OpError` naming the op unless ``ok``."""
    if not ok:
        raise OpError(f"{ctx.op.type}: {what}")


def attr(ctx: OpContext, name: str) -> int:
    """Integer attribute ``name`` (every signal op option must be present)."""
    if name not in ctx.attrs:
        raise OpError(f"{ctx.op.type} needs the {name!r} option")
    return int(ctx.attrs[name])


def dtypes(ctx: OpContext, inputs: tuple[str, ...], outputs: tuple[str, ...]) -> None:
    """Check the dtypes of the inputs and outputs against TFLM's (as its Prepare does)."""
    got_in = tuple(ctx.req_input(i).dtype for i in range(len(inputs)))
    got_out = tuple(ctx.output(i).dtype for i in range(len(outputs)))
    need(ctx, ctx.num_inputs == len(inputs) and len(ctx.op.outputs) == len(outputs),
         f"takes {len(inputs)} input(s) and gives {len(outputs)} output(s)")
    need(ctx, got_in == inputs and got_out == outputs,
         f"needs inputs {list(inputs)} and outputs {list(outputs)}, got {list(got_in)} and {list(got_out)}")


def rank(ctx: OpContext, tensor: Any, n: int, what: str) -> None:
    """Check that ``tensor`` has rank ``n``."""
    need(ctx, len(tensor.shape) == n, f"{what} must have rank {n}, got shape {list(tensor.shape)}")


def op_state(ctx: OpContext, init: Any) -> np.ndarray:
    """The array an op keeps from one invocation to the next (TFLM's persistent buffer), made by
    ``init()`` on first use; the interpreter's ``reset_state`` drops it."""
    state: np.ndarray = ctx.memo("op_state", init)
    return state


def u32(x: np.ndarray) -> np.ndarray:
    """int64 values wrapped to uint32's range (C's conversion to ``uint32_t``)."""
    return np.asarray(x, np.int64) & 0xFFFFFFFF
