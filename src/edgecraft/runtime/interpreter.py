"""The reference interpreter: executes a :class:`~edgecraft.ir.graph.Graph` op by op with the
registry's reference kernels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgecraft.ir.graph import Graph
from edgecraft.ir.validate import validate
from edgecraft.ops.base import OpContext, OpError
from edgecraft.ops.registry import get_op


class InputError(ValueError):
    """The inputs given do not match what the model expects."""


class Interpreter:
    """Runs ``graph``; checks structure and every op's shape rule once, up front."""

    def __init__(self, graph: Graph) -> None:
        validate(graph)
        self.graph = graph
        self.steps = []
        for j, op in enumerate(graph.operators):
            ctx = OpContext(op, graph)
            opdef = get_op(op.type)
            want = [tuple(graph.tensors[k].shape) for k in op.outputs]
            try:
                got = opdef.shape(ctx)
                kernel = opdef.kernel_for(ctx)
            except (OpError, ValueError, IndexError, KeyError, TypeError, ZeroDivisionError) as e:
                # Shape rules read attributes and constants straight from the file: a corrupt
                # model must end in one clear error, whatever the rule tripped over.
                raise OpError(f"operator {j} ({op.type}): invalid configuration: {e}") from None
            if [tuple(s) for s in got] != want:
                raise OpError(
                    f"operator {j} ({op.type}) declares output shape(s) {want} but its inputs "
                    f"give {[tuple(s) for s in got]}"
                )
            self.steps.append((ctx, kernel))

    def check_inputs(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Inputs as arrays of the right shape and dtype, or :class:`InputError` in one line."""
        expected = self.graph.input_tensors()
        if len(inputs) != len(expected):
            raise InputError(f"the model takes {len(expected)} input(s), got {len(inputs)}")
        out = []
        for i, (x, t) in enumerate(zip(inputs, expected, strict=True)):
            x = np.asarray(x)
            if tuple(x.shape) != tuple(t.shape) or x.dtype != t.np_dtype:
                raise InputError(
                    f"input {i} ({t.name!r}) must have shape {list(t.shape)} and dtype {t.dtype}, "
                    f"got shape {list(x.shape)} and dtype {x.dtype}"
                )
            out.append(x)
        return out

    def run(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Run once; returns the graph's outputs."""
        values: dict[int, np.ndarray] = {
            i: t.data for i, t in enumerate(self.graph.tensors) if t.data is not None
        }
        for k, x in zip(self.graph.inputs, self.check_inputs(inputs), strict=True):
            values[k] = x
        for ctx, kernel in self.steps:
            args = [values[k] if k != -1 else None for k in ctx.op.inputs]
            results = kernel(ctx, args)
            for k, r in zip(ctx.op.outputs, results, strict=True):
                t = self.graph.tensors[k]
                values[k] = np.asarray(r).astype(t.np_dtype, copy=False).reshape(t.shape)
        return [values[k] for k in self.graph.outputs]


def run_model(graph: Graph, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Build an :class:`Interpreter` for ``graph`` and run it once."""
    return Interpreter(graph).run(inputs)
