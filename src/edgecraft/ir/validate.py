"""Structural checks on a :class:`~edgecraft.ir.graph.Graph`.

:func:`validate` raises :class:`GraphError` describing the first inconsistency it finds, in
words a user can act on. It checks structure only (indices, dtypes, data sizes, quantization
lengths, def-before-use) and size: the tensors a graph computes must fit in
:func:`memory_limit` bytes, so a model that declares an absurd shape is refused before anything
allocates it. Per-op shape rules are checked by the op registry.
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np

from edgecraft.ir.graph import DTYPES, Graph

#: The default of :func:`memory_limit`: 1 GiB. Microcontroller models need kilobytes to a few
#: megabytes; anything near this is a corrupt or hostile file.
DEFAULT_MEMORY_LIMIT = 1 << 30
#: The environment variable that raises (or lowers) the limit, in bytes.
MEMORY_LIMIT_ENV = "EDGECRAFT_MAX_MEMORY_BYTES"


class GraphError(ValueError):
    """The graph is inconsistent; the message says where and how."""


def memory_limit() -> int:
    """The most bytes a graph's computed tensors (and a user's input arrays) may need together:
    ``EDGECRAFT_MAX_MEMORY_BYTES`` when set, else 1 GiB."""
    text = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if not text:
        return DEFAULT_MEMORY_LIMIT
    try:
        value = int(text)
    except ValueError:
        raise GraphError(f"{MEMORY_LIMIT_ENV}={text!r} is not a whole number of bytes") from None
    if value <= 0:
        raise GraphError(f"{MEMORY_LIMIT_ENV}={text!r} must be a positive number of bytes")
    return value


def check_memory(graph: Graph) -> None:
    """Refuse a graph whose non-constant tensors together need more than :func:`memory_limit`
    bytes (the most any arena plan or interpreter could allocate for them)."""
    limit = memory_limit()
    total = 0
    for i, t in enumerate(graph.tensors):
        if t.is_constant or t.dtype not in DTYPES:
            continue
        need = math.prod(t.shape) * np.dtype(DTYPES[t.dtype]).itemsize
        total += need
        if total > limit:
            raise GraphError(
                f"tensor {i} ({t.name!r}) of shape {list(t.shape)} {t.dtype} needs {need:,} bytes; "
                f"the model's tensors need more than the {limit:,}-byte limit "
                f"({MEMORY_LIMIT_ENV} raises it)"
            )


def _stray_vector_axis(shape: tuple[int, ...], scales: int) -> bool:
    """A rank-1 tensor with one scale per element whose quantized dimension names an axis it
    does not have: TFLite's converter writes per-channel biases with the filter's quantized
    dimension (3 for a depthwise filter, for example). TFLM never reads a bias's axis, and the
    only axis such a tensor has is 0, so the metadata is odd but harmless."""
    return len(shape) == 1 and shape[0] == scales


def _check_scales(where: str, scale: np.ndarray, constant: bool) -> None:
    """Scales finite and not negative, and positive on an activation (kernels divide by it):
    every .tflite converter writes them so, and a damaged file would otherwise reach the
    kernels' multipliers as NaN or infinity. (Zero points are left as they are: TFLM runs an
    int8 tensor's zero point of 300 in int32 arithmetic, and so does edgecraft.)"""
    scale = np.asarray(scale, np.float64)
    if not np.all(np.isfinite(scale)) or np.any(scale < 0) or (not constant and np.any(scale == 0)):
        raise GraphError(f"{where} has quantization scale(s) {scale[:4].tolist()}: scales must be finite and "
                         "positive (the file is damaged, or its converter wrote no real quantization)")


def validate(graph: Graph) -> None:
    """Raise :class:`GraphError` on the first inconsistency in ``graph``."""
    n = len(graph.tensors)
    for i, t in enumerate(graph.tensors):
        where = f"tensor {i} ({t.name!r})"
        if t.dtype not in DTYPES:
            raise GraphError(f"{where} has unsupported dtype {t.dtype!r}")
        if any(d < 0 for d in t.shape):
            raise GraphError(f"{where} has a negative dimension in shape {list(t.shape)}")
        if t.variable and t.data is not None:
            raise GraphError(f"{where} is a state (variable) tensor but holds constant data")
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
            _check_scales(where, q.scale, t.is_constant)
            if q.per_channel:
                axis = q.axis
                if not 0 <= axis < max(len(t.shape), 1):
                    if not _stray_vector_axis(t.shape, len(q.scale)):
                        raise GraphError(
                            f"{where} is quantized along axis {axis} of a rank-{len(t.shape)} tensor"
                        )
                    warnings.warn(
                        f"{where} is quantized along axis {axis} of a rank-1 tensor; read as "
                        "axis 0, its only axis (TFLite's converter writes biases so; TFLM "
                        "reads their scales by output channel)", stacklevel=2)
                    axis = 0
                if len(t.shape) and t.shape[axis] != len(q.scale):
                    raise GraphError(
                        f"{where} has {len(q.scale)} per-channel scales but dimension "
                        f"{axis} is {t.shape[axis]}"
                    )
    check_memory(graph)
    for name, idxs in (("input", graph.inputs), ("output", graph.outputs)):
        for k in idxs:
            if not 0 <= k < n:
                raise GraphError(f"graph {name} refers to tensor {k}, but there are {n} tensors")
    defined = {i for i, t in enumerate(graph.tensors) if t.is_constant or t.variable} | set(graph.inputs)
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
            if graph.tensors[k].variable:
                raise GraphError(f"{where} writes state (variable) tensor {k} "
                                 f"({graph.tensors[k].name!r}) as an output")
            defined.add(k)
    for k in graph.outputs:
        if k not in defined:
            raise GraphError(f"graph output tensor {k} ({graph.tensors[k].name!r}) is never written")
