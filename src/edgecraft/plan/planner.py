"""``plan_memory``: a graph to arena offsets for every activation, scratch buffer and I/O tensor.

Algorithms, side by side (``ALGORITHMS``):

- ``greedy``: TensorFlow Lite Micro's greedy-by-size planner on the graph order, no in-place
  rules. Buffers are taken largest first and each goes to the lowest offset where it fits next
  to the already placed buffers alive at the same time. This is the baseline TFLM gets.
- ``inplace``: the same greedy placement after the in-place rules (RESHAPE/SQUEEZE as views,
  elementwise ops writing over an input that dies there; see :mod:`edgecraft.plan.lifetimes`).
- ``optimal``: graph order; branch and bound over placement orders, with and without the
  in-place rules, keeping the smaller arena (exact when it reaches the live bound or finishes
  its search, otherwise the best of several greedy orders, never worse than ``greedy``).
- ``reorder``: ``optimal`` on the graph order and on the execution order with the smallest
  live-byte peak (:mod:`edgecraft.plan.order`: exact search, or a greedy schedule for graphs
  with too many parallel branches), keeping the smaller arena.
- ``overlap``: ``reorder`` plus partial overlap: a convolution's or pool's output may start
  below its dying input and overlap it by as much as row-major computation allows
  (:mod:`edgecraft.plan.overlap`); the pairs are listed in ``MemoryPlan.overlaps``. The
  default: the Python runtime and edgecraft's C kernels (checked on QEMU) stay bit-exact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from edgecraft.ir.graph import Graph
from edgecraft.ops.base import OpError
from edgecraft.plan.lifetimes import (
    Item,
    Request,
    alias_groups,
    align_up,
    drop_costly_scratch,
    requests,
    scratch_bytes,
    scratch_shifts,
)
from edgecraft.plan.order import best_order, greedy_order
from edgecraft.plan.overlap import overlap_offset
from edgecraft.plan.patch import Patch, band_sizes, chain_offset, find_patches, patch_requests
from edgecraft.plan.placement import Pairs, greedy_by_size, live_bound, peak, search

ALGORITHMS: tuple[str, ...] = ("greedy", "inplace", "optimal", "reorder", "overlap", "patch")
DEFAULT_ALGORITHM = "patch"
#: What per-operator profiling builds plan with: the default without patches, so every
#: operator runs on its own and its instruction count is its own.
PROFILE_ALGORITHM = "overlap"


class PlanError(ValueError):
    """Bad planner arguments (unknown algorithm, bad alignment); the message lists valid ones."""


@dataclass(frozen=True)
class Buffer:
    """One planned buffer. ``kind`` "tensor" (``index`` = tensor index) or "scratch" (``index`` =
    operator index); ``first``/``last`` are steps of ``MemoryPlan.order``, both inclusive;
    ``size`` is aligned. ``alias_of`` names the tensor whose memory this one shares, if any."""

    kind: str
    index: int
    offset: int
    size: int
    first: int
    last: int
    alias_of: int | None = None


@dataclass(frozen=True)
class MemoryPlan:
    """The result of :func:`plan_memory`: where every non-constant buffer lives in the arena."""

    algorithm: str
    alignment: int
    arena_bytes: int
    lower_bound_bytes: int
    order: list[int]
    buffers: list[Buffer]
    #: True when the placement is proven minimal for this order and these alias groups.
    optimal: bool = False
    #: (input tensor, output tensor, D): the output's offset is at most the input's + D, so the
    #: two overlap; the op must write output pixels in row-major order (``overlap`` only).
    overlaps: tuple[tuple[int, int, int], ...] = ()
    #: (input tensor, operator, D): the operator's scratch starts at most D (< 0) bytes from its
    #: dying input and overlaps it (``OpDef.scratch_below_input``; ``overlap`` only).
    scratch_overlaps: tuple[tuple[int, int, int], ...] = ()
    #: Residual blocks run in bands of rows (``patch`` only; :mod:`edgecraft.plan.patch`): their
    #: ``y`` and ``z`` buffers hold bands, not whole tensors.
    patches: tuple[Patch, ...] = ()

    def offset_of(self, tensor_index: int) -> int:
        """Arena offset of non-constant tensor ``tensor_index`` (aliases share offsets)."""
        for b in self.buffers:
            if b.kind == "tensor" and b.index == tensor_index:
                return b.offset
        raise KeyError(f"tensor {tensor_index} is not planned (a constant, empty, or unused tensor)")

    def scratch_offset(self, op_index: int) -> int | None:
        """Arena offset of operator ``op_index``'s scratch buffer, or None if it needs none."""
        for b in self.buffers:
            if b.kind == "scratch" and b.index == op_index:
                return b.offset
        return None

    @property
    def gap_ratio(self) -> float:
        """How far the arena is above the lower bound (1.0 = on it)."""
        return self.arena_bytes / self.lower_bound_bytes if self.lower_bound_bytes else 1.0


