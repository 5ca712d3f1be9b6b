"""Offset assignment: intervals (first..last step, size) to arena offsets without overlap.

Two buffers conflict when their step intervals intersect; conflicting buffers must occupy
disjoint byte ranges. All functions are pure: a list of items in, a list of offsets out
(``offsets[i]`` for ``items[i]``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from edgecraft.plan.lifetimes import Item

#: (input item, output item) -> D: the output may overlap the input when
#: ``offset(output) <= offset(input) + D`` (see :mod:`edgecraft.plan.overlap`).
Pairs = Mapping[tuple[int, int], int]


def _overlap(a: Item, b: Item) -> bool:
    return a.first <= b.last and b.first <= a.last


def _forbidden(items: Sequence[Item], i: int, q: int, off_q: int, pairs: Pairs) -> tuple[int, int]:
    """Open interval of offsets item ``i`` may not take next to item ``q`` placed at ``off_q``."""
    if (q, i) in pairs:  # i is the output, q its dying input
        return off_q + max(pairs[q, i], -items[i].size), off_q + items[q].size
    if (i, q) in pairs:  # i is the input, q the output already placed
        return off_q - items[i].size, off_q - max(pairs[i, q], -items[q].size)
    return off_q - items[i].size, off_q + items[q].size


def lowest_offset(spans: list[tuple[int, int]]) -> int:
    """The lowest offset >= 0 outside every open interval in ``spans``."""
    candidate = 0
    for lo, hi in sorted(spans):
        if candidate <= lo:
            break
        candidate = max(candidate, hi)
    return candidate


def conflict_lists(items: Sequence[Item]) -> list[list[int]]:
    """For each item, the items alive at some common step."""
    return [[j for j, b in enumerate(items) if j != i and _overlap(a, b)] for i, a in enumerate(items)]


def place_in_order(items: Sequence[Item], sequence: Sequence[int], pairs: Pairs | None = None,
                   conflicts: list[list[int]] | None = None) -> list[int]:
    """Place items one by one in ``sequence`` order, each at its lowest free offset.

    Free means outside the interval each already placed, simultaneously alive buffer forbids.
    Without overlap pairs that is TFLM's gap search: walk the placed buffers in offset order,
    keeping the highest end seen, and stop at the first gap big enough.
    """
    pairs = pairs or {}
    conflicts = conflicts if conflicts is not None else conflict_lists(items)
    offsets = [-1] * len(items)
    for i in sequence:
        spans = [_forbidden(items, i, q, offsets[q], pairs) for q in conflicts[i] if offsets[q] >= 0]
        offsets[i] = lowest_offset(spans)
    return offsets


def improve(items: Sequence[Item], pairs: Pairs, offsets: list[int], bound: int,
            evaluations: int = 1000, seed: int = 0) -> list[int]:
    """Local search on the placement order: move one item elsewhere in the order, keep the move
    when the arena does not grow. Seeded, so plans stay pure functions of their input."""
    rng = random.Random(seed)
    n = len(items)
    conflicts = conflict_lists(items)
    seq = sorted(range(n), key=lambda i: (offsets[i], i))
    best = peak(items, offsets)
    for _ in range(evaluations if n > 1 else 0):
        if best <= bound:
            break
        cand = list(seq)
        cand.insert(rng.randrange(n), cand.pop(rng.randrange(n)))
        offs = place_in_order(items, cand, pairs, conflicts)
        size = peak(items, offs)
        if size <= best:
            seq, best, offsets = cand, size, offs
    return offsets


def greedy_by_size(items: Sequence[Item], pairs: Pairs | None = None) -> list[int]:
    """TFLM's ``GreedyMemoryPlanner``: largest first, each at its lowest free offset.

    TFLM fills its sort array from the back (the buffer added first ends up last) and then
    bubble-sorts it by descending size, which is stable: equal sizes are placed in reverse
    order of addition. Items are given in TFLM's order of addition.
    """
    sequence = sorted(range(len(items)), key=lambda i: (-items[i].size, -i))
    return place_in_order(items, sequence, pairs)


def peak(items: Sequence[Item], offsets: Sequence[int]) -> int:
    """Arena size a placement needs: the highest end of any buffer."""
    return max((o + it.size for o, it in zip(offsets, items, strict=True)), default=0)


def live_bound(items: Sequence[Item], pairs: Pairs | None = None) -> int:
    """The largest sum of sizes of items alive at one step, less what overlap pairs may share
    there: no placement can do better."""
    if not items:
        return 0
    events: dict[int, int] = {}
    for it in items:
        events[it.first] = events.get(it.first, 0) + it.size
        events[it.last + 1] = events.get(it.last + 1, 0) - it.size
    for (i, o), d in (pairs or {}).items():
        shared = max(0, min(items[i].size, d + items[o].size))
        step = items[o].first
        events[step] = events.get(step, 0) - shared
        events[step + 1] = events.get(step + 1, 0) + shared
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


#: Search steps (branch-and-bound nodes) :func:`search` may visit. A count, never a time: the
#: same model and options give the same plan, and so the same generated C, under any load.
NODE_BUDGET = 1500


def search(items: Sequence[Item], pairs: Pairs | None = None,
           node_budget: int = NODE_BUDGET) -> tuple[list[int], bool]:
    """Smallest arena found by branch and bound over placement orders; (offsets, proven).

    Any optimal placement is reproduced by placing its buffers in order of their offsets, each
    at its lowest free offset (each lands at or below its optimal offset), so searching over
    orders with :func:`place_in_order`'s rule is exact. The search starts from the best of
    :func:`heuristic_sequences` (TFLM's order among them, so the result is never worse than
    greedy), branches on the next item (largest first), and prunes any partial placement whose
    highest end already reaches the best arena. It stops when the best equals the live bound
    (proven optimal) or when ``node_budget`` search steps are spent (a heuristic result, ``proven``
    is False); with overlap pairs, :func:`improve` then polishes the order.
    """
    pairs = pairs or {}
    n = len(items)
    bound = live_bound(items, pairs)
    best_offsets: list[int] = []
    best = None
    conflicts = conflict_lists(items)
    for seq in heuristic_sequences(items):
        offs = place_in_order(items, seq, pairs, conflicts)
        size = peak(items, offs)
        if best is None or size < best:
            best, best_offsets = size, offs
    if best is None or best <= bound:
        return best_offsets, True
    branch_order = sorted(range(n), key=lambda i: (-items[i].size, i))
    offsets = [-1] * n
    nodes = 0
    exhausted = True

    def lowest(i: int) -> int:
        return lowest_offset([_forbidden(items, i, j, offsets[j], pairs) for j in conflicts[i]
                              if offsets[j] >= 0])

    def dfs(depth: int, high: int) -> None:
        nonlocal best, best_offsets, nodes, exhausted
        if depth == n:
            best, best_offsets = high, list(offsets)
            return
        for i in branch_order:
            if offsets[i] >= 0:
                continue
            nodes += 1
            if nodes > node_budget:
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
    if pairs and not exhausted and best > bound:  # overlap chains defeat the greedy orders
        best_offsets = improve(items, pairs, best_offsets, bound)
        best = peak(items, best_offsets)
    return best_offsets, exhausted or best <= bound
