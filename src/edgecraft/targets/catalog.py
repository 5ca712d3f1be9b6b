"""The board catalog: ``boards.json`` (data with a source for every figure) as typed records."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from typing import Any


class UnknownBoardError(ValueError):
    """A board slug that is not in the catalog; the message lists the valid ones."""


@dataclass(frozen=True)
class Board:
    """One board: its core and clock, memories, features and power, each with a source."""

    slug: str
    name: str
    chip: str
    core: str
    clock_mhz: float
    sram_bytes: int
    flash_bytes: int
    fpu: bool
    dsp: bool
    simd: str | None
    active_mw: float | None  # typical while computing; None for emulated machines
    sleep_mw: float | None  # lowest-power retention state; None where there is none
    emulated: bool
    sources: dict[str, str] = field(default_factory=dict)
    qemu_machine: str | None = None

    @property
    def mve(self) -> bool:
        """The core has Helium (Armv8.1-M MVE, named in ``simd``): ``build`` uses the MVE kernels."""
        return "MVE" in (self.simd or "")

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON-ready data."""
        return asdict(self)


def _read(name: str) -> Any:
    return json.loads(resources.files("edgecraft.targets").joinpath(name).read_text())


@cache
def boards() -> dict[str, Board]:
    """Every board in the catalog, by slug, in catalog order."""
    return {b["slug"]: Board(**b) for b in _read("boards.json")["boards"]}


def board_slugs() -> list[str]:
    """The valid ``--target`` names, in catalog order."""
    return list(boards())


def get_board(slug: str) -> Board:
    """The board named ``slug``; :class:`UnknownBoardError` listing the valid slugs otherwise."""
    try:
        return boards()[slug]
    except KeyError:
        valid = ", ".join(board_slugs())
        raise UnknownBoardError(f"unknown board {slug!r}; choose one of: {valid}") from None
