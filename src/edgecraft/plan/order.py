"""Execution-order search: the topological order with the smallest peak of live bytes.

The bytes alive after running a set ``S`` of operators depend only on ``S`` (a tensor is alive
when it exists and some reader is not in ``S``, or it is a graph output), so a shortest-path
search over the *downsets* of the dependency graph (the sets closed under "runs before") finds
the order minimising the largest per-step sum exactly. Chains have one downset per step; the
search gives up (returns None) when a graph has too many downsets to visit.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

from edgecraft.ir.graph import Graph
from edgecraft.plan.lifetimes import align_up, nbytes


def best_order(graph: Graph, alignment: int, scratch: Mapping[int, int],
               max_states: int = 5000) -> list[int] | None:
    """The execution order with the smallest live-byte peak, ties broken towards graph order."""
    ops = graph.operators
    n = len(ops)
    producer: dict[int, int] = {}
    for j, op in enumerate(ops):
        for k in op.outputs:
            producer.setdefault(k, j)
    preds = [0] * n
    readers: dict[int, int] = {}
    for j, op in enumerate(ops):
        for k in op.inputs:
            if k in producer and producer[k] != j:
                preds[j] |= 1 << producer[k]
            if k >= 0:
                readers[k] = readers.get(k, 0) | (1 << j)
    size = {k: align_up(nbytes(t), alignment) for k, t in enumerate(graph.tensors)
            if not t.is_constant and nbytes(t) > 0}
    outputs = set(graph.outputs)
    extra = [align_up(scratch.get(j, 0), alignment) for j in range(n)]

    def live(done: int) -> int:
        total = 0
        for k, b in size.items():
            made = k in graph.inputs or (k in producer and done >> producer[k] & 1)
            if made and (k in outputs or readers.get(k, 0) & ~done):
                total += b
        return total

    full = (1 << n) - 1
    best: dict[int, tuple[int, tuple[int, ...]]] = {0: (live(0), ())}
    heap: list[tuple[int, tuple[int, ...], int]] = [(live(0), (), 0)]
    while heap:
        cost, path, done = heapq.heappop(heap)
        if done == full:
            return list(path)
        if best[done][0] < cost or best[done][1] != path:
            continue
        base = live(done)
        for j in range(n):
            if done >> j & 1 or preds[j] & ~done:
                continue
            fresh = sum(size.get(k, 0) for k in ops[j].outputs)
            step = max(cost, base + fresh + extra[j])
            nxt = done | 1 << j
            key = (step, (*path, j))
            if nxt not in best or key < best[nxt]:
                if nxt not in best and len(best) >= max_states:
                    return None
                best[nxt] = key
                heapq.heappush(heap, (step, key[1], nxt))
    return list(range(n)) if n == 0 else None
