"""LOG_SOFTMAX: ``x - max - log(sum(exp(x - max)))`` along the last axis, as TFLM's reference
``LogSoftmax`` for float32: the row maximum, the exponentials summed in float in order, one
``log``. Each ``exp`` and the ``log`` are taken in double and rounded once to float32 (within an
ulp of the C library's). TFLM's int8 kernel (output fixed at scale 16/256, zero point 127) is
not implemented yet: an int8 model gets a clear error naming the supported types.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ops.base import OpContext, OpDef, Options
from edgecraft.ops.unary import same_dtype_shape


def log_softmax_float(ctx: OpContext, args: list[Any]) -> list[np.ndarray]:
    """float32, row by row along the last axis."""
    x = np.asarray(args[0], np.float32)
    rows = x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1)
    top = rows.max(axis=1)
    diffs = (rows - top[:, None]).astype(np.float32)
    exps = np.exp(diffs.astype(np.float64)).astype(np.float32)
    total = np.zeros(rows.shape[0], np.float32)
    for c in range(rows.shape[1]):
        total = (total + exps[:, c]).astype(np.float32)
    log_sum = np.log(total.astype(np.float64)).astype(np.float32)
    out = ((rows - top[:, None]).astype(np.float32) - log_sum[:, None]).astype(np.float32)
    return [out.reshape(x.shape)]


OP = OpDef(
    name="LOG_SOFTMAX",
    shape=same_dtype_shape,
    kernels={"float32": log_softmax_float},
    options=Options("LogSoftmaxOptions"),
)
