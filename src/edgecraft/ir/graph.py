"""The graph IR every frontend produces and every backend consumes.

A :class:`Graph` is one TFLite-style subgraph: a flat list of tensors, a list of operators in
execution order that refer to tensors by index, and the indices of the graph's inputs and
outputs. Indices (not object references) keep the IR a plain value that round-trips through
the .tflite format without renumbering.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: IR dtype name -> numpy dtype. The names are TFLite's, lower case.
DTYPES: dict[str, type[np.generic]] = {
    "int8": np.int8,
    "uint8": np.uint8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "uint32": np.uint32,  # the signal library's energies and filter-bank channels
    "uint64": np.uint64,
    "float32": np.float32,
    "bool": np.bool_,
    #: A resource handle (VAR_HANDLE's output): the int32 id of a resource variable.
    "resource": np.int32,
}


@dataclass
class Quantization:
    """Affine quantization: ``real = scale * (q - zero_point)``.

    One scale and zero point per tensor, or one per channel along ``axis`` (TFLite's
    "quantized dimension") when ``len(scale) > 1``.
    """

    scale: np.ndarray  # float32, shape (1,) or (channels,)
    zero_point: np.ndarray  # int64, same length as scale
    axis: int = 0

    def __post_init__(self) -> None:
        self.scale = np.asarray(self.scale, dtype=np.float32).reshape(-1)
        self.zero_point = np.asarray(self.zero_point, dtype=np.int64).reshape(-1)

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1

    @classmethod
    def per_tensor(cls, scale: float, zero_point: int) -> Quantization:
        return cls(np.array([scale], np.float32), np.array([zero_point], np.int64))


@dataclass(eq=False)
class Tensor:
    """A typed, shaped value: an activation, or a constant when ``data`` is set."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    data: np.ndarray | None = None
    quant: Quantization | None = None
    #: TFLite's shape_signature (-1 marks a dynamic dimension); None when it equals ``shape``.
    shape_signature: tuple[int, ...] | None = None
    #: A state tensor (TFLite's ``is_variable``): never constant, produced by no operator, it
    #: holds its value from one invocation to the next (an op listing it in
    #: ``OpDef.state_inputs`` updates it) and starts at zero (at the zero point for int8), as
    #: TFLM resets variable tensors after allocating them.
    variable: bool = False

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    def initial_state(self) -> np.ndarray:
        """The value a state tensor (``variable``) starts from: TFLM's ``ResetVariableTensors``
        fills int8 tensors with their zero point and every other type with zero bytes (a byte
        fill: a zero point outside int8 wraps, as memset takes its low byte)."""
        fill = (self.zero_point + 128) % 256 - 128 if self.dtype == "int8" else 0
        return np.full(self.shape, fill, self.np_dtype)

    @property
    def np_dtype(self) -> np.dtype[Any]:
        return np.dtype(DTYPES[self.dtype])

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.np_dtype.itemsize

    @property
    def scale(self) -> float:
        """The per-tensor scale (first scale for per-channel tensors); 0.0 if not quantized."""
        return float(self.quant.scale[0]) if self.quant is not None else 0.0

    @property
    def zero_point(self) -> int:
        """The per-tensor zero point (first for per-channel tensors); 0 if not quantized."""
        return int(self.quant.zero_point[0]) if self.quant is not None else 0


@dataclass(eq=False)
class Operator:
    """One node. ``type`` is the TFLite builtin name (``"CONV_2D"``); ``inputs`` and
    ``outputs`` are tensor indices, ``-1`` for an absent optional input. ``attrs`` holds the
    builtin options under TFLite's field names in snake case (``stride_w``, ``padding``, ...)."""

    type: str
    inputs: list[int]
    outputs: list[int]
    attrs: dict[str, Any] = field(default_factory=dict)
    #: The TFLite operator-code version the model declared (kept for round trips).
    version: int = 1


@dataclass(eq=False)
class Graph:
    """One subgraph in execution order: the model's main one (subgraph 0), which every stage
    plans, runs and compiles. ``subgraphs`` holds the model's others (index ``i`` of the file is
    ``subgraphs[i - 1]``), which CALL_ONCE, IF and WHILE invoke by index; they have no
    ``subgraphs`` of their own."""

    tensors: list[Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]
    name: str = ""
    description: str = ""
    subgraphs: list[Graph] = field(default_factory=list)

    def input_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.inputs]

    def output_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.outputs]

    def add_tensor(self, tensor: Tensor) -> int:
        """Append ``tensor`` and return its index."""
        self.tensors.append(tensor)
        return len(self.tensors) - 1
