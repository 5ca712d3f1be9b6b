"""The C emitter: a graph and its memory plan to ``model.h``, ``model.c`` and the kernel sources.

The generated library has no interpreter and no dynamic allocation: weights and biases are
``const`` arrays (they stay in flash), requantization multipliers and shifts are tables computed
here, every activation lives in one static arena at the offset the memory plan gave it (one
commented line per slice), and ``<name>_invoke`` calls the kernels in plan order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from edgecraft.codegen.cwriter import c_array, c_float, c_identifier, c_int, c_type
from edgecraft.codegen.ops_c import CodegenError, OpCode, emit_op
from edgecraft.codegen.patch_c import emit_patch
from edgecraft.ir.graph import Graph, Operator, Tensor
from edgecraft.ir.validate import validate
from edgecraft.ops.base import OpContext
from edgecraft.ops.registry import get_op
from edgecraft.ops.subgraph import c_refusal
from edgecraft.plan import DEFAULT_ALGORITHM, MemoryPlan, plan_memory

ALIGNMENT = 16


@dataclass
class GeneratedModel:
    """The generated C library: file name -> text, plus what callers need to drive it."""

    name: str
    files: dict[str, str]
    arena_bytes: int
    inputs: list[Tensor]
    outputs: list[Tensor]
    dsp: bool
    algorithm: str
    kernels: list[str] = field(default_factory=list)
    mve: bool = False  # the Helium kernel variants (Cortex-M55/M85), DSP ones for the other ops

    @property
    def sources(self) -> list[str]:
        """The .c files to compile."""
        return sorted(f for f in self.files if f.endswith(".c"))


def kernel_source(filename: str) -> str:
    """Text of one kernel file shipped under ``codegen/kernels/``."""
    return resources.files("edgecraft.codegen").joinpath("kernels", filename).read_text()


def specialize(text: str, needs: set[str]) -> str:
    """A kernel file for one model: each optional path (``#ifndef EC_QUICK_X`` / ``#define
    EC_QUICK_X 1``) that none of its operators needs defined to 0 first, so the code is left out."""
    off = [m for m in re.findall(r"#ifndef (EC_QUICK_\w+)\n#define \1 1\n", text) if m not in needs]
    return "".join(f"#define {m} 0 /* no layer of this model takes the path */\n" for m in off) + text


class _Pointers:
    """Tensor index -> C expression; constant tensors become ``static const`` arrays on first use."""

    def __init__(self, graph: Graph, dsp: bool, plan: MemoryPlan, mve: bool = False) -> None:
        self.graph, self.dsp, self.mve = graph, dsp, mve
        self.in_patch = False  # emitting ops run band by band (their ec_conv_params rewritten)
        self.consts: list[str] = []
        self.names: dict[int, str] = {}
        ops = graph.operators
        self.scratch_ops = {id(ops[b.index]): b.index for b in plan.buffers if b.kind == "scratch"}
        self.plan = plan

    def scratch(self, op: Operator) -> str:
        """The operator's planned scratch buffer, or ``NULL`` when the plan gave it none."""
        j = self.scratch_ops.get(id(op))
        return f"S{j}" if j is not None else "NULL"

    def overlap_shift(self, a: int, b: int) -> int | None:
        """How many bytes tensor ``a`` starts above tensor ``b`` where the plan lets them overlap
        (a windowed op's output below its dying input), else None; None inside a patch (its
        bands use buffers of their own)."""
        if self.in_patch:
            return None
        try:
            oa, ob = self.plan.offset_of(a), self.plan.offset_of(b)
        except KeyError:
            return None
        ta, tb = self.graph.tensors[a], self.graph.tensors[b]
        return oa - ob if ob < oa + ta.nbytes and oa < ob + tb.nbytes else None

    def __call__(self, k: int) -> str:
        t = self.graph.tensors[k]
        if t.variable:
            return f"V{k}"
        if t.data is None:
            return f"T{k}" if t.size else f"(({c_type(t.dtype)} *)NULL)"  # empty tensors are not planned
        if k not in self.names:
            self.names[k] = self.const_array(f"tensor{k}", c_type(t.dtype), t.data,
                                             f"tensor {k} '{_label(t.name)}' {_shape_text(t)} {t.dtype}")
        return self.names[k]

    def const_array(self, name: str, ctype: str, values: np.ndarray, comment: str,
                    aligned: bool = False) -> str:
        """Define a const array (``aligned``: on a 16-byte boundary, EC_ALIGNED) and return its name."""
        text = c_array(name, ctype, values, comment)
        self.consts.append(text.replace(" = {", " EC_ALIGNED = {", 1) if aligned else text)
        return name


