"""What a memory plan has to place: buffers, their sizes and their lifetimes.

A *step* is a position in the execution order (step ``s`` runs ``graph.operators[order[s]]``).
A tensor lives from the step that produces it (step 0 for graph inputs) to the last step that
reads it (the last step for graph outputs), both inclusive; TensorFlow Lite Micro's
``AllocationInfoBuilder`` marks lifetimes the same way and also keeps graph inputs and outputs in
the arena. Constants live in flash and are not planned. Each operator's scratch need (what
``OpDef.scratch`` declares for the C kernel variant that will run it) is a buffer living for
that one step.

In-place rules group buffers that share memory (an *alias group*); the op record says which
ops they apply to (``OpDef.view``, ``OpDef.inplace``):

- a view op's output (RESHAPE, SQUEEZE) holds the same bytes as its input, so it is a view of it;
- an elementwise op (``OpDef.inplace``) may write its output over an input of the same shape and
  dtype when that input (and everything aliasing it) is read for the last time at that step
  and is not a graph output (a graph input may be overwritten: the caller refills it every
  run). Output element ``i`` depends only on input element ``i`` and the aliased input is not
  broadcast, so an elementwise loop (or the Python runtime, which reads all inputs before
  writing) gives bit-exact results.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from edgecraft.ir.graph import Graph, Tensor
from edgecraft.ops.base import OpContext
from edgecraft.ops.registry import find_op


def nbytes(t: Tensor) -> int:
    """Bytes of a tensor (``Tensor.nbytes`` without numpy overhead: planning calls it a lot)."""
    return math.prod(t.shape) * t.np_dtype.itemsize


def align_up(n: int, alignment: int) -> int:
    """``n`` rounded up to a multiple of ``alignment``."""
    return -(-n // alignment) * alignment


@dataclass(frozen=True)
class Request:
    """One buffer to place: ``kind`` "tensor" (``index`` = tensor) or "scratch" (``index`` = op)."""

    kind: str
    index: int
    size: int  # bytes, aligned
    first: int
    last: int


@dataclass(frozen=True)
class Item:
    """One alias group: the unit the placement algorithms see (interval x size)."""

    members: tuple[int, ...]  # positions in the request list
    size: int
    first: int
    last: int


def scratch_bytes(graph: Graph, op_index: int, kernels: str = "portable") -> int:
    """Scratch memory operator ``op_index``'s ``kernels`` variant declares (0 for ops not in
    the registry)."""
    op = graph.operators[op_index]
    opdef = find_op(op.type)
    return opdef.scratch_bytes(OpContext(op, graph), kernels) if opdef is not None else 0


def scratch_shifts(graph: Graph, kernels: str = "portable") -> dict[int, int]:
    """Operator -> bytes below its first input its ``kernels`` scratch may start when that input
    dies there (``OpDef.scratch_below_input``); operators without the rule are absent."""
    out = {}
    for j, op in enumerate(graph.operators):
        opdef = find_op(op.type)
        shift = opdef.scratch_shift(OpContext(op, graph), kernels) if opdef is not None else None
        if shift is not None:
            out[j] = shift
    return out


def drop_costly_scratch(graph: Graph, need: dict[int, int], shifts: dict[int, int], kernels: str,
                        alignment: int = 16) -> None:
    """Drop (in ``need`` and ``shifts``) the scratch of operators whose ``kernels`` C variant can
    run without it (``OpDef.scratch_optional``) where it would lift its step above the model's
    live-tensor peak in graph order: a fully connected layer's SMLAD operands next to a 640-wide
    input would be the arena's peak (AD: 1,424 B instead of 768), for a few percent of speed."""
    optional = [j for j, op in enumerate(graph.operators) if need.get(j, 0) > 0
                and (d := find_op(op.type)) is not None and kernels in d.scratch_optional]
    if not optional:
        return
    tensors = requests(graph, list(range(len(graph.operators))), alignment, {})
    live = [0] * max(len(graph.operators), 1)
    for r in tensors:
        for step in range(r.first, r.last + 1):
            live[step] += r.size
    peak = max(live)
    last_use = {r.index: r.last for r in tensors}
    for j in optional:
        k = graph.operators[j].inputs[0] if graph.operators[j].inputs else -1
        extra = need[j]
        if j in shifts and last_use.get(k) == j and k not in graph.outputs:  # the input dies here
            extra -= max(0, min(nbytes(graph.tensors[k]), need[j] - shifts[j]))
        if live[j] + align_up(extra, alignment) > peak:
            need[j] = 0
            shifts.pop(j, None)


