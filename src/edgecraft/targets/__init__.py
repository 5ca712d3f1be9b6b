"""Boards and what a model costs on them: the catalog (data with sources), the cost and energy
model fitted on MLPerf Tiny, and ``profile(graph, board)``."""

from edgecraft.targets.catalog import Board, UnknownBoardError, board_slugs, boards, get_board
from edgecraft.targets.costmodel import estimate, work_features
from edgecraft.targets.profiling import flash_parts, profile

__all__ = [
    "Board",
    "UnknownBoardError",
    "board_slugs",
    "boards",
    "estimate",
    "flash_parts",
    "get_board",
    "profile",
    "work_features",
]