def _same_memory(plan: MemoryPlan, a: int, b: int) -> bool:
    try:
        return plan.offset_of(a) == plan.offset_of(b)
    except KeyError:
        return False


def _label(name: str, limit: int = 48) -> str:
    """A tensor name for a C comment: the first of TFLite's ';'-joined names, shortened, and
    never closing the comment."""
    first = name.split(";")[0].replace("*/", "* /")
    return first if len(first) <= limit else "..." + first[-(limit - 3):]


def _shape_text(t: Tensor) -> str:
    return "x".join(str(d) for d in t.shape) or "scalar"


def generate(graph: Graph, name: str = "model", dsp: bool = False,
             algorithm: str = DEFAULT_ALGORITHM, mve: bool = False) -> GeneratedModel:
    """Generate the C library for ``graph``; ``dsp`` selects the ACLE DSP kernel variants,
    ``mve`` the Helium (MVE) ones where an op has one and the DSP ones elsewhere (it implies
    ``dsp``; the code then needs an Armv8.1-M core with MVE: Cortex-M55, M85)."""
    dsp = dsp or mve
    variant = "mve" if mve else "dsp" if dsp else "portable"
    validate(graph)
    refusal = c_refusal(graph)
    if refusal is not None:
        raise CodegenError(refusal)
    name = c_identifier(name)
    plan = plan_memory(graph, algorithm=algorithm, alignment=ALIGNMENT, kernels=variant)
    pointers = _Pointers(graph, dsp, plan, mve)
    ptr = pointers
    decls: list[str] = []
    calls: list[str] = []
    stems: set[str] = set()
    needs: set[str] = set()
    op_resets: list[str] = []  # the operators' own state (OpCode.resets)
    patch_at = {p.a: p for p in plan.patches}
    in_patch = {j for p in plan.patches for j in p.ops[1:]}
    for step, j in enumerate(plan.order):
        op = graph.operators[j]
        if j in in_patch:
            continue
        if j in patch_at:  # two or three steps in one block; the profiling hooks count it as the first
            fused = patch_at[j].ops
            ptr.in_patch = True
            code = emit_patch(graph, patch_at[j], ptr, lambda ctx, p: emit_op(ctx, p, ptr))
            ptr.in_patch = False
            decls.append(code.decls)
            about = f"steps {step}..{step + len(fused) - 1}: ops {', '.join(map(str, fused))}"
            calls.append(f"  /* {about} patch by patch */\n  EC_OP_HOOK();\n  {code.call}\n"
                         + "  EC_OP_HOOK();\n" * (len(fused) - 1))
            stems.update(code.kernels)
            needs.update(code.needs)
            continue
        code = emit_op(OpContext(op, graph), f"op{j}", ptr)
        if get_op(op.type).view and _same_memory(plan, op.inputs[0], op.outputs[0]):
            code = OpCode("", "/* planned as a view of its input: nothing to copy */", ())
        if code.decls:
            decls.append(code.decls)
        out = graph.tensors[op.outputs[0]]
        calls.append(f"  /* step {step}: op {j} {op.type} -> '{_label(out.name)}' {_shape_text(out)} */\n"
                     f"  EC_OP_HOOK();\n  {code.call}\n")
        stems.update(code.kernels)
        needs.update(code.needs)
        op_resets.extend(f"  {line}" for line in code.resets)
    for k in graph.outputs:
        ptr(k)  # a constant output still needs its array

    files = {
        f"{name}.h": _header(graph, name, plan.arena_bytes),
        f"{name}.c": _source(graph, name, plan, pointers.consts, decls, calls, op_resets),
        "ec_kernels.h": kernel_source("ec_kernels.h"),
    }
    if any(stem.endswith("_dsp") for stem in stems):
        files["ec_dsp.h"] = kernel_source("ec_dsp.h")
    if any(stem.endswith("_mve") for stem in stems):
        files["ec_mve.h"] = kernel_source("ec_mve.h")
    for stem in sorted(stems):
        files[f"ec_{stem}.c"] = specialize(kernel_source(f"ec_{stem}.c"), needs)
    return GeneratedModel(name, files, plan.arena_bytes, graph.input_tensors(), graph.output_tensors(),
                          dsp, plan.algorithm, sorted(stems), mve)


