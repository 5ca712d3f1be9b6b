"""The interpreter: executes a :class:`~edgecraft.ir.graph.Graph` op by op with the registry's
reference kernels, or where one applies a fast path with the same bytes (:mod:`.fast`), inside
one planned arena.

The arena is a single preallocated ``uint8`` buffer laid out by :func:`edgecraft.plan.plan_memory`;
every non-constant tensor is a numpy view at its planned offset. Kernels compute their results
as new arrays from their input views; the interpreter then copies them into the output views.
A prepared fast path (:mod:`.fast.prepared`) is bound to its views once and writes its output
view itself. All of an op's inputs are read before any output is written, so the plan's in-place rules
(an output over an input that dies at that step) give the same bytes as separate buffers, and a
plan that overlapped two live tensors would corrupt the outputs: running the conformance models
bit-exact with TFLM under every algorithm is what proves the plans valid.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from edgecraft.ir.graph import Graph
from edgecraft.ir.validate import validate
from edgecraft.ops.base import OpContext, OpError
from edgecraft.ops.registry import get_op
from edgecraft.plan import DEFAULT_ALGORITHM, MemoryPlan, plan_memory
from edgecraft.runtime import fast
from edgecraft.runtime.state import ModelState


class InputError(ValueError):
    """The inputs given do not match what the model expects."""


class Interpreter:
    """Runs ``graph``; checks structure and every op's shape rule once, up front, then plans the
    arena with ``algorithm`` (see :data:`edgecraft.plan.ALGORITHMS`) and allocates it.

    ``plan`` is the :class:`~edgecraft.plan.MemoryPlan`, ``arena`` the buffer every activation
    lives in; operators run in ``plan.order``. A ready ``plan`` may be given instead (it must
    come from ``plan_memory`` on this graph).

    With ``reference=True`` every operator runs its reference kernel (the specification);
    otherwise an operator runs a fast path where its conditions hold. ``fast_paths`` maps the
    index of each operator that runs one to the path's name (empty for ``reference=True``).

    ``model`` holds what lives beyond this subgraph (:class:`~edgecraft.runtime.state.ModelState`:
    resource variables, the model's other subgraphs); the interpreter of a model's main
    subgraph makes it, and passes it to the interpreters of the others.
    """

    def __init__(self, graph: Graph, algorithm: str = DEFAULT_ALGORITHM, alignment: int = 16,
                 plan: MemoryPlan | None = None, reference: bool = False,
                 model: ModelState | None = None) -> None:
        validate(graph)
        self.graph = graph
        self.model = model if model is not None else ModelState(
            graph, lambda g, m: Interpreter(g, algorithm, alignment, reference=reference, model=m))
        self.steps = []
        self.fast_paths: dict[int, str] = {}
        for j, op in enumerate(graph.operators):
            ctx = OpContext(op, graph)
            ctx.cache["model"] = self.model
            opdef = get_op(op.type)
            want = [tuple(graph.tensors[k].shape) for k in op.outputs]
            try:
                got = opdef.shape(ctx)
                path = None if reference else fast.choose(opdef, ctx)
                kernel = path.kernel(opdef, ctx) if path is not None else opdef.kernel_for(ctx)
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
            if path is not None:
                self.fast_paths[j] = path.name
        self.plan: MemoryPlan = plan if plan is not None else plan_memory(graph, algorithm, alignment)
        self.arena = np.zeros(self.plan.arena_bytes, np.uint8)
        self.views = self._views()
        self._program = self._compile()
        self._lock = threading.Lock()

    def _views(self) -> dict[int, np.ndarray]:
        """Every non-constant tensor as an array over its planned bytes of the arena."""
        views: dict[int, np.ndarray] = {}
        planned = {b.index: b.offset for b in self.plan.buffers if b.kind == "tensor"}
        banded = {k for p in self.plan.patches for k in p.banded}  # bands in C: whole here
        for k, t in enumerate(self.graph.tensors):
            if t.is_constant:
                continue
            if k in planned and k not in banded:
                raw = self.arena[planned[k]:planned[k] + t.nbytes]
                views[k] = raw.view(t.np_dtype).reshape(t.shape)
            elif t.variable:  # state lives outside the arena, as TFLM's persistent buffers
                views[k] = t.initial_state()
            else:  # empty, or never produced nor read
                views[k] = np.zeros(t.shape, t.np_dtype)
        return views

    def reset_state(self) -> None:
        """Put every state (variable) tensor back to its initial value, as TFLM's
        ``MicroInterpreter::Reset``; a new interpreter starts there."""
        for k, t in enumerate(self.graph.tensors):
            if t.variable:
                self.views[k][...] = t.initial_state()
        for ctx, _ in self.steps:  # state an op keeps itself (the signal library's noise estimate)
            ctx.cache.pop("op_state", None)
        if self.model.graphs[0] is self.graph:
            self.model.reset()

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
        """Run once; returns copies of the graph's outputs (the arena is reused by the next run,
        so concurrent callers of one interpreter take turns). State tensors keep their values
        from one run to the next (:meth:`reset_state`)."""
        checked = self.check_inputs(inputs)
        with self._lock:
            try:
                return self._invoke(checked)
            except ZeroDivisionError:  # kernels divide only by scales: one was 0, not quantized
                raise OpError("a quantized op divides by a quantization scale of 0 (a tensor without "
                              "quantization parameters): the file is damaged or not fully "
                              "quantized") from None

    def invoke_subgraph(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Run as a subgraph another operator invokes (CALL_ONCE, IF, WHILE), inside the main
        subgraph's run: no input checks (the model's reader checked the signatures), no lock."""
        return self._invoke(inputs)

    def _compile(self) -> list[Callable[[], None]]:
        """Each step in plan order as a call with no arguments: its argument list (constants
        and arena views never move) and output views are fixed here, once. A prepared fast
        path binds itself to them (``bind``: it writes its output views directly); any other
        kernel returns new arrays that the step copies into its output views."""
        tensors = self.graph.tensors
        program: list[Callable[[], None]] = []
        for j in self.plan.order:
            ctx, kernel = self.steps[j]
            args = [None if k == -1 else (tensors[k].data if tensors[k].is_constant else self.views[k])
                    for k in ctx.op.inputs]
            outs = [(self.views[k], tuple(tensors[k].shape)) for k in ctx.op.outputs]
            # State the op updates: written back after its outputs (see OpDef.state_inputs).
            state = get_op(ctx.op.type).state_inputs
            outs += [(self.views[ctx.op.inputs[i]], tuple(tensors[ctx.op.inputs[i]].shape))
                     for i in state if i < len(ctx.op.inputs) and ctx.op.inputs[i] != -1]
            bind = getattr(kernel, "bind", None)
            if bind is not None and not state:
                program.append(bind(args, [view for view, _ in outs]))
            else:
                program.append(partial(_step, kernel, ctx, args, outs))
        return program

    def _invoke(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        for k, x in zip(self.graph.inputs, inputs, strict=True):
            self.views[k][...] = x
        for step in self._program:
            step()
        # A constant output (an IF branch giving a fixed value) has no view: its data is the value.
        return [self.views[k].copy() if k in self.views else np.array(self.graph.tensors[k].data)
                for k in self.graph.outputs]


def _step(kernel: Any, ctx: OpContext, args: list[Any],
          outs: list[tuple[np.ndarray, tuple[int, ...]]]) -> None:
    """One unprepared step: every input is read (the kernel returns new arrays) before any
    output is written."""
    for (view, shape), r in zip(outs, kernel(ctx, args), strict=True):
        np.copyto(view, np.asarray(r).reshape(shape), casting="unsafe")


def run_model(graph: Graph, inputs: Sequence[np.ndarray], algorithm: str = DEFAULT_ALGORITHM,
              reference: bool = False) -> list[np.ndarray]:
    """Build an :class:`Interpreter` for ``graph`` (arena planned with ``algorithm``; reference
    kernels only when ``reference``) and run it once."""
    return Interpreter(graph, algorithm, reference=reference).run(inputs)
