"""``edgecraft cascade sweep DIR --edge M --cloud M``: the edge-cloud cascade's trade-off per
confidence threshold on an application's test data (accuracy, escalated, bytes per hour,
latency, device energy with the radio), its curves, and the threshold a budget picks."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from edgecraft.cli.common import (
    FORMAT_OPTION,
    Format,
    UserError,
    at_least_one,
    console,
    output_file,
    positive,
    print_json,
)

app = typer.Typer(name="cascade", help="The hybrid edge-cloud cascade.", no_args_is_help=True)


class LinkName(StrEnum):
    ble = "ble"
    wifi = "wifi"
    lte_m = "lte-m"
    lora = "lora"


class Measure(StrEnum):
    top = "top"
    margin = "margin"
    entropy = "entropy"


class Send(StrEnum):
    raw = "raw"
    features = "features"
    embedding = "embedding"


@app.command("sweep")
def sweep(
    directory: Annotated[
        Path, typer.Argument(help="A trained application directory (its test data).", show_default=False)
    ],
    edge: Annotated[
        str, typer.Option("--edge", help="The device's model: an application directory or a .tflite.")
    ],
    cloud: Annotated[
        str,
        typer.Option(
            "--cloud",
            help="The cloud's model: an application directory, a "
            ".tflite or MODEL.py:FACTORY (float PyTorch).",
        ),
    ],
    link: Annotated[
        LinkName, typer.Option("--link", help="Radio link model (targets/links.json).")
    ] = LinkName.ble,
    measure: Annotated[Measure, typer.Option("--confidence", help="Confidence measure.")] = Measure.top,
    send: Annotated[Send, typer.Option("--send", help="What an escalation sends.")] = Send.features,
    budget: Annotated[
        str | None,
        typer.Option(
            "--budget",
            help="Pick the threshold meeting bandwidth=BYTES_PER_HOUR, energy=MJ_PER_INFERENCE "
            "and/or accuracy=FRACTION (comma-separated).",
        ),
    ] = None,
    board: Annotated[
        str | None, typer.Option("--board", help="Device board (default: the application's).")
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate", help="Inferences per second (default: the application's stride).", callback=positive
        ),
    ] = None,
    cycles: Annotated[
        bool,
        typer.Option(
            "--cycles", help="Device latency from instructions counted on QEMU instead of the cost model."
        ),
    ] = False,
    cloud_weights: Annotated[
        Path | None, typer.Option("--cloud-weights", help="State dict for a MODEL.py:FACTORY cloud.")
    ] = None,
    steps: Annotated[
        int, typer.Option("--steps", help="Escalation steps from 0 to 100%.", callback=at_least_one)
    ] = 20,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write the trade-off curves to this PNG.")
    ] = None,
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Sweep the cascade's confidence threshold on DIRECTORY's test data."""
    from edgecraft.apps.cascade import cascade_sweep, plot_sweep
    from edgecraft.apps.data import DataError
    from edgecraft.apps.spec import SpecError
    from edgecraft.device.cascade import CascadeError, parse_budget
    from edgecraft.optimize.pt2e import QuantizeError

    plot = output_file(plot, "plot")
    try:
        wanted = parse_budget(budget) if budget is not None else None
        result = cascade_sweep(
            directory,
            edge,
            cloud,
            link.value,
            measure.value,
            send.value,
            wanted,
            board,
            rate,
            cycles,
            cloud_weights,
            steps,
        )
    except (CascadeError, SpecError, DataError, QuantizeError) as e:
        raise UserError(str(e)) from None
    if plot is not None:
        result["plot"] = str(plot_sweep(result, plot))
    if fmt is Format.json:
        print_json(result)
        return
    t = Table(
        title=f"{result['app']}: edge {result['edge']['accuracy']:.4f}, cloud "
        f"{result['cloud']['accuracy']:.4f}; {result['link']['slug']}, sending {result['send']} "
        f"({result['payload_bytes']} B), {result['rate_per_s']:g} inferences/s"
    )
    for c in (
        "threshold",
        "escalated",
        "accuracy",
        "vs cloud",
        "bytes/h",
        "latency ms",
        "energy mJ",
        "duty ok",
    ):
        t.add_column(c, justify="right")
    for p in result["points"]:
        mark = " *" if p is result["chosen"] else ""
        t.add_row(
            f"{p['threshold']:.4g}{mark}",
            f"{p['escalated']:.1%}",
            f"{p['accuracy']:.4f}",
            f"{p['relative_to_cloud']:.3f}" if p["relative_to_cloud"] is not None else "",
            f"{p['bytes_per_hour']:,.0f}",
            f"{p['latency_ms']:.2f}",
            f"{p['energy_mj']:.4g}",
            "yes" if p["duty_cycle_ok"] else "no",
        )
    console.print(t)
    if budget is not None:
        c = result["chosen"]
        console.print(
            "no threshold meets the budget"
            if c is None
            else f"chosen (*): threshold {c['threshold']:.4g}, {c['escalated']:.1%} escalated, "
            f"accuracy {c['accuracy']:.4f}"
        )
    if plot is not None:
        console.print(f"plot {plot}")
