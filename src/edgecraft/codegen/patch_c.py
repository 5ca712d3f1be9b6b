"""C for a residual block run in bands of rows (:mod:`edgecraft.plan.patch`).

The three ops' own emitted calls are reused unchanged but for their arguments: each kernel gets
a copy of its parameter block with the slice's height (and, for the convolutions, the slice's
top padding), and pointers into the slices of ``x``, the ``y`` row buffer, the ``z`` band and
``w``. Kernels compute every output row from the rows their parameter block describes, so each
output byte is the one the whole-tensor call writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from edgecraft.codegen.opcode import OpCode
from edgecraft.ir.graph import Graph
from edgecraft.ops.base import OpContext
from edgecraft.plan.patch import Patch, band_bytes

#: The C parameter-block type of each op kind a patch holds (int8 convolutions and ADD).
CONV_PARAMS, ADD_PARAMS = "ec_conv_params", "ec_binary_params"


class PatchError(ValueError):
    """An emitted call does not have the arguments a patch rewrites (a generator bug)."""


def rewrite_call(call: str, args: Mapping[str, str]) -> str:
    """``call`` (``[prefix] fn(a, b, ...);``) with each argument equal to a key of ``args``
    replaced by its value; every key must occur exactly once."""
    open_, close = call.index("("), call.rindex(")")
    parts = call[open_ + 1:close].split(", ")
    for key in args:
        if parts.count(key) != 1:
            raise PatchError(f"argument {key!r} occurs {parts.count(key)} times in {call!r}")
    return call[:open_ + 1] + ", ".join(args.get(a, a) for a in parts) + call[close:]


def emit_patch(graph: Graph, patch: Patch, ptr: Callable[[int], str],
               emit: Callable[[OpContext, str], OpCode]) -> OpCode:
    """The declarations of the three ops and one C block running them band by band; ``emit``
    gives an op's own code (``emit(ctx, "op<j>")``), ``ptr`` a tensor's C expression."""
    codes = {j: emit(OpContext(graph.operators[j], graph), f"op{j}") for j in patch.ops}
    block = patch.add >= 0
    x, y, z = ptr(patch.x), ptr(patch.y), ptr(patch.z)
    w = ptr(patch.w) if block else ""
    xrow, yrow, zrow = (band_bytes(graph, k, 1) for k in (patch.x, patch.y, patch.z))
    h, r = patch.height, patch.rows
    ka, pa, kb, pb = patch.kh_a, patch.pad_a, patch.kh_b, patch.pad_b
    call_a = rewrite_call(codes[patch.a].call, {f"&op{patch.a}": "&pa", x: f"{x} + x_lo * {xrow}",
                                                y: f"{y} + (y_hi - y_lo) * {yrow}"})
    if block:
        call_b = rewrite_call(codes[patch.b].call, {f"&op{patch.b}": "&pb"})
        call_c = rewrite_call(codes[patch.add].call, {f"&op{patch.add}": "&pc", x: f"{x} + r0 * {xrow}",
                                                      w: f"{w} + r0 * {xrow}"})
        about = (f"{z} {r} of op {patch.b}'s; each band is added to {x}'s rows into {w}")
        tail = ["      pc.dims[3] = r1 - r0;", f"      {call_c}"]
        params = [f"    {CONV_PARAMS} pa = op{patch.a}, pb = op{patch.b};",
                  f"    {ADD_PARAMS} pc = op{patch.add};"]
    else:
        call_b = rewrite_call(codes[patch.b].call, {f"&op{patch.b}": "&pb", z: f"{z} + r0 * {zrow}"})
        about = f"op {patch.b} writes its rows of {z} (which may overlap the rows of {x} already read)"
        tail = []
        params = [f"    {CONV_PARAMS} pa = op{patch.a}, pb = op{patch.b};"]
    body = "\n".join([
        f"/* ops {', '.join(map(str, patch.ops))} in bands of {r} row(s): {y} holds {patch.y_rows} rows of "
        f"op {patch.a}'s output; {about} */",
        "  {",
        *params,
        "    int32_t y_lo = 0, y_hi = 0; /* rows of the first output held in its buffer */",
        f"    for (int32_t r0 = 0; r0 < {h}; r0 += {r}) {{",
        f"      const int32_t r1 = r0 + {r} < {h} ? r0 + {r} : {h};",
        f"      const int32_t lo = r0 - {pb} > 0 ? r0 - {pb} : 0;",
        f"      const int32_t hi = r1 + {kb - 1 - pb} < {h} ? r1 + {kb - 1 - pb} : {h};",
        "      if (lo > y_lo) { /* drop the rows no band needs again, keep the shared ones */",
        f"        if (y_hi > lo) memmove({y}, {y} + (lo - y_lo) * {yrow}, (size_t)(y_hi - lo) * {yrow});",
        "        if (y_hi < lo) y_hi = lo;",
        "        y_lo = lo;",
        "      }",
        "      if (hi > y_hi) { /* the new rows of the first output, from the rows of x they read */",
        f"        const int32_t x_lo = y_hi - {pa} > 0 ? y_hi - {pa} : 0;",
        f"        const int32_t x_hi = hi + {ka - 1 - pa} < {h} ? hi + {ka - 1 - pa} : {h};",
        f"        pa.input.h = x_hi - x_lo; pa.output.h = hi - y_hi; pa.pad_h = {pa} - y_hi + x_lo;",
        f"        {call_a}",
        "        y_hi = hi;",
        "      }",
        f"      pb.input.h = y_hi - y_lo; pb.output.h = r1 - r0; pb.pad_h = {pb} - r0 + y_lo;",
        f"      {call_b}",
        *tail,
        "    }",
        "  }",
    ])
    decls = "".join(codes[j].decls for j in patch.ops)
    kernels = tuple(sorted({k for c in codes.values() for k in c.kernels}))
    return OpCode(decls, body, kernels)
