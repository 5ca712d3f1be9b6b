"""What every command shares: the output format switch, JSON/table printing, error exits.

Commands fetch data into a plain dict first, then either print it as exactly one JSON object
(``--format json``) or render it for people with rich. Errors are one line on stderr starting
``error:``; exit code 2 for bad input, 1 for an internal failure.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from typing import Any, NoReturn

import numpy as np
import typer
from rich.console import Console

# Piped output (logs, CI, `| less`) has no terminal width; rich would wrap tables at 80
# columns, so it gets a wide fixed width unless COLUMNS says otherwise.
_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160
console = Console(width=_WIDTH)
err_console = Console(stderr=True)


class Format(StrEnum):
    table = "table"
    json = "json"


FORMAT_OPTION = typer.Option(Format.table, "--format", "-f", help="Output format: table or json.")


class UserError(Exception):
    """A mistake in what the user asked for; printed as one line, exit code 2."""


def _default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple | set):
        return list(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def print_json(data: dict[str, Any]) -> None:
    """Print ``data`` as one JSON object on stdout."""
    sys.stdout.write(json.dumps(data, default=_default) + "\n")


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    first = " ".join(str(message).split("\n")[0].split())
    sys.stderr.write(f"error: {first}\n")
    raise SystemExit(code)
