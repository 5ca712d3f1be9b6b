"""``edgecraft search DIR --target BOARD``: hardware-aware search on Ray Tune over an application
(see :mod:`edgecraft.search`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from edgecraft.cli.common import FORMAT_OPTION, Format, UserError, at_least_one, console, positive, print_json


def search(
    directory: Annotated[
        Path, typer.Argument(help="An application directory (see `edgecraft app new`).", show_default=False)
    ],
    target: Annotated[
        str, typer.Option("--target", help="Board the models must fit (see `edgecraft boards`).")
    ],
    trials: Annotated[
        int,
        typer.Option(
            "--trials", help="Candidates to train (the default model included).", callback=at_least_one
        ),
    ] = 8,
    budget_minutes: Annotated[
        float | None,
        typer.Option(
            "--budget-minutes",
            help="Stop the search after this long (--resume continues it).",
            callback=positive,
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the candidate draw.")] = 0,
    address: Annotated[
        str | None,
        typer.Option("--address", help="A Ray cluster to run on (default: a local Ray on this machine)."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the interrupted search in DIR/search.")
    ] = False,
    quick: Annotated[
        bool, typer.Option("--quick", help="The small version of the data (the quick table of app.toml).")
    ] = False,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Search DIRECTORY's application for int8 models that fit TARGET: the Pareto front of int8
    accuracy against latency, RAM and energy."""
    from edgecraft.apps.data import DataError
    from edgecraft.apps.spec import SpecError
    from edgecraft.optimize.pt2e import QuantizeError
    from edgecraft.search import SearchError, run_search

    try:
        r = run_search(
            directory,
            target,
            trials,
            budget_minutes,
            seed,
            address,
            resume,
            quick,
            progress=fmt is not Format.json,
        )
    except (SearchError, SpecError, DataError, QuantizeError) as e:
        raise UserError(str(e)) from None
    if fmt is Format.json:
        print_json({k: r[k] for k in ("trials", "pruned_before_training", "pareto", "references")})
        return
    _print(r)


def _print(r: dict[str, Any]) -> None:
    metric = r["metric"]
    table = Table(
        title=f"Pareto front on {r['board']} (int8 {metric} on the selection set)", title_justify="left"
    )
    for col in ("candidate", metric, "latency ms", "RAM B", "flash B", "energy uJ", "config"):
        table.add_column(col, justify="left" if col in ("candidate", "config") else "right")
    rows = list(r["pareto"])
    on_front = {p["model"] for p in rows}
    rows += [{**p, "_reference": True} for p in r["references"] if p["model"] not in on_front]
    for p in rows:
        c = p["config"]
        name = c["id"] + (f" ({p['name']}, not on the front)" if p.get("_reference") else "")
        desc = ", ".join(f"{k}={v}" for k, v in {**c["front_end"], **c["arch"]}.items())
        desc += f", {c['method']}, {'16x8' if c['activations'] == 'int16' else 'int8'}"
        desc += f", pruning {c['pruning']}, lr x{c['lr']}"
        table.add_row(
            name,
            f"{p['accuracy']:.4f}",
            f"{p['latency_ms']:.3g}",
            f"{p['ram_bytes']:,}",
            f"{p['flash_bytes']:,}",
            "n/a" if p["energy_uj"] is None else f"{p['energy_uj']:.3g}",
            desc,
        )
    console.print(table)
    console.print(
        f"{r['trials']} trained to the end, {r['unfinished']} not "
        "(stopped early by successive halving or cut short), "
        f"{r['pruned_before_training']} pruned before training (do not fit {r['board']})"
    )
    for name in r["references_not_fitting"]:
        console.print(f"reference {name} does not fit {r['board']}: not trained")
    if r["budget_expired"]:
        console.print("the budget ran out: `--resume` trains the candidates it cut short")
    console.print(f"results in {r['out']}: pareto.json, " + ", ".join(Path(p).name for p in r["plots"]))
