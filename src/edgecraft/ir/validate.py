"""Structural checks on a :class:`~edgecraft.ir.graph.Graph`.

:func:`validate` raises :class:`GraphError` describing the first inconsistency it finds, in
words a user can act on. It checks structure only (indices, dtypes, data sizes, quantization
lengths, def-before-use); per-op shape rules are checked by the op registry.
"""

from __future__ import annotations

from edgecraft.ir.graph import DTYPES, Graph


class GraphError(ValueError):
    """The graph is inconsistent; the message says where and how."""


def validate(graph: Graph) -> None:
    """Raise :class:`GraphError` on the first inconsistency in ``graph``."""
    n = len(graph.tensors)
    for i, t in enumerate(graph.tensors):
        where = f"tensor {i} ({t.name!r})"
        if t.dtype not in DTYPES:
            raise GraphError(f"{where} has unsupported dtype {t.dtype!r}")
        if any(d < 0 for d in t.shape):
            raise GraphError(f"{where} has a negative dimension in shape {list(t.shape)}")
        if t.data is not None:
            if t.data.dtype != t.np_dtype:
                raise GraphError(f"{where} holds {t.data.dtype} data but is declared {t.dtype}")
            if t.data.size != t.size:
                raise GraphError(
                    f"{where} has {t.data.size} elements of data but its shape "
                    f"{list(t.shape)} needs {t.size}"
                )
        q = t.quant
        if q is not None:
            if len(q.scale) != len(q.zero_point):
                raise GraphError(
                    f"{where} has {len(q.scale)} scales but {len(q.zero_point)} zero points"
                )
            if q.per_channel:
                if not 0 <= q.axis < max(len(t.shape), 1):
                    raise GraphError(
                        f"{where} is quantized along axis {q.axis} of a rank-{len(t.shape)} tensor"
                    )
                if len(t.shape) and t.shape[q.axis] != len(q.scale):
                    raise GraphError(
                        f"{where} has {len(q.scale)} per-channel scales but dimension "
                        f"{q.axis} is {t.shape[q.axis]}"
                    )
    for name, idxs in (("input", graph.inputs), ("output", graph.outputs)):
        for k in idxs:
            if not 0 <= k < n:
                raise GraphError(f"graph {name} refers to tensor {k}, but there are {n} tensors")
    defined = {i for i, t in enumerate(graph.tensors) if t.is_constant} | set(graph.inputs)
    for j, op in enumerate(graph.operators):
        where = f"operator {j} ({op.type})"
        for k in op.inputs:
            if k == -1:
                continue
            if not 0 <= k < n:
                raise GraphError(f"{where} reads tensor {k}, but there are {n} tensors")
            if k not in defined:
                raise GraphError(
                    f"{where} reads tensor {k} ({graph.tensors[k].name!r}) before any "
                    "operator writes it"
                )
        for k in op.outputs:
            if not 0 <= k < n:
                raise GraphError(f"{where} writes tensor {k}, but there are {n} tensors")
            if graph.tensors[k].is_constant:
                raise GraphError(f"{where} writes constant tensor {k} ({graph.tensors[k].name!r})")
            defined.add(k)
    for k in graph.outputs:
        if k not in defined:
            raise GraphError(f"graph output tensor {k} ({graph.tensors[k].name!r}) is never written")
