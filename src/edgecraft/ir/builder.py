"""A small helper to build graphs in code: one-op test models, generated models, rewrites."""

from __future__ import annotations

from typing import Any

import numpy as np

from edgecraft.ir.graph import Graph, Operator, Quantization, Tensor


def qparams(scale: float | list[float] | np.ndarray, zero_point: int | list[int] | np.ndarray = 0,
            axis: int = 0) -> Quantization:
    """Quantization from plain numbers: one scale (per tensor) or a list (per channel)."""
    scales = np.atleast_1d(np.asarray(scale, dtype=np.float32))
    zps = np.atleast_1d(np.asarray(zero_point, dtype=np.int64))
    if len(zps) == 1 and len(scales) > 1:
        zps = np.repeat(zps, len(scales))
    return Quantization(scales, zps, axis)


class GraphBuilder:
    """Accumulates tensors and operators; :meth:`build` returns the :class:`Graph`."""

    def __init__(self, name: str = "main") -> None:
        self.tensors: list[Tensor] = []
        self.operators: list[Operator] = []
        self.name = name

    def tensor(self, name: str, shape: tuple[int, ...] | list[int], dtype: str = "int8",
               quant: Quantization | None = None) -> int:
        """Add an activation tensor; returns its index."""
        self.tensors.append(Tensor(name, tuple(int(d) for d in shape), dtype, None, quant))
        return len(self.tensors) - 1

    def const(self, name: str, data: np.ndarray, quant: Quantization | None = None) -> int:
        """Add a constant tensor holding ``data``; returns its index."""
        data = np.ascontiguousarray(data)
        self.tensors.append(Tensor(name, tuple(data.shape), str(data.dtype), data, quant))
        return len(self.tensors) - 1

    def op(self, op_type: str, inputs: list[int], outputs: list[int], **attrs: Any) -> Operator:
        """Append an operator (attributes as TFLite option names, e.g. ``stride_w=2``)."""
        op = Operator(op_type, list(inputs), list(outputs), dict(attrs))
        self.operators.append(op)
        return op

    def build(self, inputs: list[int], outputs: list[int]) -> Graph:
        return Graph(self.tensors, self.operators, list(inputs), list(outputs), name=self.name)
