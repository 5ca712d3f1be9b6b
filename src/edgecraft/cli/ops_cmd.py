"""``edgecraft ops``: every TFLite Micro builtin, per type, and whether edgecraft runs it and
compiles it to C."""

from __future__ import annotations

from rich.table import Table

from edgecraft.cli.common import FORMAT_OPTION, Format, console, print_json
from edgecraft.codegen.support import op_support


def ops(fmt: Format = FORMAT_OPTION) -> None:
    """List every TFLM builtin with, per type TFLM supports, runtime and C support."""
    rows = op_support()
    if fmt is Format.json:
        print_json({"ops": rows})
        return
    table = Table(title="TFLM builtins: R = edgecraft runtime, C = generated C, - = neither, "
                        "x = listed by TFLM's sources but not run by TFLM (below)",
                  title_justify="left")
    table.add_column("op", no_wrap=True)
    table.add_column("types")
    for row in rows:
        cells = [f"{d} x" if s.get("tflm") is False
                 else f"{d} {'R' if s['runtime'] else '-'}{'C' if s['c'] else ''}"
                 for d, s in row["types"].items()]
        table.add_row(row["name"], ", ".join(cells))
    console.print(table)
    for row in rows:
        for d, s in row["types"].items():
            if s.get("tflm") is False:
                console.print(f"{row['name']} {d} x: {s['why']}", highlight=False)
