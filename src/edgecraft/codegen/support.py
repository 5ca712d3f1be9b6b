"""Which TFLite Micro builtins edgecraft runs and compiles to C, per tensor type.

Derived, never kept by hand: the runtime column is the dtypes of an op record's kernels
(:mod:`edgecraft.ops.registry`), the C column is what the op's emitter declares
(:func:`edgecraft.codegen.ops_c.c_dtypes`), and the rows and types are TFLM's own
(:mod:`edgecraft.ops.tflm_builtins`). ``edgecraft ops`` prints it; README's op table is
generated from it (``scripts/ops_table.py``).
"""

from __future__ import annotations

from typing import Any

from edgecraft.codegen.ops_c import c_dtypes
from edgecraft.ops.registry import find_op
from edgecraft.ops.tflm_builtins import TFLM_BUILTINS

#: Types that are not tensor dtypes of input 0: the op takes any (control flow) or a resource.
UNTYPED = ("any", "resource")


def op_support() -> list[dict[str, Any]]:
    """Every TFLM builtin, sorted by name: ``{name, types: {dtype: {runtime, c}}}`` for each
    type TFLM supports for it."""
    rows = []
    for name in sorted(TFLM_BUILTINS):
        op = find_op(name)
        runtime = tuple(op.kernels) if op is not None else ()
        compiled = c_dtypes(name, runtime)
        types = {}
        for dtype in TFLM_BUILTINS[name]:
            untyped = dtype in UNTYPED and op is not None
            types[dtype] = {"runtime": untyped or dtype in runtime,
                            "c": (untyped and bool(compiled)) or dtype in compiled}
        rows.append({"name": name, "types": types})
    return rows


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The README's op table: one line per op, per TFLM type ``R`` (runtime), ``C`` (generated
    C) or ``-`` (neither), and a summary line."""
    lines = ["| op | types TFLM supports: edgecraft runtime (R) and C (C) |", "|---|---|"]
    full = 0
    for row in rows:
        cells = []
        for dtype, s in row["types"].items():
            mark = "R" if s["runtime"] else "-"
            mark += "C" if s["c"] else ""
            cells.append(f"{dtype} {mark}")
        full += all(s["runtime"] for s in row["types"].values())
        lines.append(f"| {row['name']} | {', '.join(cells)} |")
    lines.append("")
    lines.append(f"{full} of {len(rows)} TFLM builtins run in edgecraft for every type TFLM supports.")
    return "\n".join(lines) + "\n"
