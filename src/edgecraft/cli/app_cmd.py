"""``edgecraft app new KIND DIR``: write an application template."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from edgecraft.apps.spec import SpecError
from edgecraft.apps.templates import available, new_app
from edgecraft.cli.common import FORMAT_OPTION, Format, UserError, console, print_json

app = typer.Typer(help="Applications: templates of complete TinyML applications.", no_args_is_help=True)


@app.command("new")
def new(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(available())}.", show_default=False)],
    directory: Annotated[
        Path, typer.Argument(help="Directory to create the application in.", show_default=False)
    ],
    board: Annotated[str, typer.Option(help="Target board slug (see `edgecraft boards`).")] = "nano33ble",
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Write a working application template (app.toml) into DIRECTORY."""
    from edgecraft.targets import UnknownBoardError, get_board

    try:
        get_board(board)
        path = new_app(kind, directory, board)
    except (SpecError, UnknownBoardError) as e:
        raise UserError(str(e)) from None
    if fmt is Format.json:
        print_json({"dir": str(directory), "kind": kind, "spec": str(path)})
        return
    console.print(f"wrote {path}; next: edgecraft train {directory}")
