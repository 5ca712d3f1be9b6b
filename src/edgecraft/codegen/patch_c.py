"""C for a residual block run in bands of rows (:mod:`edgecraft.plan.patch`).

The three ops' own emitted calls are reused unchanged but for their arguments: each kernel gets
a copy of its parameter block with the slice's height (and, for the convolutions, the slice's
top padding), and pointers into the slices of ``x``, the ``y`` row buffer, the ``z`` band and
``w``. Kernels compute every output row from the rows their parameter block describes, so each
output byte is the one the whole-tensor call writes.

The band loop is a static function of the model's C, its tensors, parameter blocks and tables
passed as arguments, so patches of the same shape (DS-CNN's four depthwise -> pointwise pairs)
share one copy of it (flash); its name is a hash of its text, and a guard macro keeps one
definition however many patches declare it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping

from edgecraft.codegen.opcode import OpCode
from edgecraft.ir.graph import Graph
from edgecraft.ops.base import OpContext
from edgecraft.plan.patch import Patch, band_bytes


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


#: Call arguments that differ between patches of one shape and become the band function's:
#: parameter blocks (``&op<j>``), arena slices (``T<k>``, ``S<j>``) and constant arrays.
_ARENA = re.compile(r"[TS]\d+")
_CONST = re.compile(r"(op\d+_\w+|tensor\d+)")


def _params_type(decls: str, j: int) -> str:
    """The C type of op ``j``'s parameter block, from its declarations."""
    found = re.search(rf"static const (\w+) op{j} = ", decls)
    if found is None:
        raise PatchError(f"no parameter block op{j} in the declarations")
    return found.group(1)


def _arguments(call: str) -> list[str]:
    return call[call.index("(") + 1:call.rindex(")")].split(", ")


