"""Offset assignment: intervals (first..last step, size) to arena offsets without overlap.

Two buffers conflict when their step intervals intersect; conflicting buffers must occupy
disjoint byte ranges. All functions are pure: a list of items in, a list of offsets out
(``offsets[i]`` for ``items[i]``).
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Sequence

from edgecraft.plan.lifetimes import Item


def _overlap(a: Item, b: Item) -> bool:
    return a.first <= b.last and b.first <= a.last


def place_in_order(items: Sequence[Item], sequence: Sequence[int]) -> list[int]:
    """Place items one by one in ``sequence`` order, each at its lowest free offset.

    The placed buffers are kept sorted by offset (ties: the later one last). For a new item,
    walk the placed ones that conflict with it in offset order, keeping ``candidate`` = the
    highest end seen so far; stop at the first gap of at least its size. This is TFLM's gap
    search, and it finds the lowest offset where the item fits.
    """
    offsets = [-1] * len(items)
    placed: list[tuple[int, int]] = []  # (offset, item) sorted by offset
    for i in sequence:
        it = items[i]
        candidate = 0
        for off, p in placed:
            q = items[p]
            if not _overlap(it, q):
                continue
            if off - candidate >= it.size:
                break
            candidate = max(candidate, off + q.size)
        offsets[i] = candidate
        bisect.insort_right(placed, (candidate, i), key=lambda e: e[0])
    return offsets


def greedy_by_size(items: Sequence[Item]) -> list[int]:
    """TFLM's ``GreedyMemoryPlanner``: largest first, each at its lowest free offset.

    TFLM fills its sort array from the back (the buffer added first ends up last) and then
    bubble-sorts it by descending size, which is stable: equal sizes are placed in reverse
    order of addition. Items are given in TFLM's order of addition.
    """
    sequence = sorted(range(len(items)), key=lambda i: (-items[i].size, -i))
    return place_in_order(items, sequence)


def peak(items: Sequence[Item], offsets: Sequence[int]) -> int:
    """Arena size a placement needs: the highest end of any buffer."""
    return max((o + it.size for o, it in zip(offsets, items, strict=True)), default=0)


def live_bound(items: Sequence[Item]) -> int:
    """The largest sum of sizes of items alive at one step: no placement can do better."""
    if not items:
        return 0
    events: dict[int, int] = {}
    for it in items:
        events[it.first] = events.get(it.first, 0) + it.size
        events[it.last + 1] = events.get(it.last + 1, 0) - it.size
    best = run = 0
    for s in sorted(events):
        run += events[s]
        best = max(best, run)
    return best


def heuristic_sequences(items: Sequence[Item]) -> list[list[int]]:
    """A few placement orders that often reach the live bound on inference graphs."""
    idx = range(len(items))
    keys = [
        lambda i: (-items[i].size, -i),  # TFLM
        lambda i: (-items[i].size * (items[i].last - items[i].first + 1), i),
        lambda i: (-(items[i].last - items[i].first), -items[i].size, i),
        lambda i: (items[i].first, -items[i].size, i),
        lambda i: (-items[i].size, items[i].first, i),
    ]
    return [sorted(idx, key=k) for k in keys]


def search(items: Sequence[Item], node_budget: int = 1500,
           time_budget_s: float = 0.5) -> tuple[list[int], bool]:
    """Smallest arena found by branch and bound over placement orders; (offsets, proven).

    Any optimal placement is reproduced by placing its buffers in order of their offsets, each
    at its lowest free offset (each lands at or below its optimal offset), so searching over
    orders with :func:`place_in_order`'s rule is exact. The search starts from the best of
    :func:`heuristic_sequences` (TFLM's order among them, so the result is never worse than
    greedy), branches on the next item (largest first), and prunes any partial placement whose
    highest end already reaches the best arena. It stops when the best equals the live bound
    (proven optimal) or when the node or time budget runs out (a heuristic result, ``proven``
    is False).
    """
    n = len(items)
    bound = live_bound(items)
    best_offsets: list[int] = []
    best = None
    for seq in heuristic_sequences(items):
        offs = place_in_order(items, seq)
        size = peak(items, offs)
        if best is None or size < best:
            best, best_offsets = size, offs
    if best is None or best <= bound:
        return best_offsets, True
    conflicts = [[j for j in range(n) if j != i and _overlap(items[i], items[j])] for i in range(n)]
    branch_order = sorted(range(n), key=lambda i: (-items[i].size, i))
    offsets = [-1] * n
    nodes = 0
    deadline = time.monotonic() + time_budget_s
    exhausted = True

    def lowest(i: int) -> int:
        spans = sorted((offsets[j], offsets[j] + items[j].size) for j in conflicts[i] if offsets[j] >= 0)
        candidate = 0
        for lo, hi in spans:
            if lo - candidate >= items[i].size:
                break
            candidate = max(candidate, hi)
        return candidate

    def dfs(depth: int, high: int) -> None:
        nonlocal best, best_offsets, nodes, exhausted
        if depth == n:
            best, best_offsets = high, list(offsets)
            return
        for i in branch_order:
            if offsets[i] >= 0:
                continue
            nodes += 1
            if nodes > node_budget or (nodes % 256 == 0 and time.monotonic() > deadline):
                exhausted = False
                return
            o = lowest(i)
            end = max(high, o + items[i].size)
            if end >= best:  # type: ignore[operator]
                continue
            offsets[i] = o
            dfs(depth + 1, end)
            offsets[i] = -1
            if best <= bound or not exhausted:  # type: ignore[operator]
                return

    dfs(0, 0)
    return best_offsets, exhausted or best <= bound
