"""What the ``edgecraft fleet`` command modules share: the state-directory and server options,
default file names, the API client and the table printer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from edgecraft.cli.common import console
from edgecraft.fleet.client import DEFAULT_STATE_DIR

DEVICES_FILE = Path("devices.json")
DEVICES_ROOT = Path("edgecraft-fleet-devices")
NO_BOARDS: list[str] = []
STATE_OPTION = typer.Option(DEFAULT_STATE_DIR, "--state-dir", help="The server's state directory.")
SERVER_OPTION = typer.Option(None, "--server", help="Server URL (default: from the state directory).")


def client(state_dir: Path, server: str | None) -> Any:
    """The API client of the server whose state directory is ``state_dir`` (or at ``server``)."""
    from edgecraft.fleet.client import FleetClient

    return FleetClient.from_state(state_dir, url=server)


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """Print ``rows`` as a titled table (None as an empty cell)."""
    t = Table(title=title)
    for c in columns:
        t.add_column(c)
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    console.print(t)
