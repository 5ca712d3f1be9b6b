"""Small helpers that turn Python values into C text: identifiers, literals, const arrays."""

from __future__ import annotations

import re

import numpy as np

#: IR dtype -> C type.
C_TYPES: dict[str, str] = {
    "int8": "int8_t",
    "uint8": "uint8_t",
    "int16": "int16_t",
    "int32": "int32_t",
    "uint32": "uint32_t",
    "int64": "int64_t",
    "uint64": "uint64_t",
    "float32": "float",
    "bool": "uint8_t",
}

_PER_LINE = 24


def c_type(dtype: str) -> str:
    """The C type holding one element of ``dtype``."""
    return C_TYPES[dtype]


def c_identifier(text: str, fallback: str = "model") -> str:
    """A valid C identifier made from ``text``: other characters become ``_``; never starts
    with a digit."""
    ident = re.sub(r"[^0-9A-Za-z_]", "_", text).strip("_")
    ident = re.sub(r"_+", "_", ident)
    if not ident:
        ident = fallback
    if ident[0].isdigit():
        ident = f"{fallback}_{ident}"
    return ident


def c_int(v: int) -> str:
    """An integer literal; INT32_MIN is written as an expression (``-2147483648`` is not one)."""
    v = int(v)
    return "INT32_MIN" if v == -(2**31) else str(v)


def c_float(v: float) -> str:
    """A float literal that reads back as the same float32."""
    return f"{float(np.float32(v))!r}f"


def c_list(values: np.ndarray | list[int]) -> str:
    """``{a, b, c}`` for a short list on one line."""
    return "{" + ", ".join(c_int(v) for v in np.asarray(values).reshape(-1).tolist()) + "}"


def _items(values: np.ndarray) -> list[str]:
    flat = np.asarray(values).reshape(-1)
    literal = c_float if flat.dtype == np.float32 else c_int
    return [literal(v) for v in flat.tolist()]


def _lines(items: list[str], indent: str) -> str:
    return f",\n{indent}".join(", ".join(items[i:i + _PER_LINE]) for i in range(0, len(items), _PER_LINE))


def c_values(values: np.ndarray) -> str:
    """``{a, b, ...}``, several values per line: an initializer inside a larger one."""
    return "{\n    " + _lines(_items(values), "    ") + "}"


def c_array(name: str, ctype: str, values: np.ndarray, comment: str = "") -> str:
    """A ``static const`` array definition, several values per line."""
    items = _items(values)
    head = f"/* {comment} */\n" if comment else ""
    body = _lines(items, "  ") if items else "0"
    return f"{head}static const {ctype} {name}[{max(len(items), 1)}] = {{\n  {body}\n}};\n"


def requant_tables(p: str, mult: np.ndarray, shift: np.ndarray) -> str:
    """The per-channel requantization tables ``<p>_multiplier`` and ``<p>_shift`` a kernel's
    params struct points to."""
    return (c_array(f"{p}_multiplier", "int32_t", mult, f"{p}: per-channel multipliers ({len(mult)})")
            + c_array(f"{p}_shift", "int32_t", shift))


def unit_requant_tables(p: str, mult: np.ndarray, shift: np.ndarray) -> tuple[str, int]:
    """The tables of an ``ec_fc_params`` block and its ``per_channel`` flag: one entry each
    (flag 0: the kernels read entry 0 for every unit) where every unit has the same multiplier
    and shift (a per-tensor filter), else one per unit (flag 1)."""
    mult, shift = np.asarray(mult).reshape(-1), np.asarray(shift).reshape(-1)
    if len(mult) and (mult == mult[0]).all() and (shift == shift[0]).all():
        one = c_array(f"{p}_multiplier", "int32_t", mult[:1], f"{p}: one multiplier, {len(mult)} units")
        return one + c_array(f"{p}_shift", "int32_t", shift[:1]), 0
    return requant_tables(p, mult, shift), 1
