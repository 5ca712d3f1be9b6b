"""Memory planning: tensor lifetimes to arena offsets, several algorithms side by side.

``plan_memory(graph, algorithm=..., alignment=16)`` returns a :class:`MemoryPlan`; see
:mod:`edgecraft.plan.planner` for the algorithms and :mod:`edgecraft.plan.lifetimes` for the
lifetime and in-place rules.
"""

from edgecraft.plan.planner import (
    ALGORITHMS,
    DEFAULT_ALGORITHM,
    PROFILE_ALGORITHM,
    Buffer,
    MemoryPlan,
    PlanError,
    lower_bound,
    plan_memory,
)

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "PROFILE_ALGORITHM",
    "Buffer",
    "MemoryPlan",
    "PlanError",
    "lower_bound",
    "plan_memory",
]
