"""``edgecraft check MODEL.py:FACTORY --target BOARD``: before training, will this model become
a full-int8 model that edgecraft runs, and how does it fit the board?"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from edgecraft.cli.common import FORMAT_OPTION, Format, UserError, console, print_json


def run_check(model_spec: str, target: str | None, input_shape: str | None = None) -> dict[str, Any]:
    """Everything ``check`` reports, as plain data."""
    import numpy as np

    from edgecraft.optimize.capture import captured
    from edgecraft.optimize.compat import check
    from edgecraft.optimize.loader import input_shape as shape_of
    from edgecraft.optimize.loader import load_factory, parse_shape
    from edgecraft.optimize.pt2e import QuantizeError

    try:  # a bad shape is refused before the model (and torch) is loaded
        given = parse_shape(input_shape) if input_shape else None
    except QuantizeError as e:
        raise UserError(str(e)) from None
    if target is not None:
        from edgecraft.targets import board_slugs

        if target not in board_slugs():
            raise UserError(f"unknown board {target!r}; known: {', '.join(board_slugs())}")
    try:
        with captured():  # torch and the converter print; stdout carries only our output
            model, module = load_factory(model_spec)
            shape = given or shape_of(model, module, None)
            report = check(model, np.zeros(shape, np.float32), target)
    except QuantizeError as e:
        raise UserError(str(e)) from None
    return {"model": model_spec, "board": target, "input_shape": list(shape), **report.as_dict()}


MODEL_ARG = typer.Argument(..., help="MODEL.py:FACTORY (a function returning a torch.nn.Module).",
                           show_default=False)
TARGET_OPT = typer.Option(None, "--target", help="Board slug for the profile (e.g. nano33ble).")
SHAPE_OPT = typer.Option(None, "--input-shape", help="Example input shape, e.g. 1,1,16,16 "
                         "(default: input_shape on the model or INPUT_SHAPE in its file).")


def check(model: str = MODEL_ARG, target: str | None = TARGET_OPT, input_shape: str | None = SHAPE_OPT,
          fmt: Format = FORMAT_OPTION) -> None:
    """Check, before training, that every layer becomes a supported int8 op; profile on a board."""
    info = run_check(model, target, input_shape)
    if fmt is Format.json:
        print_json(info)
        return
    verdict = "[green]every layer becomes a supported int8 op[/]" if info["ok"] else \
        "[red]not every layer becomes a supported int8 op[/]"
    console.print(f"{escape(model)}: {verdict}", emoji=False)
    if info["error"]:
        console.print(f"conversion failed: {escape(info['error'])}", emoji=False)
    if info["ops"]:
        console.print(f"ops after conversion: {' '.join(info['ops'])}")
    if info["issues"]:
        table = Table(title="layers to look at", title_justify="left")
        for col in ("layer", "source", "op", "problem", "what to do"):
            table.add_column(col)
        for i in info["issues"]:
            layer = f"{i['layer']} ({i['module']})" if i["layer"] else f"forward of {i['module']}"
            table.add_row(escape(layer), escape(i["source"] or "-"), i["op"], escape(i["problem"]),
                          escape(i["suggestion"]))
        console.print(table)
    p = info["profile"]
    if p:
        verdict = "fits" if p["fits"] else "does NOT fit"
        cap = p["capacity"]
        line = (f"on {p['board']}: RAM {p['ram_bytes']:,} of {cap['ram_bytes']:,} B, flash "
                f"{p['flash_bytes']:,} of {cap['flash_bytes']:,} B: {verdict}")
        if not p.get("estimated") and "latency_ms" in p:
            line += f"; {p['macs']:,} MACs, about {p['latency_ms']:.3g} ms, {p['energy_uj']:.3g} uJ"
        console.print(line, emoji=False)
        if p.get("estimated"):
            console.print(f"  ({escape(p['basis'])})", emoji=False)
        for c in p.get("culprits", [])[:5]:
            console.print(f"  {c['kind']} {escape(c['name'])}: {c['bytes']:,} B", emoji=False)
