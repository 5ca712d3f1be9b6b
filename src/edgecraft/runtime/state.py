"""What an interpreter keeps for the whole model beyond its main subgraph's arena: resource
variables (TFLM's ``MicroResourceVariables``: kept from one invocation to the next, back at
their defaults after ``reset_state``), the model's other subgraphs (each its own interpreter,
run by CALL_ONCE, IF and WHILE) and which CALL_ONCE operators have run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from edgecraft.ir.graph import Graph, Tensor
from edgecraft.ops.base import OpError
from edgecraft.ops.subgraph import check_subgraph_calls, prepare_resources


class ModelState:
    """The :class:`~edgecraft.ops.subgraph.ModelRuntime` of one interpreter. ``make`` builds the
    interpreter of a subgraph (sharing this state) the first time it is invoked."""

    def __init__(self, model: Graph, make: Callable[[Graph, ModelState], Any]) -> None:
        check_subgraph_calls(model)
        self.graphs = [model, *model.subgraphs]
        self._make = make
        self._subgraphs: dict[int, Any] = {}
        self._ids: dict[tuple[str, str], int] = {}
        #: Per resource id: its bytes (None until an ASSIGN_VARIABLE sizes it), dtype, shape and
        #: the byte TFLM fills it with (the value tensor's int8 zero point, else 0).
        self._values: list[np.ndarray | None] = []
        self._fill: list[int] = []
        self._done: set[int] = set()
        prepare_resources(model, self)

    def handle(self, container: str, shared_name: str) -> int:
        # TFLM matches on the name alone when a model leaves the container out.
        for (c, name), rid in self._ids.items():
            if name == shared_name and (c == container or not container):
                return rid
        rid = len(self._values)
        self._ids[(container, shared_name)] = rid
        self._values.append(None)
        self._fill.append(0)
        return rid

    def _check(self, resource: int) -> None:
        if not 0 <= resource < len(self._values):
            raise OpError(f"resource variable {resource} does not exist ({len(self._values)} do)")

    def allocate(self, resource: int, value: Tensor) -> None:
        self._check(resource)
        if self._values[resource] is None:
            self._fill[resource] = value.zero_point & 0xFF if value.quant is not None else 0
            self._values[resource] = np.full(value.nbytes, self._fill[resource], np.uint8)

    def assign(self, resource: int, value: np.ndarray) -> None:
        self._check(resource)
        raw = np.frombuffer(np.ascontiguousarray(value).tobytes(), np.uint8)
        held = self._values[resource]
        if held is None:
            self._values[resource] = raw.copy()
        elif held.size != raw.size:
            raise OpError(f"ASSIGN_VARIABLE gives resource variable {resource} {raw.size} bytes; "
                          f"it holds {held.size}")
        else:
            held[...] = raw

    def read(self, resource: int) -> np.ndarray:
        self._check(resource)
        held = self._values[resource]
        if held is None:
            raise OpError(f"READ_VARIABLE reads resource variable {resource}, which no "
                          "ASSIGN_VARIABLE has given a value")
        return held.copy()

    def invoke(self, index: int, inputs: list[np.ndarray]) -> list[np.ndarray]:
        if index not in self._subgraphs:
            self._subgraphs[index] = self._make(self.graphs[index], self)
        sub = self._subgraphs[index]
        return sub.invoke_subgraph(inputs)  # type: ignore[no-any-return]

    def once(self, key: int, index: int) -> None:
        if key not in self._done:
            self.invoke(index, [])
            self._done.add(key)

    def reset(self) -> None:
        """Resource variables back to their fill (TFLM's ``ResetAll``) and the subgraphs' state
        tensors to theirs; CALL_ONCE stays done, as in TFLM."""
        for held, fill in zip(self._values, self._fill, strict=True):
            if held is not None:
                held[...] = fill
        for sub in self._subgraphs.values():
            sub.reset_state()