def _state_arrays(graph: Graph) -> tuple[list[str], list[str]]:
    """State (variable) tensors: static arrays outside the arena, holding their values from one
    invoke to the next and starting where TFLM's reset puts them (int8 at its zero point, else
    zero), and the statements of ``<name>_reset`` that put them back there."""
    arrays, resets = ["/* ---- state kept between invocations (LSTM hidden and cell state) ---- */"], []
    for k, t in enumerate(graph.tensors):
        if not t.variable:
            continue
        fill = int(t.initial_state().reshape(-1)[0]) if t.size else 0
        n = max(t.size, 1)
        values = ", ".join([str(fill)] * n)
        arrays.append(f"static {c_type(t.dtype)} state{k}[{n}] EC_ALIGNED = {{{values}}};"
                      f"  /* '{_label(t.name)}' {_shape_text(t)} {t.dtype} */")
        arrays.append(f"#define V{k} state{k}")
        resets.append(f"  for (int i = 0; i < {t.size}; ++i) state{k}[i] = {fill};")
    return (arrays if resets else []), resets


def _signature(graph: Graph, name: str) -> str:
    ins, outs = graph.input_tensors(), graph.output_tensors()
    args = []
    for i, t in enumerate(ins):
        args.append(f"const {c_type(t.dtype)} *input{i if len(ins) > 1 else ''}")
    for i, t in enumerate(outs):
        args.append(f"{c_type(t.dtype)} *output{i if len(outs) > 1 else ''}")
    return f"int {name}_invoke({', '.join(args)})"


def _header(graph: Graph, name: str, arena_bytes: int) -> str:
    up = name.upper()
    lines = [
        f"/* {name}: generated by edgecraft. Dependency-free C99, no dynamic allocation. */",
        f"#ifndef {up}_H", f"#define {up}_H", "", "#include <stdint.h>", "",
        "#ifdef __cplusplus", 'extern "C" {', "#endif", "",
        f"#define {up}_NUM_INPUTS {len(graph.inputs)}",
        f"#define {up}_NUM_OUTPUTS {len(graph.outputs)}",
        f"#define {up}_ARENA_BYTES {arena_bytes}",
    ]
    for kind, tensors in (("INPUT", graph.input_tensors()), ("OUTPUT", graph.output_tensors())):
        for i, t in enumerate(tensors):
            about = f"'{_label(t.name)}' {_shape_text(t)} {t.dtype}"
            lines.append(f"#define {up}_{kind}{i}_SIZE {t.size}  /* {about} */")
    lines += [
        "",
        "/* Runs the model once; buffers hold the inputs and receive the outputs in the order of",
        " * the model's inputs and outputs. Returns 0, or a negative number on a runtime error. */",
        _signature(graph, name) + ";",
        "",
        "/* The model's own input and output tensors, inside its arena: write the inputs there and",
        " * read the outputs there to run without buffers of your own (pass these same pointers to",
        f" * {name}_invoke, which then copies nothing). Inputs are overwritten by each invoke (refill",
        " * them every time); outputs stay valid until the next invoke. NULL for a bad index. */",
        f"void *{name}_input_buffer(int i);",
        f"void *{name}_output_buffer(int i);",
        "",
        "/* Puts the model's state (an LSTM's hidden and cell state, a noise estimate) back where it",
        " * starts; it otherwise carries over from one invoke to the next. No state: does nothing. */",
        f"void {name}_reset(void);",
        "",
        "/* Shapes and quantization (real = scale * (q - zero_point)) of inputs and outputs. */",
    ]
    for kind in ("input", "output"):
        lines += [
            f"int {name}_{kind}_rank(int i);",
            f"int32_t {name}_{kind}_dim(int i, int d);",
            f"int32_t {name}_{kind}_size(int i);",
            f"float {name}_{kind}_scale(int i);",
            f"int32_t {name}_{kind}_zero_point(int i);",
        ]
    lines += ["", "#ifdef __cplusplus", "}", "#endif", "", f"#endif /* {up}_H */", ""]
    return "\n".join(lines)


def _accessors(name: str, kind: str, tensors: list[Tensor]) -> str:
    n = len(tensors)
    rank = max((len(t.shape) for t in tensors), default=1) or 1
    rows = [(list(t.shape) or [1]) + [0] * (rank - max(len(t.shape), 1)) for t in tensors]
    dims = ", ".join("{" + ", ".join(str(d) for d in row) + "}" for row in rows)
    ranks = ", ".join(str(len(t.shape)) for t in tensors)
    sizes = ", ".join(str(t.size) for t in tensors)
    scales = ", ".join(c_float(t.scale) for t in tensors)
    zps = ", ".join(c_int(t.zero_point) for t in tensors)
    guard = f"if (i < 0 || i >= {n}) return 0;"
    return (
        f"static const int32_t {kind}_dims[{n}][{rank}] = {{{dims}}};\n"
        f"static const int {kind}_ranks[{n}] = {{{ranks}}};\n"
        f"static const int32_t {kind}_sizes[{n}] = {{{sizes}}};\n"
        f"static const float {kind}_scales[{n}] = {{{scales}}};\n"
        f"static const int32_t {kind}_zero_points[{n}] = {{{zps}}};\n"
        f"int {name}_{kind}_rank(int i) {{ {guard} return {kind}_ranks[i]; }}\n"
        f"int32_t {name}_{kind}_dim(int i, int d) {{\n  {guard}\n"
        f"  return d >= 0 && d < {kind}_ranks[i] ? {kind}_dims[i][d] : 0;\n}}\n"
        f"int32_t {name}_{kind}_size(int i) {{ {guard} return {kind}_sizes[i]; }}\n"
        f"float {name}_{kind}_scale(int i) {{ {guard} return {kind}_scales[i]; }}\n"
        f"int32_t {name}_{kind}_zero_point(int i) {{ {guard} return {kind}_zero_points[i]; }}\n"
    )


