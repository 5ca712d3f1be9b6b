"""An application's training report: one HTML page and its PNG figures (confusion matrix,
per-class precision and recall, threshold curves for detectors, regression fit, training
curves, and RAM/flash/latency/energy on the target board)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    _plt().close(fig)
    return path.name


def confusion_png(cm: list[list[int]], labels: list[str], path: Path) -> str:
    """The confusion matrix with counts in the cells (rows true, columns predicted)."""
    plt = _plt()
    m = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * len(labels), 0.8 + 0.5 * len(labels)))
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(
                j,
                i,
                str(m[i, j]),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if m[i, j] > m.max() / 2 else "black",
            )
    return _save(fig, path)


def per_class_png(per_class: dict[str, dict[str, float]], path: Path) -> str:
    """Precision and recall per class as paired bars."""
    plt = _plt()
    names = list(per_class)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(names)), 3))
    ax.bar(x - 0.2, [per_class[n]["precision"] for n in names], 0.4, label="precision")
    ax.bar(x + 0.2, [per_class[n]["recall"] for n in names], 0.4, label="recall")
    ax.set_xticks(x, names, rotation=45, ha="right")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower right")
    return _save(fig, path)


def curve_png(
    x: np.ndarray,
    series: dict[str, np.ndarray],
    xlabel: str,
    path: Path,
    points: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> str:
    """Lines over ``x`` (and optional scattered points): regression fits, threshold curves."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3))
    for name, (px, py) in (points or {}).items():
        ax.scatter(px, py, s=4, alpha=0.4, label=name)
    for name, y in series.items():
        ax.plot(x, y, label=name)
    ax.set_xlabel(xlabel)
    ax.legend()
    return _save(fig, path)


def resources_png(prof: dict[str, Any], path: Path) -> str:
    """RAM and flash against the board's capacity, latency and energy per inference."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(8, 2.6))
    cap = prof["capacity"]
    for ax, key in zip(axes[:2], ("ram_bytes", "flash_bytes"), strict=True):
        ax.bar(["model", "board"], [prof[key] / 1024, cap[key] / 1024], color=["tab:blue", "lightgray"])
        ax.set_title(f"{key.split('_')[0]} (KiB)")
    axes[2].bar(["latency ms", "energy uJ"], [prof["latency_ms"], prof["energy_uj"]], color="tab:orange")
    axes[2].set_title(prof["board"])
    return _save(fig, path)


def write_report(out: Path, result: dict[str, Any], figures: list[tuple[str, str]]) -> Path:
    """``out/index.html`` with the metrics, the profile and the figures; ``report.json`` beside it."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(result, indent=2, default=str))
    m = result["metrics"]
    scalars = {k: v for k, v in m.items() if isinstance(v, int | float | str)}
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in scalars.items()
    )
    prof = result["profile"]
    prof_rows = "".join(
        f"<tr><td>{k}</td><td>{prof[k]}</td></tr>"
        for k in (
            "board",
            "ram_bytes",
            "flash_bytes",
            "arena_bytes",
            "macs",
            "latency_ms",
            "energy_uj",
            "fits",
        )
    )
    build = result.get("build", {})
    build_rows = "".join(
        f"<tr><td>{k}</td><td>{html.escape(str(build[k]))}</td></tr>"
        for k in ("out", "flash_bytes", "ram_bytes", "sizes_from")
        if k in build
    )
    imgs = "".join(
        f"<figure><img src='{html.escape(f)}'><figcaption>{html.escape(c)}</figcaption></figure>"
        for f, c in figures
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(result["name"])}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td{{padding:2px 10px}}
figure{{display:inline-block;margin:8px}}</style></head><body>
<h1>{html.escape(result["name"])} ({html.escape(result["kind"])})</h1>
<p>int8 model: {html.escape(result["model"])}; labels: {html.escape(", ".join(result["labels"]))};
test set: {html.escape(result.get("held_out", ""))}</p>
<h2>int8 test metrics</h2><table>{rows}</table>
<h2>on {html.escape(prof["board_name"])}</h2><table>{prof_rows}</table>
<h2>C build</h2><table>{build_rows}</table>
<h2>figures</h2>{imgs}
<h2>training</h2><pre>{html.escape(json.dumps(result["training"], default=str)[:2000])}</pre>
</body></html>"""
    path = out / "index.html"
    path.write_text(page)
    return path
