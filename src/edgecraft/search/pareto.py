"""The Pareto front of a search and its plots.

Objectives: int8 accuracy (higher is better) against latency, RAM and energy per inference
(lower is better). A result is on the front when no other result is at least as good in all
four and better in one. Flash is reported beside them (every result already fits the board).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: (key, sign): the objectives, each turned into "lower is better"
OBJECTIVES = (("accuracy", -1.0), ("latency_ms", 1.0), ("ram_bytes", 1.0), ("energy_uj", 1.0))
#: what each point on the front says (the CLI's JSON contract)
POINT_KEYS = ("accuracy", "latency_ms", "ram_bytes", "flash_bytes", "energy_uj", "model", "config")


def _costs(r: dict[str, Any]) -> tuple[float, ...]:
    # energy is None on boards without power figures (emulated machines): equal for all
    return tuple(sign * float(r[k] or 0.0) for k, sign in OBJECTIVES)


def dominates(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether ``a`` is at least as good as ``b`` in every objective and better in one."""
    ca, cb = _costs(a), _costs(b)
    return all(x <= y for x, y in zip(ca, cb, strict=True)) and ca != cb


def front(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The non-dominated results, best accuracy first (ties: lower latency, then RAM, then id);
    of identical points the first id is kept."""
    ordered = sorted(results, key=lambda r: (*_costs(r), r["id"]))
    out: list[dict[str, Any]] = []
    for r in ordered:
        if not any(dominates(o, r) or _costs(o) == _costs(r) for o in out):
            out.append(r)
    return out


def point(r: dict[str, Any]) -> dict[str, Any]:
    """A front member as the JSON contract has it."""
    return {k: r[k] for k in POINT_KEYS}


def reference_point(r: dict[str, Any]) -> dict[str, Any]:
    """A reference point as the JSON has it: ``name`` (``template default`` or the MLPerf
    Tiny model's name) and the keys of a front point."""
    return {"name": r["config"].get("reference") or "template default", **point(r)}


def plot(
    results: list[dict[str, Any]],
    best: list[dict[str, Any]],
    board: str,
    out: Path,
    metric: str = "accuracy",
    references: list[dict[str, Any]] | None = None,
) -> list[Path]:
    """``accuracy_latency.png`` and ``accuracy_ram.png`` in ``out``: every trained candidate,
    the front, and the reference points (the template's default, MLPerf Tiny's reference
    architecture trained on the same data)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    from edgecraft.files import save_figure

    paths = []
    refs = references or []
    on = {r["id"] for r in best}
    for key, label, name in (
        (
            "latency_ms",
            "latency per inference (ms, emulated instructions, cycle model)",
            "accuracy_latency.png",
        ),
        ("ram_bytes", "RAM (bytes: static RAM of the build, measured stack)", "accuracy_ram.png"),
    ):
        fig, ax = plt.subplots(figsize=(6, 4))
        rest = [r for r in results if r["id"] not in on]
        ax.scatter([r[key] for r in rest], [r["accuracy"] for r in rest], c="0.7", s=18, label="trained")
        line = sorted(best, key=lambda r: r[key])
        ax.plot(
            [r[key] for r in line], [r["accuracy"] for r in line], "o-", c="C0", ms=5, label="Pareto front"
        )
        for i, r in enumerate(refs):
            ax.scatter(
                [r[key]],
                [r["accuracy"]],
                marker="*" if r["config"].get("default") else "D",
                s=180 if r["config"].get("default") else 70,
                c=f"C{3 + i}",
                zorder=5,
                label=reference_point(r)["name"],
            )
        xs = [float(r[key]) for r in [*results, *refs]]
        if max(xs) > 5 * min(xs):  # a wide range: log scale, labelled 1, 2, 5, 10, 20, ...
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(label)
        ax.set_ylabel(f"int8 {metric} (selection set)")
        ax.set_title(f"search on {board}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = out / name
        save_figure(fig, path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths
