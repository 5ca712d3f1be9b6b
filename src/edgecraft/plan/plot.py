"""Draw a memory plan: arena offset against execution step, one rectangle per buffer."""

from __future__ import annotations

from pathlib import Path

from edgecraft.files import save_figure
from edgecraft.ir.graph import Graph
from edgecraft.plan.planner import MemoryPlan


def plot_plan(plan: MemoryPlan, graph: Graph, path: str | Path, title: str | None = None) -> Path:
    """Write a PNG of ``plan`` to ``path``: x = step, y = arena offset; returns the path.

    Each buffer is a rectangle spanning its lifetime (steps ``first`` to ``last``) and its bytes;
    aliases share one colour with the buffer they alias; the dashed lines mark the arena size
    and the plan's lower bound.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    steps = max(len(plan.order), 1)
    fig, ax = plt.subplots(figsize=(min(4 + 0.25 * steps, 16), 6))
    cmap = plt.get_cmap("tab20")
    colour: dict[int, int] = {}
    for b in plan.buffers:
        key = b.alias_of if b.alias_of is not None else (b.index if b.kind == "tensor" else -1 - b.index)
        c = colour.setdefault(key, len(colour))
        ax.add_patch(Rectangle((b.first - 0.45, b.offset), b.last - b.first + 0.9, b.size,
                               facecolor=cmap(c % 20), edgecolor="black", linewidth=0.5,
                               alpha=0.6 if b.alias_of is not None else 0.85,
                               hatch="//" if b.kind == "scratch" else None))
        if b.size >= plan.arena_bytes * 0.04:
            name = graph.tensors[b.index].name.split(";")[0] if b.kind == "tensor" else "scratch"
            ax.text(b.first - 0.4, b.offset + b.size / 2, f"{b.index}: {name[-22:]}", fontsize=6,
                    va="center")
    ax.axhline(plan.arena_bytes, color="red", linestyle="--", linewidth=1,
               label=f"arena {plan.arena_bytes:,} B")
    ax.axhline(plan.lower_bound_bytes, color="green", linestyle=":", linewidth=1,
               label=f"lower bound {plan.lower_bound_bytes:,} B")
    ax.set_xlim(-0.6, steps - 0.4)
    ax.set_ylim(0, max(plan.arena_bytes, 1) * 1.05)
    ax.set_xlabel("step (operator in execution order)")
    ax.set_ylabel("arena offset (bytes)")
    ax.set_title(f"{title or graph.name or 'model'}: {plan.algorithm} plan, alignment {plan.alignment}")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    out = Path(path)
    try:
        save_figure(fig, out, dpi=120)
    finally:
        plt.close(fig)
    return out
