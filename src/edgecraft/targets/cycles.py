"""Cycles from counted instructions: a per-core price for each instruction class, plus flash.

The QEMU plugin (``emulate/plugin/ec_insn_count.c``) counts the instructions one inference
executes per class (loads, pipelined loads, stores, load/store multiple and the registers they
move, multiplies, DSP multiply-accumulates, divides, branches taken and not taken, ...). This
module prices them with the figures in ``cycles.json`` (each with its source: the core's
technical reference manual, or a stated assumption where the manual gives none)::

    core cycles  = sum over classes of count[class] * cycles[core][class]
    flash cycles = (flash data-cache misses + instruction-cache misses) * wait_states
    latency      = (core + flash cycles) / clock

The misses are counted too: the plugin simulates the caches in front of the board's flash on
every data access and executed block (``MEMORY``), the ART-sized pair or the 8 KB pair, as the
board's ``cycles.json`` flash entry says. ``branch_cond`` (all conditional branches) and
``total`` are not priced: their parts (``branch_taken``, ``branch_not_taken``) and the classes
are. Energy per inference is the latency at the board's active power; energy per day adds the
sleep power between inferences.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

from edgecraft.targets.catalog import Board

#: Counters the plugin reports that are not priced on their own (they sum other classes).
UNPRICED = ("branch_cond", "total")
#: The plugin's memory counters: accesses by region and the simulated flash caches' misses. They
#: are not instruction classes: the board's flash entry prices the misses, the rest is reported.
MEMORY = ("flash_load", "flash_store", "ram_load", "ram_store", "flash_load_miss", "fetch_lines",
          "fetch_miss", "flash_load_miss_big", "fetch_miss_big")
SECONDS_PER_DAY = 86_400


class NoCycleModelError(ValueError):
    """The core has no entry in the cycle model (not a Cortex-M core)."""


@cache
def cycle_data() -> dict[str, Any]:
    """The contents of ``cycles.json``."""
    text = resources.files("edgecraft.targets").joinpath("cycles.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


@dataclass(frozen=True)
class CoreModel:
    """Cycles per instruction class of one core, and where each figure comes from."""

    core: str
    machine: str  # the QEMU machine that executes this core's instruction set
    cycles: dict[str, float]
    sources: dict[str, str]

    def source(self, cls: str) -> str:
        """The source of one class's figure (the core's default source when not given apart)."""
        return self.sources.get(cls, self.sources["default"])


def core_model(core: str) -> CoreModel:
    """The cycle table of a catalog core name (``cortex-m4f``, ``cortex-m7``, ...)."""
    data = cycle_data()
    name = data["aliases"].get(core, core)
    if name not in data["cores"]:
        known = ", ".join([*data["cores"], *data["aliases"]])
        raise NoCycleModelError(f"no cycle model for core {core!r}; modelled cores: {known}")
    entry = data["cores"][name]
    return CoreModel(core, entry["machine"], dict(entry["cycles"]), dict(entry["sources"]))


def has_cycle_model(board: Board) -> bool:
    """True when the board's core is priced by this model (the Cortex-M cores)."""
    data = cycle_data()
    return data["aliases"].get(board.core, board.core) in data["cores"]


def core_cycles(classes: dict[str, int], model: CoreModel) -> dict[str, float]:
    """Cycles per class: each class's count times its price (unpriced counters left out)."""
    out: dict[str, float] = {}
    for cls, count in classes.items():
        if cls in UNPRICED or cls in MEMORY or not count:
            continue
        if cls not in model.cycles:
            raise ValueError(f"the cycle model of {model.core} has no price for class {cls!r}")
        out[cls] = count * model.cycles[cls]
    return out


def flash_misses(classes: dict[str, int], cache: str) -> tuple[int, int]:
    """(data, instruction) flash-cache misses counted for the ``small`` (ART-sized) or ``big``
    (8 KB) caches; zeros when the counts carry no memory counters."""
    suffix = "_big" if cache == "big" else ""
    return classes.get(f"flash_load_miss{suffix}", 0), classes.get(f"fetch_miss{suffix}", 0)


def flash_cycles(classes: dict[str, int], board_slug: str,
                 entry: dict[str, Any] | None = None) -> tuple[float, str]:
    """Flash stall cycles of a run on ``board_slug`` and the basis (zero for boards not listed).
    ``entry``: a flash description (``wait_states``, ``cache``, ``source``) instead of the
    board's own in ``cycles.json``."""
    entry = entry if entry is not None else cycle_data()["flash"]["boards"].get(board_slug)
    if entry is None:
        return 0.0, "zero-wait-state memory"
    if "flash_load" not in classes:
        return 0.0, f"no memory counts: flash wait states not priced ({entry['source']})"
    data, fetch = flash_misses(classes, entry["cache"])
    stalls = (data + fetch) * entry["wait_states"]
    geometry = cycle_data()["flash"]["counted_caches"][entry["cache"]]
    return float(stalls), (f"{entry['wait_states']} flash wait states per miss: {data:,} data-cache misses "
                           f"({geometry['data']}) of {classes.get('flash_load', 0):,} flash loads, {fetch:,} "
                           f"instruction-cache misses ({geometry['instruction']}) ({entry['source']})")


