"""``edgecraft train DIR [--quick]``: an application from data to int8 model, metrics, board
profile, C project and report; ``edgecraft evaluate DIR --data PATH`` scores it on new data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from edgecraft.cli.common import FORMAT_OPTION, Format, UserError, console, print_json


def _user_errors() -> tuple[type[Exception], ...]:
    from edgecraft.apps.data import DataError
    from edgecraft.apps.spec import SpecError
    from edgecraft.optimize.pt2e import QuantizeError

    return SpecError, DataError, QuantizeError


def train(
    directory: Annotated[
        Path, typer.Argument(help="An application directory (see `edgecraft app new`).", show_default=False)
    ],
    quick: Annotated[
        bool, typer.Option("--quick", help="Train the small version ([quick] in app.toml).")
    ] = False,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Train DIRECTORY's application: data, features, training, int8, metrics, profile, C build, report."""
    from edgecraft.apps.run import train_app

    try:
        result = train_app(directory, quick=quick, progress=fmt is not Format.json)
    except _user_errors() as e:
        raise UserError(str(e)) from None
    if fmt is Format.json:
        print_json(result)
        return
    _print_metrics(result["metrics"], f"{directory}: int8 test metrics")
    console.print(
        f"on {result['board']}: RAM {result['ram_bytes']:,} B, flash {result['flash_bytes']:,} B, "
        f"{result['latency_ms']:.3g} ms, {result['energy_uj']:.3g} uJ per inference"
    )
    t = result["training"]
    console.print(
        f"training: {t['epochs']} epochs, kept epoch {t['best_epoch']}"
        f"{' (stopped early)' if t['stopped_early'] else ''}"
    )
    console.print(f"model {result['model']}\nC project {result['build']}\nreport {result['report']}")


def evaluate(
    directory: Annotated[Path, typer.Argument(help="A trained application directory.", show_default=False)],
    data: Annotated[Path, typer.Option("--data", help="Folder <label>/<files> (or x,y CSV for sine).")],
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Score DIRECTORY's int8 model on new labelled data."""
    from edgecraft.apps.use import evaluate_app

    if not data.exists():
        raise UserError(f"--data {data} does not exist")
    try:
        result = evaluate_app(directory, data)
    except _user_errors() as e:
        raise UserError(str(e)) from None
    if fmt is Format.json:
        print_json(result)
        return
    _print_metrics(result["metrics"], f"{directory} on {data}")


def _print_metrics(m: dict[str, Any], title: str) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in m.items():
        if isinstance(v, int | float) and not isinstance(v, bool):
            table.add_row(k, f"{v:.4g}" if isinstance(v, float) else str(v))
    console.print(table)
    if "per_class" in m:
        pc = Table()
        for col in ("class", "precision", "recall", "support"):
            pc.add_column(col)
        for name, r in m["per_class"].items():
            pc.add_row(name, f"{r['precision']:.3f}", f"{r['recall']:.3f}", str(r["support"]))
        console.print(pc)
