"""Power and battery model of the streaming loop.

The device sleeps, wakes for each inference (front end + model) at active power, and pays a
fixed energy per reported event (e.g. a radio message). With ``r`` inferences per second of
``t`` seconds each::

    duty        = min(1, r * t)
    avg_mw      = active_mw * duty + sleep_mw * (1 - duty) + always_on_mw + events_per_h * event_mj / 3600
    energy/day  = avg_mw * 86.4 J
    battery     = mAh * V (mWh) * usable_fraction / avg_mw  hours

Board figures (active/sleep power, clock) come from the board catalog, the one board table
(``targets/boards.json``), and latency per inference from the board's profile
(:mod:`edgecraft.targets`); each estimate names its sources.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.files import save_figure
from edgecraft.ir.graph import Graph
from edgecraft.targets import UnknownBoardError, get_board, profile


class PowerError(ValueError):
    """Bad battery text or unknown board."""


@dataclass(frozen=True)
class Battery:
    """A battery: capacity in mAh at a nominal voltage."""

    mah: float
    volts: float

    @property
    def mwh(self) -> float:
        """Stored energy in mWh."""
        return self.mah * self.volts


def parse_battery(text: str) -> Battery:
    """``"220mAh@3.0V"`` (also ``"220 mAh @ 3 V"``, ``"2Ah@3.7V"``) -> :class:`Battery`."""
    m = re.fullmatch(r"\s*([\d.]+)\s*(m?)ah\s*@\s*([\d.]+)\s*v\s*", text.lower())
    if not m:
        raise PowerError(f"cannot read battery {text!r}; write it like 220mAh@3.0V")
    mah = float(m.group(1)) * (1.0 if m.group(2) else 1000.0)
    volts = float(m.group(3))
    if mah <= 0 or volts <= 0:
        raise PowerError(f"battery capacity and voltage must be positive, got {text!r}")
    return Battery(mah, volts)


@dataclass(frozen=True)
class BoardPower:
    """What the power model needs from a board."""

    board: str
    active_mw: float
    sleep_mw: float
    latency_ms: float
    source: str
    clock_mhz: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return asdict(self)


def counted_classes(graph: Graph, slug: str) -> dict[str, int]:
    """Instructions of one inference per class (a seeded random input), counted on the QEMU
    machine that runs board ``slug``'s core (:mod:`edgecraft.emulate`)."""
    from edgecraft.emulate import EmulateError, emulate
    from edgecraft.targets.cycles import NoCycleModelError, core_model

    try:
        machine = core_model(get_board(slug).core).machine
    except (UnknownBoardError, NoCycleModelError) as e:
        raise PowerError(str(e)) from None
    inputs = [np.random.default_rng(0).integers(-128, 128, (1, *t.shape)).astype(t.np_dtype)
              for t in graph.input_tensors()]
    try:
        return emulate(graph, machine, inputs, name="power").classes
    except EmulateError as e:
        raise PowerError(f"cannot count cycles on {machine}: {e}") from None


def board_power(graph: Graph, slug: str, classes: dict[str, int] | None = None,
                count_cycles: bool = False) -> BoardPower:
    """Active/sleep power and per-inference latency of ``graph`` on board ``slug``: the board
    catalog and its profile (:mod:`edgecraft.targets`). ``classes``: instructions of one
    inference per class counted on the emulator (``count_cycles``: count them now with
    :func:`counted_classes`); the latency then comes from the cycle model, not the MAC fit."""
    try:
        board = get_board(slug)
    except UnknownBoardError as e:
        raise PowerError(str(e)) from None
    if board.active_mw is None or board.sleep_mw is None:
        why = "emulated" if board.emulated else "the catalog gives no sleep power"
        raise PowerError(f"board {slug!r} has no power figures ({why}); pick a microcontroller board, "
                         "e.g. nano33ble")
    if count_cycles and classes is None:
        classes = counted_classes(graph, slug)
    prof = profile(graph, board, classes=classes)
    basis = prof.get("estimates", {}).get("basis", "edgecraft.targets profile")
    source = (f"active: {board.sources.get('active_mw', 'catalog')}; sleep: "
              f"{board.sources.get('sleep_mw', 'catalog')}; latency: {basis}")
    return BoardPower(slug, float(board.active_mw), float(board.sleep_mw), float(prof["latency_ms"]), source,
                      float(board.clock_mhz))


def estimate(power: BoardPower, inferences_per_s: float, battery: Battery | None = None,
             events_per_hour: float = 0.0, event_mj: float = 0.0, always_on_mw: float = 0.0,
             feature_ms: float = 0.0, usable_fraction: float = 1.0) -> dict[str, Any]:
    """Average power, energy per day and battery life (see the module docstring)."""
    busy_s = (power.latency_ms + feature_ms) / 1e3
    duty = min(1.0, inferences_per_s * busy_s)
    avg_mw = (power.active_mw * duty + power.sleep_mw * (1 - duty) + always_on_mw
              + events_per_hour * event_mj / 3600.0)
    out: dict[str, Any] = {
        "board": power.board, "latency_ms": round(power.latency_ms, 3), "feature_ms": round(feature_ms, 3),
        "active_mw": power.active_mw, "sleep_mw": power.sleep_mw,
        "inferences_per_s": round(inferences_per_s, 4), "duty_cycle": round(duty, 6),
        "keeps_up": inferences_per_s * busy_s <= 1.0,
        "events_per_hour": round(events_per_hour, 3),
        "energy_per_inference_uj": round(power.active_mw * busy_s * 1e3, 2),
        "average_mw": round(avg_mw, 6), "energy_per_day_j": round(avg_mw * 86.4, 3),
        "source": power.source,
    }
    if battery is not None:
        hours = battery.mwh * usable_fraction / avg_mw if avg_mw > 0 else float("inf")
        out.update({"battery_mah": battery.mah, "battery_v": battery.volts,
                    "battery_life_h": round(hours, 2), "battery_life_days": round(hours / 24, 2)})
    return out


def power_timeline(inference_times_s: list[float], duration_s: float, power: BoardPower,
                   step_ms: float = 1.0, always_on_mw: float = 0.0, busy_ms: float | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Instantaneous power (mW) over time: active for ``busy_ms`` (default: the model's latency)
    from each inference time (the end of its window), sleep otherwise."""
    t = np.arange(0.0, max(duration_s, 1e-3), step_ms / 1e3)
    p = np.full(len(t), power.sleep_mw + always_on_mw)
    lat = (power.latency_ms if busy_ms is None else busy_ms) / 1e3
    for start in inference_times_s:
        p[(t >= start) & (t < start + lat)] = power.active_mw + always_on_mw
    return t, p


def plot_power(path: Path, t: np.ndarray, p: np.ndarray, summary: dict[str, Any]) -> Path:
    """Write a PNG of power over time with the average as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3))
    ax.step(t, p, where="post", lw=0.8, label="power")
    ax.axhline(summary["average_mw"], color="C1", ls="--", label=f"average {summary['average_mw']:.3g} mW")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("power (mW)")
    ax.set_yscale("log")
    ax.set_title(f"{summary['board']}: {summary['inferences_per_s']} inferences/s, "
                 f"duty {summary['duty_cycle']:.2%}")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    plt.close(fig)
    return path
