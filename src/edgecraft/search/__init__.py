"""Hardware-aware search on Ray Tune over an application's spec: candidates measured on the
board before training (a real build: flash, static RAM, stack, emulated instruction counts),
the ones that fit trained with early stopping (successive halving in draw order,
:mod:`.halving`), scored in int8, and their Pareto front.

``from edgecraft.search import run_search`` (see :mod:`edgecraft.search.runner`); Ray is
imported only when a search runs.
"""

from __future__ import annotations

from edgecraft.search.runner import SearchError, run_search

__all__ = ["SearchError", "run_search"]