def emit_patch(graph: Graph, patch: Patch, ptr: Callable[[int], str],
               emit: Callable[[OpContext, str], OpCode]) -> OpCode:
    """The declarations of the three ops (and the band function) and the C statement running
    them band by band; ``emit`` gives an op's own code (``emit(ctx, "op<j>")``), ``ptr`` a
    tensor's C expression."""
    codes = {j: emit(OpContext(graph.operators[j], graph), f"op{j}") for j in patch.ops}
    block = patch.add >= 0
    tensors = {"x": ptr(patch.x), "y": ptr(patch.y), "z": ptr(patch.z)}
    if block:
        tensors["w"] = ptr(patch.w)
    if len(set(tensors.values())) != len(tensors):
        raise PatchError(f"patch tensors share a C name: {tensors}")
    # the band function's parameters: names in its body -> (C type, the argument at the call)
    params: dict[str, tuple[str, str]] = {}
    for role, j in zip(("a", "b", "c"), patch.ops, strict=False):
        params[f"op_{role}"] = (f"const {_params_type(codes[j].decls, j)} *", f"&op{j}")
    for name, expr in tensors.items():
        params[name] = ("int8_t *", expr)
    by_expr = {expr: name for name, expr in tensors.items()}

    def local(j: int, fixed: Mapping[str, str]) -> str:
        """Op j's call with the given arguments rewritten, tensors and tables by parameter name."""
        args: dict[str, str] = dict(fixed)
        for arg in _arguments(codes[j].call):
            if arg in args:
                continue
            if arg in by_expr:
                args[arg] = by_expr[arg]
            elif _ARENA.fullmatch(arg) or _CONST.fullmatch(arg):
                name = f"p{len(params)}"
                params[name] = ("int8_t *" if _ARENA.fullmatch(arg) else "const void *", arg)
                args[arg] = name
        return rewrite_call(codes[j].call, args)

    xrow, yrow, zrow = (band_bytes(graph, k, 1) for k in (patch.x, patch.y, patch.z))
    h, r = patch.height, patch.rows
    ka, pa, kb, pb = patch.kh_a, patch.pad_a, patch.kh_b, patch.pad_b
    x, y, w = tensors["x"], tensors["y"], tensors.get("w", "")
    call_a = local(patch.a, {f"&op{patch.a}": "&pa", x: f"x + x_lo * {xrow}",
                             y: f"y + (y_hi - y_lo) * {yrow}"})
    if block:
        call_b = local(patch.b, {f"&op{patch.b}": "&pb"})
        call_c = local(patch.add, {f"&op{patch.add}": "&pc", x: f"x + r0 * {xrow}", w: f"w + r0 * {xrow}"})
        about = f"z {r} of op b's; each band is added to x's rows into w"
        tail = ["      pc.dims[3] = r1 - r0;", f"      {call_c}"]
        blocks = [f"  {_params_type(codes[patch.add].decls, patch.add)} pc = *op_c;"]
    else:
        call_b = local(patch.b, {f"&op{patch.b}": "&pb", tensors["z"]: f"z + r0 * {zrow}"})
        about = "op b writes its rows of z (which may overlap the rows of x already read)"
        tail = []
        blocks = []
    blocks = [f"  {_params_type(codes[patch.a].decls, patch.a)} pa = *op_a;",
              f"  {_params_type(codes[patch.b].decls, patch.b)} pb = *op_b;", *blocks]
    body = [
        f"  /* ops a, b{', c' if block else ''} in bands of {r} row(s): y holds {patch.y_rows} rows of "
        f"op a's output; {about} */",
        *blocks,
        "  int32_t y_lo = 0, y_hi = 0; /* rows of the first output held in its buffer */",
        f"  for (int32_t r0 = 0; r0 < {h}; r0 += {r}) {{",
        f"    const int32_t r1 = r0 + {r} < {h} ? r0 + {r} : {h};",
        f"    const int32_t lo = r0 - {pb} > 0 ? r0 - {pb} : 0;",
        f"    const int32_t hi = r1 + {kb - 1 - pb} < {h} ? r1 + {kb - 1 - pb} : {h};",
        "    if (lo > y_lo) { /* drop the rows no band needs again, keep the shared ones */",
        f"      if (y_hi > lo) memmove(y, y + (lo - y_lo) * {yrow}, (size_t)(y_hi - lo) * {yrow});",
        "      if (y_hi < lo) y_hi = lo;",
        "      y_lo = lo;",
        "    }",
        "    if (hi > y_hi) { /* the new rows of the first output, from the rows of x they read */",
        f"      const int32_t x_lo = y_hi - {pa} > 0 ? y_hi - {pa} : 0;",
        f"      const int32_t x_hi = hi + {ka - 1 - pa} < {h} ? hi + {ka - 1 - pa} : {h};",
        f"      pa.input.h = x_hi - x_lo; pa.output.h = hi - y_hi; pa.pad_h = {pa} - y_hi + x_lo;",
        f"      {call_a}",
        "      y_hi = hi;",
        "    }",
        f"    pb.input.h = y_hi - y_lo; pb.output.h = r1 - r0; pb.pad_h = {pb} - r0 + y_lo;",
        f"    {call_b}",
        *[line[2:] for line in tail],
        "  }",
    ]
    signature = ", ".join(f"{ctype}{name}" for name, (ctype, _) in params.items())
    text = "\n".join([f"static void ec_band_@({signature}) {{", *body, "}"])
    fn = "ec_band_" + hashlib.sha1(text.encode()).hexdigest()[:10]
    guard = fn.upper()
    helper = f"#ifndef {guard}\n#define {guard}\n{text.replace('ec_band_@', fn, 1)}\n#endif\n"
    call = f"{fn}({', '.join(arg for _, arg in params.values())});"
    comment = (f"/* ops {', '.join(map(str, patch.ops))} in bands of {r} row(s) ({fn}): x {tensors['x']}, "
               f"y {tensors['y']}, z {tensors['z']}{', w ' + w if block else ''} */")
    decls = "".join(codes[j].decls for j in patch.ops) + helper
    kernels = tuple(sorted({k for c in codes.values() for k in c.kernels}))
    needs = tuple(sorted({n for c in codes.values() for n in c.needs}))
    return OpCode(decls, f"{comment}\n  {call}", kernels, needs)