def requests(graph: Graph, order: list[int], alignment: int, scratch: Mapping[int, int]) -> list[Request]:
    """Buffers to place, in TFLM's order: tensors by index, then scratch buffers by step."""
    n = len(order)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for k in graph.inputs:
        first[k] = last[k] = 0
    for step, j in enumerate(order):
        op = graph.operators[j]
        for k in op.inputs:
            if k >= 0 and k in first:
                last[k] = step
        for k in op.outputs:
            first.setdefault(k, step)
            last[k] = max(last.get(k, step), step)
    for k in graph.outputs:
        if k in first:
            last[k] = max(n - 1, 0)
    out = []
    for k in sorted(first):
        t = graph.tensors[k]
        size = nbytes(t)
        if t.is_constant or size == 0:
            continue
        out.append(Request("tensor", k, align_up(size, alignment), first[k], last[k]))
    for step, j in enumerate(order):
        need = scratch.get(j, 0)
        if need > 0:
            out.append(Request("scratch", j, align_up(need, alignment), step, step))
    return out


class _Groups:
    """Union-find over request positions, remembering each group's members."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.members: dict[int, list[int]] = {i: [i] for i in range(n)}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            i = self.parent[i]
        return i

    def join(self, keep: int, other: int) -> None:
        a, b = self.find(keep), self.find(other)
        if a != b:
            self.parent[b] = a
            self.members[a] += self.members.pop(b)


def alias_groups(graph: Graph, order: list[int], reqs: list[Request], inplace: bool,
                 fixed: frozenset[int] = frozenset(), shared_scratch: Sequence[Sequence[int]] = ()
                 ) -> list[Item]:
    """Group requests that may share memory (see the module docstring); one Item per group.
    Tensors in ``fixed`` (band buffers of a patch) share with nothing; the scratch buffers of
    each operator group in ``shared_scratch`` (a patch's ops, whose kernels run one at a time
    and keep nothing in scratch between calls) are one buffer."""
    pos = {r.index: i for i, r in enumerate(reqs) if r.kind == "tensor"}
    groups = _Groups(len(reqs))
    spos = {r.index: i for i, r in enumerate(reqs) if r.kind == "scratch"}
    for ops in shared_scratch:
        ms = [spos[j] for j in ops if j in spos]
        for m in ms[1:]:
            groups.join(ms[0], m)
    outputs = set(graph.outputs)
    for step, j in enumerate(order if inplace else []):
        op = graph.operators[j]
        if len(op.outputs) != 1 or op.outputs[0] not in pos or op.outputs[0] in fixed:
            continue
        src = _alias_source(graph, op.type, op.inputs, op.outputs[0], step, reqs, pos, groups, outputs, fixed)
        if src is not None:
            groups.join(src, pos[op.outputs[0]])
    items = []
    for _, ms in sorted(groups.members.items()):
        group = [reqs[m] for m in ms]
        items.append(Item(tuple(sorted(ms)), max(g.size for g in group),
                          min(g.first for g in group), max(g.last for g in group)))
    return items


def _alias_source(graph: Graph, op_type: str, inputs: list[int], out: int, step: int,
                  reqs: list[Request], pos: dict[int, int], groups: _Groups,
                  outputs: set[int], fixed: frozenset[int] = frozenset()) -> int | None:
    """The request whose memory the output of this op may take over (none in ``fixed``), or None."""
    t_out = graph.tensors[out]
    opdef = find_op(op_type)
    if opdef is not None and opdef.view:
        k = inputs[0] if inputs else -1
        return pos[k] if k in pos and k not in fixed and nbytes(graph.tensors[k]) == nbytes(t_out) else None
    if opdef is None or not opdef.inplace:
        return None
    for n, k in enumerate(inputs):
        if k not in pos or k in fixed:
            continue
        t_in = graph.tensors[k]
        if t_in.shape != t_out.shape or t_in.dtype != t_out.dtype:
            continue
        g = groups.find(pos[k])
        group = [reqs[m] for m in groups.members[g]]
        # The input's memory must be free after this step: nothing reads it later, and it is
        # not a graph output the caller will read.
        if max(r.last for r in group) != step or any(r.index in outputs for r in group):
            continue
        others = [x for m, x in enumerate(inputs) if m != n and x in pos and x != k]
        if any(groups.find(pos[x]) == g for x in others):
            continue
        return pos[k]
    return None


def step_sums(items: list[Item], steps: int) -> list[int]:
    """Bytes live at each step: the sum of the sizes of the items alive there."""
    sums = [0] * max(steps, 1)
    for it in items:
        for s in range(it.first, it.last + 1):
            sums[s] += it.size
    return sums