def _source(graph: Graph, name: str, plan: MemoryPlan, consts: list[str], decls: list[str],
            calls: list[str], op_resets: list[str]) -> str:
    slices = []
    for b in sorted(plan.buffers, key=lambda b: (b.offset, b.kind, b.index)):
        if b.kind == "scratch":
            slices.append(
                f"#define S{b.index} ((int8_t *)(arena + {b.offset}))"
                f"  /* [{b.offset}, {b.offset + b.size}) scratch of op {b.index} "
                f"{graph.operators[b.index].type}, step {b.first} */"
            )
            continue
        t = graph.tensors[b.index]
        alias = f", view of T{b.alias_of}" if b.alias_of is not None else ""
        slices.append(
            f"#define T{b.index} (({c_type(t.dtype)} *)(arena + {b.offset}))"
            f"  /* [{b.offset}, {b.offset + b.size}) '{_label(t.name)}' {_shape_text(t)} {t.dtype}, "
            f"steps {b.first}..{b.last}{alias} */"
        )
    ins, outs = graph.inputs, graph.outputs
    copy_in, in_ptrs, out_ptrs, copy_out = [], [], [], []
    for i, k in enumerate(ins):
        arg = f"input{i if len(ins) > 1 else ''}"
        copy_in.append(f"  if ((const void *){arg} != (const void *)T{k}) memcpy(T{k}, {arg}, "
                       f"{graph.tensors[k].nbytes});")
        in_ptrs.append(f"(void *)T{k}")
    for i, k in enumerate(outs):
        src = f"tensor{k}" if graph.tensors[k].data is not None else f"T{k}"
        arg = f"output{i if len(outs) > 1 else ''}"
        copy_out.append(f"  if ((const void *){arg} != (const void *){src}) memcpy({arg}, {src}, "
                        f"{graph.tensors[k].nbytes});")
        out_ptrs.append(f"(void *){src}")
    buffers = []
    for kind, ptrs in (("input", in_ptrs), ("output", out_ptrs)):
        cases = " ".join(f"if (i == {n}) return {e};" for n, e in enumerate(ptrs))
        buffers.append(f"void *{name}_{kind}_buffer(int i) {{ {cases} return NULL; }}")
    arena = max(plan.arena_bytes, 1)
    states, resets = _state_arrays(graph)
    return "\n".join([
        f"/* {name}: generated by edgecraft from graph '{_label(graph.name)}'. Do not edit. */",
        f'#include "{name}.h"', "", "#include <stddef.h>", "#include <string.h>", "",
        '#include "ec_kernels.h"', "",
        "#if defined(__GNUC__)", "#define EC_ALIGNED __attribute__((aligned(16)))", "#else",
        "#define EC_ALIGNED", "#endif", "",
        "/* Per-operator profiling hook (edgecraft emulate --per-op builds with -DEC_PROFILE). */",
        "#ifdef EC_PROFILE", "void ec_marker_op(void);", "#define EC_OP_HOOK() ec_marker_op()", "#else",
        "#define EC_OP_HOOK() ((void)0)", "#endif", "",
        "/* ---- weights and biases (const: they stay in flash) ---- */", *consts,
        "/* ---- operator parameters, computed at build time ---- */", *decls,
        f"/* ---- the arena: {plan.arena_bytes} bytes, planned by '{plan.algorithm}'; "
        "one slice per line ---- */",
        f"static int8_t arena[{arena}] EC_ALIGNED;",
        *slices, "",
        *states,
        f"void {name}_reset(void) {{", *resets, *op_resets, "}", "",
        _accessors(name, "input", graph.input_tensors()),
        _accessors(name, "output", graph.output_tensors()),
        *buffers, "",
        _signature(graph, name) + " {",
        *copy_in,
        *calls,
        "  EC_OP_HOOK();",
        *copy_out,
        "  return 0;",
        "}", "",
    ])
