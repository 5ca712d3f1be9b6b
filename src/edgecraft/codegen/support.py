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
from edgecraft.ops.tflm_builtins import TFLM_BUILTINS, TFLM_SIGNAL_OPS, TFLM_UNUSABLE

#: Types that are not tensor dtypes of input 0: the op takes any (control flow) or a resource.
UNTYPED = ("any", "resource")


def op_support() -> list[dict[str, Any]]:
    """Every TFLM builtin, sorted by name, then TFLM's signal-library custom ops (``signal``
    true): ``{name, signal, types: {dtype: {runtime, c}}}`` for each type TFLM supports; a type
    TFLM lists but does not run (``TFLM_UNUSABLE``) has ``tflm: false`` and ``why``."""
    rows = []
    table = {**{n: (False, TFLM_BUILTINS[n]) for n in sorted(TFLM_BUILTINS)},
             **{n: (True, TFLM_SIGNAL_OPS[n]) for n in sorted(TFLM_SIGNAL_OPS)}}
    for name, (signal, tflm_types) in table.items():
        op = find_op(name)
        runtime = tuple(op.kernels) if op is not None else ()
        compiled = c_dtypes(name, runtime)
        types = {}
        for dtype in tflm_types:
            if (name, dtype) in TFLM_UNUSABLE:
                why = TFLM_UNUSABLE[name, dtype]
                types[dtype] = {"runtime": False, "c": False, "tflm": False, "why": why}
                continue
            untyped = dtype in UNTYPED and op is not None
            types[dtype] = {"runtime": untyped or dtype in runtime,
                            "c": (untyped and bool(compiled)) or dtype in compiled}
        rows.append({"name": name, "signal": signal, "types": types})
    return rows


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The README's op table: one line per op, per TFLM type ``R`` (runtime), ``C`` (generated
    C) or ``-`` (neither); the signal library's custom ops under their own heading; a summary."""
    lines = ["| op | types TFLM supports: edgecraft runtime (R) and C (C) |", "|---|---|"]
    builtins = [r for r in rows if not r.get("signal")]
    signal = [r for r in rows if r.get("signal")]
    for group in (builtins, signal):
        if group is signal and signal:
            lines.append("| **TFLM signal library (custom ops)** | |")
        for row in group:
            cells = [f"{dtype} x" if s.get("tflm") is False else
                     f"{dtype} {'R' if s['runtime'] else '-'}{'C' if s['c'] else ''}"
                     for dtype, s in row["types"].items()]
            lines.append(f"| {row['name']} | {', '.join(cells)} |")
    full = [sum(all(s["runtime"] or s.get("tflm") is False for s in r["types"].values()) for r in g)
            for g in (builtins, signal)]
    lines.append("")
    for row in builtins:
        for dtype, s in row["types"].items():
            if s.get("tflm") is False:
                lines.append(f"`{row['name']} {dtype} x`: listed in TFLM's sources but not run by TFLM: "
                             f"{s['why']}.")
    lines.append("")
    lines.append(f"{full[0]} of {len(builtins)} TFLM builtins run in edgecraft for every type TFLM supports; "
                 f"{full[1]} of {len(signal)} signal-library ops.")
    return "\n".join(lines) + "\n"