#: The largest buffer alignment accepted (a memory page; TFLM uses 16).
MAX_ALIGNMENT = 4096


def plan_memory(graph: Graph, algorithm: str = DEFAULT_ALGORITHM, alignment: int = 16,
                scratch: Mapping[int, int] | None = None, kernels: str = "portable") -> MemoryPlan:
    """Plan the arena for ``graph`` with ``algorithm`` (see the module docstring). Pure.

    ``alignment`` rounds every buffer size (hence every offset) up to a multiple of that many
    bytes (TFLM uses 16). Each operator gets the scratch buffer its ``kernels`` C variant
    declares (``OpDef.scratch``: "portable" or "dsp"); ``scratch`` (operator index -> bytes)
    replaces those declarations.
    """
    if algorithm not in ALGORITHMS:
        raise PlanError(f"unknown planning algorithm {algorithm!r}; choose one of: {', '.join(ALGORITHMS)}")
    if not isinstance(alignment, int) or not 1 <= alignment <= MAX_ALIGNMENT:
        raise PlanError(f"alignment must be a number of bytes from 1 to {MAX_ALIGNMENT}, got {alignment!r}")
    shifts: dict[int, int] = {}
    if scratch is None:
        try:
            need = {j: scratch_bytes(graph, j, kernels) for j in range(len(graph.operators))}
            shifts = scratch_shifts(graph, kernels)
            drop_costly_scratch(graph, need, shifts, kernels, alignment)
        except OpError as e:
            raise PlanError(str(e)) from None
    else:
        need = dict(scratch)
    graph_order = list(range(len(graph.operators)))
    if algorithm == "greedy":
        return _greedy(graph, graph_order, alignment, need, inplace=False, name=algorithm)
    if algorithm == "inplace":
        return _greedy(graph, graph_order, alignment, need, inplace=True, name=algorithm)
    overlap = algorithm in ("overlap", "patch")
    shifts = shifts if overlap else {}
    # patch: the overlap plans too (never worse than overlap), and the patches picked scanning
    # from either end where they differ
    patching: list[bool | None] = [None]
    if algorithm == "patch" and find_patches(graph, graph_order):
        patching += [False] + ([True] if find_patches(graph, graph_order, from_end=True)
                               != find_patches(graph, graph_order) else [])
    candidates = []
    for patch in patching:
        candidates.append(_optimal(graph, graph_order, alignment, need, algorithm, overlap, shifts, patch))
        if algorithm in ("reorder", "overlap", "patch"):
            found = find_patches(graph, graph_order, from_end=patch) if patch is not None else []
            order = (best_order(graph, alignment, need, sizes=band_sizes(graph, found))
                     or greedy_order(graph, alignment, need, band_sizes(graph, found)))
            if order != graph_order:
                candidates.append(_optimal(graph, order, alignment, need, algorithm, overlap, shifts, patch))
    return min(candidates, key=lambda p: (p.arena_bytes, len(p.patches), p.order != graph_order))


def _greedy(graph: Graph, order: list[int], alignment: int, scratch: Mapping[int, int], inplace: bool,
            name: str) -> MemoryPlan:
    reqs = requests(graph, order, alignment, scratch)
    items = alias_groups(graph, order, reqs, inplace)
    offsets = greedy_by_size(items)
    return _assemble(name, alignment, order, reqs, items, offsets, proven=False)


def _optimal(graph: Graph, order: list[int], alignment: int, scratch: Mapping[int, int],
             name: str, overlap: bool = False, shifts: Mapping[int, int] | None = None,
             patch: bool | None = None) -> MemoryPlan:
    """Branch and bound on ``order``; ``patch``: None none, else the patches found scanning the
    order from its start (False) or end (True)."""
    reqs = requests(graph, order, alignment, scratch)
    patches = find_patches(graph, order, from_end=patch) if patch is not None else []
    reqs = patch_requests(graph, reqs, patches, order, alignment)
    banded = frozenset(k for p in patches for k in p.banded)
    best: MemoryPlan | None = None
    for inplace in (True, False):
        items = alias_groups(graph, order, reqs, inplace, banded, [p.ops for p in patches])
        pairs, tensors = (_overlap_pairs(graph, order, reqs, items, alignment, shifts or {}, patches)
                          if overlap else ({}, {}))
        offsets, proven = search(items, pairs)
        plan = _assemble(name, alignment, order, reqs, items, offsets, proven, pairs, tensors, tuple(patches))
        if best is None or plan.arena_bytes < best.arena_bytes:
            best = plan
    assert best is not None
    return best


