"""``edgecraft boards``: the board catalog."""

from __future__ import annotations

from rich.table import Table

from edgecraft.cli.common import FORMAT_OPTION, Format, console, print_json
from edgecraft.targets import boards as catalog


def boards(fmt: Format = FORMAT_OPTION) -> None:
    """List the boards edgecraft knows: core, clock, memories, features and power, with sources."""
    data = [b.to_dict() for b in catalog().values()]
    if fmt is Format.json:
        print_json({"boards": data})
        return
    table = Table(title="boards (figures and their sources: --format json)", title_justify="left")
    table.add_column("slug", no_wrap=True)
    table.add_column("board", max_width=24)
    for col in ("core", "MHz", "SRAM KiB", "flash KiB", "FPU/DSP/SIMD", "active mW", "sleep mW"):
        table.add_column(col, justify="left" if col in ("core", "FPU/DSP/SIMD") else "right")
    for b in data:
        feats = "/".join(x for x, on in (("FPU", b["fpu"]), ("DSP", b["dsp"]), ("SIMD", b["simd"])) if on)
        table.add_row(b["slug"], b["name"], b["core"], f"{b['clock_mhz']:g}", f"{b['sram_bytes'] // 1024:,}",
                      f"{b['flash_bytes'] // 1024:,}", feats or "-",
                      "-" if b["active_mw"] is None else f"{b['active_mw']:g}",
                      "-" if b["sleep_mw"] is None else f"{b['sleep_mw']:g}")
    console.print(table)

