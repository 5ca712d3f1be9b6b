"""Execution-order search: the topological order with the smallest peak of live bytes.

The bytes alive after running a set ``S`` of operators depend only on ``S`` (a tensor is alive
when it exists and some reader is not in ``S``, or it is a graph output), so a shortest-path
search over the *downsets* of the dependency graph (the sets closed under "runs before") finds
the order minimising the largest per-step sum exactly. Chains have one downset per step; when a
graph has too many downsets to visit (many parallel branches), :func:`greedy_order` schedules
one ready operator at a time instead, the one that leaves the fewest bytes alive.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Mapping

from edgecraft.ir.graph import Graph
from edgecraft.ops.registry import find_op
from edgecraft.plan.lifetimes import align_up, nbytes


class _Deps:
    """Dependencies and sizes of a graph's operators, sets of operators as bit masks."""

    def __init__(self, graph: Graph, alignment: int, scratch: Mapping[int, int],
                 sizes: Mapping[int, int] | None = None) -> None:
        ops = graph.operators
        self.n = len(ops)
        self.producer: dict[int, int] = {}
        for j, op in enumerate(ops):
            for k in op.outputs:
                self.producer.setdefault(k, j)
        self.preds = [0] * self.n
        self.readers: dict[int, int] = {}
        for j, op in enumerate(ops):
            for k in op.inputs:
                if k in self.producer and self.producer[k] != j:
                    self.preds[j] |= 1 << self.producer[k]
                if k >= 0:
                    self.readers[k] = self.readers.get(k, 0) | (1 << j)
        # Operators with side effects (a variable read after its assignment) keep their order.
        effects = [j for j, op in enumerate(ops) if (d := find_op(op.type)) is not None and d.side_effects]
        for before, after in itertools.pairwise(effects):
            self.preds[after] |= 1 << before
        self.size = {k: align_up(nbytes(t), alignment) for k, t in enumerate(graph.tensors)
                     if not t.is_constant and nbytes(t) > 0}
        self.size.update({k: v for k, v in (sizes or {}).items() if k in self.size})
        self.inputs, self.outputs = set(graph.inputs), set(graph.outputs)
        self.fresh = [sum(self.size.get(k, 0) for k in op.outputs) + align_up(scratch.get(j, 0), alignment)
                      for j, op in enumerate(ops)]

    def live(self, done: int) -> int:
        """Bytes alive between steps once the operators in ``done`` have run."""
        total = 0
        for k, b in self.size.items():
            made = k in self.inputs or (k in self.producer and done >> self.producer[k] & 1)
            if made and (k in self.outputs or self.readers.get(k, 0) & ~done):
                total += b
        return total

    def ready(self, done: int) -> list[int]:
        return [j for j in range(self.n) if not done >> j & 1 and not self.preds[j] & ~done]


def best_order(graph: Graph, alignment: int, scratch: Mapping[int, int],
               max_states: int = 5000, sizes: Mapping[int, int] | None = None) -> list[int] | None:
    """The execution order with the smallest live-byte peak, ties broken towards graph order;
    None when the graph has more than ``max_states`` downsets. ``sizes`` (tensor -> bytes)
    replaces tensors' own sizes (a patch's band buffers)."""
    d = _Deps(graph, alignment, scratch, sizes)
    full = (1 << d.n) - 1
    start = d.live(0)
    best: dict[int, tuple[int, tuple[int, ...]]] = {0: (start, ())}
    heap: list[tuple[int, tuple[int, ...], int]] = [(start, (), 0)]
    while heap:
        cost, path, done = heapq.heappop(heap)
        if done == full:
            return list(path)
        if best[done] != (cost, path):
            continue
        base = d.live(done)
        for j in d.ready(done):
            key = (max(cost, base + d.fresh[j]), (*path, j))
            nxt = done | 1 << j
            if nxt not in best or key < best[nxt]:
                if nxt not in best and len(best) >= max_states:
                    return None
                best[nxt] = key
                heapq.heappush(heap, (key[0], key[1], nxt))
    return None


def greedy_order(graph: Graph, alignment: int, scratch: Mapping[int, int],
                 sizes: Mapping[int, int] | None = None) -> list[int]:
    """A topological order built one step at a time: run the ready operator with the smallest
    peak, then the fewest bytes left alive, then the lowest index."""
    d = _Deps(graph, alignment, scratch, sizes)
    done, order = 0, list[int]()
    while len(order) < d.n:
        base = d.live(done)
        j = min(d.ready(done), key=lambda j: (base + d.fresh[j], d.live(done | 1 << j), j))
        order.append(j)
        done |= 1 << j
    return order
