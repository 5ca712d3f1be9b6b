"""What every C emitter shares: the record it returns, the pointer helper it gets, its errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from edgecraft.ir.graph import Operator
from edgecraft.ops.base import OpContext

MAX_DIMS = 6


class CodegenError(ValueError):
    """The model uses an op, dtype or configuration the C generator does not support."""


@dataclass(frozen=True)
class OpCode:
    """The C for one operator: file-scope declarations, the statement(s) in ``invoke``, the
    kernel sources (stems under ``codegen/kernels/``) it calls, and ``needs``: the optional
    paths of those kernels it takes (macros ``EC_QUICK_...`` that a kernel file defaults to 1;
    the generator sets to 0 those no operator of the model needs); ``resets``: statements of
    ``<name>_reset`` that put the operator's own state (static arrays in ``decls``, kept between
    invocations) back where it starts."""

    decls: str
    call: str
    kernels: tuple[str, ...]
    needs: tuple[str, ...] = ()
    resets: tuple[str, ...] = ()


class Pointer(Protocol):
    """What emitters get from the generator: tensor index -> C expression of its data, whether
    the DSP kernels are selected (and the Helium ones: ``mve`` implies ``dsp`` for the ops
    without an MVE kernel), the operator's planned scratch buffer, where the plan lets two
    tensors overlap, and a way to add a constant array of the emitter's own."""

    dsp: bool
    mve: bool

    def __call__(self, k: int) -> str: ...

    def scratch(self, op: Operator) -> str: ...

    def overlap_shift(self, a: int, b: int) -> int | None: ...

    def const_array(self, name: str, ctype: str, values: np.ndarray, comment: str,
                    aligned: bool = False) -> str: ...


OpEmitter = Callable[[OpContext, str, Pointer], OpCode]


def require_int8(ctx: OpContext, *inputs: int) -> None:
    """:class:`CodegenError` unless the given inputs and output 0 are int8 (the C kernels' type)."""
    for i in inputs:
        t = ctx.req_input(i)
        if t.dtype != "int8":
            raise CodegenError(f"{ctx.op.type} with {t.dtype} input has no C kernel (only int8)")
    out = ctx.output(0)
    if out.dtype != "int8":
        raise CodegenError(f"{ctx.op.type} with {out.dtype} output has no C kernel (only int8)")


def broadcast_strides(shape: tuple[int, ...], out: tuple[int, ...]) -> list[int]:
    """Element strides of ``shape`` seen as ``out`` (both padded to MAX_DIMS); 0 repeats."""
    padded = (1,) * (MAX_DIMS - len(shape)) + tuple(shape)
    strides, step = [0] * MAX_DIMS, 1
    for d in range(MAX_DIMS - 1, -1, -1):
        strides[d] = step if padded[d] == out[d] and padded[d] > 1 else 0
        step *= padded[d]
    return strides