def _overlap_pairs(graph: Graph, order: list[int], reqs: list[Request], items: list[Item], alignment: int,
                   shifts: Mapping[int, int], patches: Sequence[Patch]
                   ) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], tuple[int, int, int]]]:
    """(input item, output item) -> D for every windowed op whose input dies there, and for
    every op whose scratch may start ``shifts[op]`` bytes below its dying input (the scratch's
    item as the output); the same keys -> (input tensor, output tensor or -1 - op, D)."""
    item_of = {m: n for n, it in enumerate(items) for m in it.members}
    pos = {r.index: m for m, r in enumerate(reqs) if r.kind == "tensor"}
    scratch_pos = {r.index: m for m, r in enumerate(reqs) if r.kind == "scratch"}
    fused = {j for p in patches for j in p.ops}
    outputs = set(graph.outputs)
    pairs: dict[tuple[int, int], int] = {}
    tensors: dict[tuple[int, int], tuple[int, int, int]] = {}
    for step, j in enumerate(order):
        d = overlap_offset(graph, j) if j not in fused else None
        op = graph.operators[j]
        if d is None or op.inputs[0] not in pos or op.outputs[0] not in pos:
            continue
        i, o = item_of[pos[op.inputs[0]]], item_of[pos[op.outputs[0]]]
        dying = items[i].last == step and not any(reqs[m].index in outputs for m in items[i].members)
        if i != o and dying:
            pairs[i, o] = d // alignment * alignment
            tensors[i, o] = (op.inputs[0], op.outputs[0], pairs[i, o])
    for step, j in enumerate(order):
        op = graph.operators[j]
        if j not in shifts or j in fused or j not in scratch_pos or not op.inputs or op.inputs[0] not in pos:
            continue
        i, s = item_of[pos[op.inputs[0]]], item_of[scratch_pos[j]]
        if items[i].last == step and not any(reqs[m].index in outputs for m in items[i].members
                                             if reqs[m].kind == "tensor"):
            pairs[i, s] = -align_up(shifts[j], alignment)
            tensors[i, s] = (op.inputs[0], -1 - j, pairs[i, s])
    step_of = {j: s for s, j in enumerate(order)}
    for p in patches:  # a chain's z may overlap the rows of x no later band reads
        if p.add >= 0 or p.x not in pos or p.z not in pos:
            continue
        i, o = item_of[pos[p.x]], item_of[pos[p.z]]
        dying = items[i].last == step_of[p.a] and not any(reqs[m].index in outputs for m in items[i].members)
        if i != o and dying:
            pairs[i, o] = chain_offset(graph, p) // alignment * alignment
            tensors[i, o] = (p.x, p.z, pairs[i, o])
    return pairs, tensors


def _assemble(name: str, alignment: int, order: list[int], reqs: list[Request], items: list[Item],
              offsets: list[int], proven: bool, pairs: Pairs | None = None,
              tensors: Mapping[tuple[int, int], tuple[int, int, int]] | None = None,
              patches: tuple[Patch, ...] = ()) -> MemoryPlan:
    buffers: list[Buffer | None] = [None] * len(reqs)
    for it, off in zip(items, offsets, strict=True):
        head = reqs[it.members[0]]
        for m in it.members:
            r = reqs[m]
            alias = head.index if m != it.members[0] else None
            buffers[m] = Buffer(r.kind, r.index, off, r.size, r.first, r.last, alias)
    arena = peak(items, offsets)
    bound = live_bound(items, pairs)
    found = sorted((tensors or {}).values())
    overlaps = tuple(t for t in found if t[1] >= 0)
    below = tuple((k, -1 - o, d) for k, o, d in found if o < 0)
    return MemoryPlan(name, alignment, arena, bound, list(order), [b for b in buffers if b is not None],
                      optimal=proven or arena <= bound, overlaps=overlaps, scratch_overlaps=below,
                      patches=patches)


def lower_bound(graph: Graph, alignment: int = 16) -> int:
    """The classic bound: the largest sum of (aligned) sizes of tensors and scratch buffers alive
    at one step of the graph order, with no in-place sharing. No plan without in-place rules or
    reordering can go below it."""
    order = list(range(len(graph.operators)))
    need = {j: scratch_bytes(graph, j) for j in order}
    reqs = requests(graph, order, alignment, need)
    return live_bound(alias_groups(graph, order, reqs, inplace=False))
