"""What the state and control-flow ops (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE, CALL_ONCE,
IF, WHILE) need from the runtime running them, and the model-level checks of their subgraph
indices.

Their kernels reach beyond their operator: resource variables live as long as the interpreter
(TFLM's ``MicroResourceVariables``), and CALL_ONCE, IF and WHILE invoke other subgraphs of the
model. The interpreter puts a :class:`ModelRuntime` in each operator context's cache under
``"model"``; :func:`model_runtime` fetches it.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from edgecraft.ir.graph import Graph, Tensor
from edgecraft.ops.base import OpContext, OpError

#: Attributes naming a subgraph of the model (its index in the file; 0 is the main one).
SUBGRAPH_ATTRS = ("init_subgraph_index", "then_subgraph_index", "else_subgraph_index",
                  "cond_subgraph_index", "body_subgraph_index")


class ModelRuntime(Protocol):
    """The interpreter's side: resource variables and the model's other subgraphs."""

    def handle(self, container: str, shared_name: str) -> int:
        """The resource id of (container, shared_name), created on first use."""

    def read(self, resource: int) -> np.ndarray:
        """The value of resource variable ``resource``."""

    def assign(self, resource: int, value: np.ndarray) -> None:
        """Store ``value`` (its bytes) in resource variable ``resource``."""

    def invoke(self, index: int, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Run subgraph ``index`` on ``inputs``; its outputs."""

    def once(self, key: int, index: int) -> None:
        """Run subgraph ``index`` (no inputs or outputs) unless ``key`` already did."""

    def allocate(self, resource: int, value: Tensor) -> None:
        """Give resource variable ``resource`` the size of ``value`` unless it has one."""


def model_runtime(ctx: OpContext) -> ModelRuntime:
    """The :class:`ModelRuntime` running this operator; :class:`OpError` outside an interpreter."""
    rt = ctx.cache.get("model")
    if rt is None:
        raise OpError(f"{ctx.op.type} runs only inside an interpreter (resource variables, subgraphs)")
    return rt  # type: ignore[no-any-return]


def resource_id(value: np.ndarray) -> int:
    """The resource id a resource tensor holds."""
    return int(np.asarray(value).reshape(-1)[0])


def check_resource(t: Tensor, what: str) -> None:
    """A resource handle: dtype ``resource`` (or int32, as TFLM allows), one element."""
    if t.dtype not in ("resource", "int32") or t.size != 1:
        raise OpError(f"{what} must be a resource handle (one resource element), "
                      f"got {t.dtype} of shape {list(t.shape)}")


def declared_shapes(ctx: OpContext) -> list[tuple[int, ...]]:
    """The output shapes the model declares (the op's outputs come from elsewhere: a variable,
    a subgraph)."""
    return [tuple(ctx.graph.tensors[k].shape) for k in ctx.op.outputs]


def prepare_resources(model: Graph, rt: ModelRuntime) -> None:
    """What TFLM's ``Prepare`` pass does for resource variables, subgraph by subgraph in file
    order: each VAR_HANDLE takes its id, and each ASSIGN_VARIABLE whose handle comes from a
    VAR_HANDLE of the same subgraph sizes the variable (an assignment through a handle passed
    in from elsewhere sizes it when it first runs)."""
    for g in [model, *model.subgraphs]:
        ids: dict[int, int] = {}
        for op in g.operators:
            if op.type == "VAR_HANDLE" and op.outputs:
                ids[op.outputs[0]] = rt.handle(str(op.attrs.get("container", "")),
                                               str(op.attrs.get("shared_name", "")))
            elif op.type == "ASSIGN_VARIABLE" and len(op.inputs) == 2 and op.inputs[0] in ids:
                rt.allocate(ids[op.inputs[0]], g.tensors[op.inputs[1]])


def _signature(g: Graph, idxs: list[int]) -> list[tuple[tuple[int, ...], str]]:
    return [(tuple(g.tensors[k].shape), g.tensors[k].dtype) for k in idxs]


def check_subgraph_calls(model: Graph) -> None:
    """Every subgraph index an operator names exists and is not the main subgraph, and the
    values passed match the subgraph's inputs and outputs in count, shape and dtype (TFLM's
    ``Prepare`` checks the counts; its copies assume the rest). :class:`OpError` otherwise."""
    graphs = [model, *model.subgraphs]
    for gi, g in enumerate(graphs):
        for j, op in enumerate(g.operators):
            where = f"subgraph {gi} operator {j} ({op.type})" if gi else f"operator {j} ({op.type})"
            for attr in SUBGRAPH_ATTRS:
                if attr not in op.attrs:
                    continue
                index = int(op.attrs[attr])
                if not 1 <= index < len(graphs):
                    raise OpError(f"{where}: {attr} {index} names no subgraph "
                                  f"(the model's other subgraphs are 1..{len(graphs) - 1})")
                sub = graphs[index]
                passed = [k for k in op.inputs if k != -1]
                if attr in ("then_subgraph_index", "else_subgraph_index"):
                    passed = passed[1:]  # IF's input 0 is the condition
                if attr == "init_subgraph_index":
                    if passed or op.outputs or sub.inputs or sub.outputs:
                        raise OpError(f"{where}: CALL_ONCE and its subgraph {index} take no inputs "
                                      "and give no outputs")
                    continue
                if _signature(g, passed) != _signature(sub, sub.inputs):
                    raise OpError(f"{where}: passes {_signature(g, passed)} but subgraph {index} "
                                  f"takes {_signature(sub, sub.inputs)}")
                if attr == "cond_subgraph_index":
                    out = _signature(sub, sub.outputs)
                    if len(out) != 1 or out[0][1] != "bool" or math_prod(out[0][0]) != 1:
                        raise OpError(f"{where}: condition subgraph {index} must give one bool, "
                                      f"gives {out}")
                elif _signature(g, op.outputs) != _signature(sub, sub.outputs):
                    raise OpError(f"{where}: outputs {_signature(g, op.outputs)} but subgraph "
                                  f"{index} gives {_signature(sub, sub.outputs)}")
    _check_acyclic(graphs)


def _check_acyclic(graphs: list[Graph]) -> None:
    """No subgraph invokes itself, directly or through others (it would never return)."""
    calls = [{int(op.attrs[a]) for op in g.operators for a in SUBGRAPH_ATTRS if a in op.attrs}
             for g in graphs]
    state = [0] * len(graphs)  # 0 unseen, 1 on the current path, 2 done

    def visit(i: int, path: list[int]) -> None:
        state[i] = 1
        for j in sorted(calls[i]):
            if state[j] == 1:
                cycle = " -> ".join(str(k) for k in [*path[path.index(j):], j])
                raise OpError(f"subgraphs call each other in a cycle ({cycle}): they would never return")
            if state[j] == 0:
                visit(j, [*path, j])
        state[i] = 2

    for i in range(len(graphs)):
        if state[i] == 0:
            visit(i, [i])


def math_prod(shape: tuple[int, ...]) -> int:
    """Elements of ``shape``."""
    return int(np.prod(shape, dtype=np.int64))


#: The ops whose kernels need the interpreter's :class:`ModelRuntime`.
MODEL_OPS = ("VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE", "IF", "WHILE")


def c_refusal(graph: Graph) -> str | None:
    """Why the C generator cannot compile ``graph`` yet (its first operator that needs resource
    variables or subgraphs), or None."""
    for j, op in enumerate(graph.operators):
        if op.type in MODEL_OPS:
            return (f"{op.type} (operator {j}) needs resource variables and subgraphs, which "
                    "edgecraft's C generator does not have yet; `edgecraft run` runs the model")
    return None