@dataclass(frozen=True)
class CycleEstimate:
    """Cycles, time and energy of one inference on one board, from counted instruction classes."""

    board: str
    core: str
    clock_mhz: float
    instructions: int
    cycles: int  # core + flash
    core_cycles: int
    flash_cycles: int
    latency_ms: float
    energy_uj: float | None  # at the board's active power; None without a power figure
    by_class: dict[str, float]
    basis: str

    @property
    def cycles_per_instruction(self) -> float:
        """Cycles over instructions."""
        return self.cycles / self.instructions if self.instructions else 0.0

    def energy_per_day_j(self, inferences_per_day: float, active_mw: float | None,
                         sleep_mw: float | None) -> float | None:
        """Joules in a day of ``inferences_per_day`` inferences at active power and sleep in
        between (busy at most the whole day); None without both power figures."""
        if active_mw is None or sleep_mw is None:
            return None
        busy_s = min(float(SECONDS_PER_DAY), inferences_per_day * self.latency_ms / 1e3)
        return (active_mw * busy_s + sleep_mw * (SECONDS_PER_DAY - busy_s)) / 1e3

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the cycles per instruction."""
        out = asdict(self)
        out["cycles_per_instruction"] = round(self.cycles_per_instruction, 4)
        return out


def estimate_cycles(classes: dict[str, int], board: Board,
                    flash: dict[str, Any] | None = None) -> CycleEstimate:
    """Price the instruction classes of one inference (counted on the QEMU machine of the
    board's core) on ``board``: its core's cycle table, its flash wait states and counted cache
    misses, its clock and active power. ``flash``: a flash description for a board outside the
    catalog (the cycle check's published rows)."""
    model = core_model(board.core)
    per_class = core_cycles(classes, model)
    core = sum(per_class.values())
    stalls, flash_basis = flash_cycles(classes, board.slug, flash)
    cycles = core + stalls
    latency_ms = cycles / (board.clock_mhz * 1e3)
    energy = None if board.active_mw is None else latency_ms * board.active_mw
    basis = (f"instruction classes counted on QEMU ({model.machine}) priced with the {board.core} cycle "
             f"table (targets/cycles.json: {model.sources['default'].split(',')[0]}); {flash_basis}")
    return CycleEstimate(board.slug, board.core, board.clock_mhz, int(classes.get("total", 0)), round(cycles),
                         round(core), round(stalls), latency_ms, energy,
                         {k: round(v, 1) for k, v in per_class.items()}, basis)


def check_error_pct(core: str = "cortex-m4") -> int:
    """The cycle model's stated latency error (+-%) on ``core``: from its check against published
    MLPerf Tiny latencies for the cores the check covers (``cycles.json`` ``check``), the
    ``ratio_error_pct`` of a core checked only by cycle ratio to the Cortex-M4, the wider
    ``unchecked_error_pct`` for the others."""
    check = cycle_data()["check"]
    name = cycle_data()["aliases"].get(core, core)
    if name in check["cores"]:
        return int(check["latency_error_pct"])
    return int(check["ratio_error_pct"].get(name, check["unchecked_error_pct"]))


def energy_spread_pct() -> int:
    """How far (+-%) a board's active power can move with the firmware that runs on it, added to
    the latency error for energy (``cycles.json`` ``check.energy_power_spread_pct``, with the
    evidence in ``check.energy_source``)."""
    return int(cycle_data()["check"]["energy_power_spread_pct"])


def check_basis(core: str) -> str:
    """Where the stated error of ``core`` comes from."""
    check = cycle_data()["check"]
    name = cycle_data()["aliases"].get(core, core)
    if name in check["cores"]:
        return str(check["source"])
    if name in check["ratio_error_pct"]:
        return f"{core} is checked by ratio to the Cortex-M4 only ({check['ratio_source']})"
    return f"{core} is not covered by the check ({check['unchecked_source']})"


def cycle_profile_estimate(classes: dict[str, int], board: Board,
                           inferences_per_day: float = SECONDS_PER_DAY) -> dict[str, Any]:
    """What ``profile`` reports for latency and energy when instruction classes were counted on
    the emulator: the same keys as the MAC-fit estimate (``latency_ms``, ``energy_uj``, their
    errors, ``cycles``, ``basis``) plus ``energy_per_day_j`` at ``inferences_per_day`` (one a
    second by default) with sleep in between, and the cycle breakdown."""
    est = estimate_cycles(classes, board)
    err = check_error_pct(board.core)
    return {
        "latency_ms": est.latency_ms,
        "latency_error_pct": err,
        "cycles": est.cycles,
        "energy_uj": est.energy_uj,
        "energy_error_pct": None if est.energy_uj is None else err + energy_spread_pct(),
        "energy_per_day_j": est.energy_per_day_j(inferences_per_day, board.active_mw, board.sleep_mw),
        "inferences_per_day": inferences_per_day,
        "basis": f"cycle model: {est.basis}; +-{err}%: {check_basis(board.core)}",
        "cycle_estimate": est.to_dict(),
    }
