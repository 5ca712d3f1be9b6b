"""Hardware-aware search on Ray Tune over an application's spec: candidates measured on the
board before training (exact planned RAM, flash, cost-model latency and energy), the ones that
fit trained with early stopping (ASHA), scored in int8, and their Pareto front.

``from edgecraft.search import run_search`` (see :mod:`edgecraft.search.runner`); Ray is
imported only when a search runs.
"""

from __future__ import annotations

from edgecraft.search.runner import SearchError, run_search

__all__ = ["SearchError", "run_search"]
