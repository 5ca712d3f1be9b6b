"""edgecraft's C kernels side by side with ARM's CMSIS-NN on the same emulated core, the same
layer shapes and the same instruction counter.

Run: ``.venv/bin/python benchmarks/kernels.py [--targets qemu-m4,qemu-m7,qemu-m55] [--models kws,ad]
[--json]``

CMSIS-NN (``../shared/cmsis-nn``, Apache-2.0) is a yardstick only: this script compiles it from
there into a temporary directory; nothing of it is copied into edgecraft. Without it the script
says so and stops. For each MLPerf Tiny model (``../shared/conformance``: KWS, VWW, ResNet-8, AD;
and TFLM's micro_speech model, which is not in the corpus here, so it is built at its shapes
with random weights as ``benchmarks/emulate.py`` builds it) and each emulated
core:

- edgecraft: the whole model built with the per-operator hook (``emulate --per-op``), one QEMU
  run; each operator's instructions (and instruction classes) between two hooks.
- CMSIS-NN: one program per model calling, for every CONV_2D, DEPTHWISE_CONV_2D,
  FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D and SOFTMAX layer, the CMSIS-NN kernel TFLM calls
  for it (``arm_convolve_wrapper_s8``, ``arm_depthwise_conv_wrapper_s8``,
  ``arm_fully_connected_s8`` / ``_per_channel_s8``, ``arm_avgpool_s8``, ``arm_max_pool_s8``,
  ``arm_softmax_s8``) on that layer's real input (the reference runtime's intermediate tensor),
  with TFLM's requantization parameters, between the same hooks; its outputs are compared
  with the reference runtime's (TFLM's arithmetic) byte for byte.

Both built with arm-none-eabi-gcc -O2 for the core. Per layer and per model (the layers both
have): instructions, the ratio edgecraft / CMSIS-NN, MACs per instruction, outputs identical
(CMSIS-NN's per layer; per model also edgecraft's whole-model outputs against the reference runtime's).
Layers only edgecraft runs (RESHAPE, ADD, PAD, ...) are listed apart. The cycle model's check
(CMSIS-NN's kernels priced for the boards of published MLPerf Tiny runs, weights in flash and
activations in RAM as on a board) is ``benchmarks/cycles.py``, which builds on this file's
CMSIS-NN program.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from edgecraft.codegen.cwriter import c_array
from edgecraft.emulate import EmulateError, emulate
from edgecraft.emulate.firmware import OPT, linker_script
from edgecraft.emulate.machines import machine
from edgecraft.emulate.qemu import QemuRun, class_difference, run_qemu
from edgecraft.formats import read_tflite
from edgecraft.ir.graph import Graph
from edgecraft.ops.base import OpContext
from edgecraft.ops.conv_common import activation_range, conv_multipliers, pool_filter, window_geometry
from edgecraft.ops.fully_connected import multipliers as fc_multipliers
from edgecraft.ops.registry import op_cost
from edgecraft.ops.softmax import input_params
from edgecraft.plan import PROFILE_ALGORITHM, plan_memory
from edgecraft.runtime import run_model

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CMSIS = SHARED / "cmsis-nn"
CORPUS = SHARED / "conformance"
MODELS = {"kws": "kws_ref_model", "vww": "vww_96_int8", "ic": "pretrainedResnet_quant", "ad": "ad01_int8",
          "micro": None}  # TFLM's micro_speech: not in the corpus, built at its shapes (emulate.py)


def load(key: str) -> Graph:
    """The model behind ``key``: a corpus file, or micro_speech's architecture with random weights."""
    if MODELS[key] is None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from emulate import micro_speech

        return micro_speech()
    return read_tflite(CORPUS / f"{MODELS[key]}.tflite")
COMPARED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "SOFTMAX")
SOURCE_DIRS = ("ConvolutionFunctions", "FullyConnectedFunctions", "PoolingFunctions", "SoftmaxFunctions",
               "NNSupportFunctions", "TransposeFunctions")


def intermediates(graph: Graph, x: list[np.ndarray]) -> dict[int, np.ndarray]:
    """Every activation tensor of one inference, by tensor index (the reference runtime)."""
    idx = [i for i, t in enumerate(graph.tensors) if not t.is_constant and i not in graph.inputs]
    outs = run_model(dataclasses.replace(graph, outputs=idx), x)
    found = dict(zip(idx, outs, strict=True))
    found.update(zip(graph.inputs, x, strict=True))
    return found


def _dims(n: int, h: int, w: int, c: int) -> str:
    return f"{{{n}, {h}, {w}, {c}}}"


def layer_call(graph: Graph, j: int, k: int) -> tuple[str, str, str] | None:
    """(declarations, set-up outside the counted part, statements) calling CMSIS-NN for operator
    ``j`` as layer ``k``; None for an op CMSIS-NN is not compared on. The set-up is what TFLM
    does in Prepare: the fully connected kernel sums that the Helium kernels need."""
    op = graph.operators[j]
    if op.type not in COMPARED:
        return None
    ctx = OpContext(op, graph)
    x, y = ctx.req_input(0), ctx.output(0)
    p = f"L{k}"
    decl = [f"static int8_t {p}_out[{y.size}];"]
    lo, hi = activation_range(ctx)
    a = ctx.attrs
    if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        w = ctx.req_input(1)
        assert x.quant is not None and w.quant is not None
        _, kh, kw, _ = w.shape
        _, _, pad_h, pad_w = window_geometry(ctx, x.shape[1], x.shape[2], kh, kw)
        mult, shift = conv_multipliers(x.scale, w.quant.scale, y.scale, y.shape[3])
        bias = graph.tensors[op.inputs[2]].data if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
        decl += [c_array(f"{p}_w", "int8_t", w.data, ""), c_array(f"{p}_m", "int32_t", mult, ""),
                 c_array(f"{p}_s", "int32_t", shift, ""),
                 c_array(f"{p}_b", "int32_t", np.zeros(y.shape[3], np.int32) if bias is None else bias, "")]
        common = (f".input_offset = {-x.zero_point}, .output_offset = {y.zero_point}, "
                  f".stride = {{{a.get('stride_w', 1)}, {a.get('stride_h', 1)}}}, "
                  f".padding = {{{pad_w}, {pad_h}}}, "
                  f".dilation = {{{a.get('dilation_w_factor', 1)}, {a.get('dilation_h_factor', 1)}}}, "
                  f".activation = {{{lo}, {hi}}}")
        dims = (f"  const cmsis_nn_dims {p}_id = {_dims(*x.shape)}, {p}_od = {_dims(*y.shape)}, "
                f"{p}_bd = {_dims(1, 1, 1, y.shape[3])};\n")
        q = f"  cmsis_nn_per_channel_quant_params {p}_q = {{(int32_t *){p}_m, (int32_t *){p}_s}};\n"
        if op.type == "CONV_2D":
            body = (dims + f"  const cmsis_nn_dims {p}_fd = {_dims(*w.shape)};\n" + q
                    + f"  const cmsis_nn_conv_params {p}_p = {{{common}}};\n"
                    f"  ctx.size = arm_convolve_wrapper_s8_get_buffer_size(&{p}_p, &{p}_id, &{p}_fd, "
                    f"&{p}_od);\n"
                    f"  rc |= arm_convolve_wrapper_s8(&ctx, &{p}_p, &{p}_q, &{p}_id, in{k}, &{p}_fd, {p}_w, "
                    f"&{p}_bd, {p}_b, &{p}_od, {p}_out);\n")
        else:
            ch_mult = y.shape[3] // x.shape[3]
            body = (dims + f"  const cmsis_nn_dims {p}_fd = {_dims(1, kh, kw, y.shape[3])};\n" + q
                    + f"  const cmsis_nn_dw_conv_params {p}_p = {{.ch_mult = {ch_mult}, {common}}};\n"
                    f"  ctx.size = arm_depthwise_conv_wrapper_s8_get_buffer_size(&{p}_p, &{p}_id, &{p}_fd, "
                    f"&{p}_od);\n"
                    f"  rc |= arm_depthwise_conv_wrapper_s8(&ctx, &{p}_p, &{p}_q, &{p}_id, in{k}, &{p}_fd, "
                    f"{p}_w, &{p}_bd, {p}_b, &{p}_od, {p}_out);\n")
        return "\n".join(decl), "", body
    if op.type == "FULLY_CONNECTED":
        w = ctx.req_input(1)
        assert w.quant is not None
        units, depth = w.shape
        mult, shift = fc_multipliers(ctx)
        bias = graph.tensors[op.inputs[2]].data if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
        decl += [c_array(f"{p}_w", "int8_t", w.data, ""), c_array(f"{p}_m", "int32_t", mult, ""),
                 c_array(f"{p}_s", "int32_t", shift, ""),
                 c_array(f"{p}_b", "int32_t", np.zeros(units, np.int32) if bias is None else bias, "")]
        rows = x.size // depth
        per_channel = bool(w.quant.per_channel)
        fparams = (f"{{.input_offset = {-x.zero_point}, "
                   f".filter_offset = {0 if per_channel else -w.zero_point}, "
                   f".output_offset = {y.zero_point}, .activation = {{{lo}, {hi}}}}}")
        decl.append(f"static int32_t {p}_ks[{units}];")
        setup = (f"  arm_vector_sum_s8({p}_ks, {depth}, {units}, {p}_w, {-x.zero_point}, "
                 f"{0 if per_channel else -w.zero_point}, {p}_b);\n")
        body = (f"  const cmsis_nn_dims {p}_id = {_dims(rows, 1, 1, depth)}, "
                f"{p}_fd = {_dims(depth, 1, 1, units)}, "
                f"{p}_od = {_dims(rows, 1, 1, units)}, {p}_bd = {_dims(1, 1, 1, units)};\n"
                f"  const cmsis_nn_fc_params {p}_p = {fparams};\n"
                f"  const cmsis_nn_context {p}_ctx = {{{p}_ks, sizeof {p}_ks}};\n")
        if per_channel:
            body += (f"  cmsis_nn_per_channel_quant_params {p}_q = {{(int32_t *){p}_m, (int32_t *){p}_s}};\n"
                     f"  rc |= arm_fully_connected_per_channel_s8(&{p}_ctx, &{p}_p, &{p}_q, &{p}_id, in{k}, "
                     f"&{p}_fd, {p}_w, &{p}_bd, {p}_b, &{p}_od, {p}_out);\n")
        else:
            body += (f"  cmsis_nn_per_tensor_quant_params {p}_q = {{{int(mult[0])}, {int(shift[0])}}};\n"
                     f"  rc |= arm_fully_connected_s8(&{p}_ctx, &{p}_p, &{p}_q, &{p}_id, in{k}, &{p}_fd, "
                     f"{p}_w, &{p}_bd, {p}_b, &{p}_od, {p}_out);\n")
        return "\n".join(decl), setup, body
    if op.type in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        fh, fw = pool_filter(ctx)
        _, _, pad_h, pad_w = window_geometry(ctx, x.shape[1], x.shape[2], fh, fw, dilated=False)
        fn = "arm_avgpool_s8" if op.type == "AVERAGE_POOL_2D" else "arm_max_pool_s8"
        body = (f"  const cmsis_nn_dims {p}_id = {_dims(*x.shape)}, {p}_od = {_dims(*y.shape)}, "
                f"{p}_fd = {_dims(1, fh, fw, 1)};\n"
                f"  const cmsis_nn_pool_params {p}_p = "
                f"{{.stride = {{{a.get('stride_w', 1)}, {a.get('stride_h', 1)}}}, "
                f".padding = {{{pad_w}, {pad_h}}}, .activation = {{{lo}, {hi}}}}};\n"
                + (f"  ctx.size = arm_avgpool_s8_get_buffer_size({y.shape[2]}, {y.shape[3]});\n"
                   if fn == "arm_avgpool_s8" else "")
                + f"  rc |= {fn}(&ctx, &{p}_p, &{p}_id, in{k}, &{p}_fd, &{p}_od, {p}_out);\n")
        return "\n".join(decl), "", body
    beta = float(np.float32(a.get("beta", 1.0)))
    mult_s, shift_s, diff_min = input_params(beta, x.scale)
    depth = x.shape[-1]
    return "\n".join(decl), "", (f"  arm_softmax_s8(in{k}, {x.size // depth}, {depth}, {mult_s}, {shift_s}, "
                             f"{diff_min}, {p}_out);\n")


def cmsis_program(graph: Graph, acts: dict[int, np.ndarray]) -> tuple[str, list[int], int]:
    """The C program running every compared layer between per-layer hooks; (source, operator
    indices in order, output bytes)."""
    decls: list[str] = []
    setup: list[str] = []
    body: list[str] = []
    layers: list[int] = []
    out_bytes = 0
    for j in plan_memory(graph).order:
        made = layer_call(graph, j, len(layers))
        if made is None:
            continue
        k = len(layers)
        op = graph.operators[j]
        decls += [c_array(f"in{k}", "int8_t", acts[op.inputs[0]].reshape(-1), ""), made[0]]
        setup.append(made[1])
        body += ["  ec_marker_op();", made[2]]
        out_bytes += graph.tensors[op.outputs[0]].size
        layers.append(j)
    writes = [f"  if (ec_write(out, L{k}_out, sizeof L{k}_out) != 0) return 5;" for k in range(len(layers))]
    src = "\n".join([
        '#include <stdint.h>', '#include "arm_nnfunctions.h"', '#include "ec_runtime.h"',
        "static int8_t scratch[262144] __attribute__((aligned(16)));", *decls,
        "int main(void) {", "  cmsis_nn_context ctx = {scratch, 0};", "  int rc = 0;",
        *setup, "  ec_marker_start();", *body, "  ec_marker_op();", "  ec_marker_stop();",
        "  if (ctx.size > (int32_t)sizeof scratch) return 6;",
        '  int out = ec_open("output.bin", 1);', "  if (out < 0 || rc != 0) return 4;", *writes,
        "  ec_close(out);", '  ec_print("edgecraft: done 1\\n");', "  return 0;", "}", ""])
    return src, layers, out_bytes


def build_library(target: str, work: Path) -> list[Path]:
    """CMSIS-NN's sources compiled for the core (object files; the linker keeps what is used)."""
    m = machine(target)
    objs = []
    work.mkdir(parents=True, exist_ok=True)
    for d in SOURCE_DIRS:
        for src in sorted((CMSIS / "Source" / d).glob("*.c")):
            if "_f16" in src.stem or "_f32" in src.stem:
                continue  # the float kernels are not compared (and need CMSIS-DSP's types)
            obj = work / f"{d}_{src.stem}.o"
            cmd = ["arm-none-eabi-gcc", *m.cflags, *OPT, "-I", str(CMSIS / "Include"), "-c", str(src),
                   "-o", str(obj)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"CMSIS-NN {src.name} does not compile for {target}: {proc.stderr[:500]}")
            objs.append(obj)
    return objs


def run_cmsis_program(src: str, target: str, objs: list[Path], work: Path, profile: bool = False
                      ) -> QemuRun:
    """Link ``src`` (a main.c calling CMSIS-NN) with edgecraft's startup code and the CMSIS-NN
    objects ``objs`` for ``target``'s machine in ``work``, and run it on QEMU."""
    from importlib import resources

    m = machine(target)
    work.mkdir(parents=True, exist_ok=True)
    runtime = resources.files("edgecraft.emulate").joinpath("runtime")
    for name in ("startup.c", "ec_runtime.h"):
        (work / name).write_text(runtime.joinpath(name).read_text())
    (work / "main.c").write_text(src)
    (work / "link.ld").write_text(linker_script(m))
    cmd = ["arm-none-eabi-gcc", *m.cflags, *OPT, "-I", str(CMSIS / "Include"), "-nostartfiles",
           "--specs=nano.specs", "-Wl,--gc-sections", "-T", "link.ld", "main.c", "startup.c",
           *map(str, objs), "-o", "prog.elf", "-lc", "-lgcc"]
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the CMSIS-NN program does not link for {target}: {proc.stderr[-1500:]}")
    return run_qemu(work / "prog.elf", m, work, profile=profile)


def run_cmsis(graph: Graph, acts: dict[int, np.ndarray], target: str, objs: list[Path], work: Path
              ) -> tuple[list[int], list[dict[str, int]], list[np.ndarray]]:
    """(operator indices, per-layer instruction classes, per-layer outputs) of CMSIS-NN."""

    src, layers, out_bytes = cmsis_program(graph, acts)
    run = run_cmsis_program(src, target, objs, work, profile=True)
    hooks = run.op_class_counts
    per_layer = [class_difference(b, a) for a, b in itertools.pairwise(hooks)]
    raw = np.frombuffer((work / "output.bin").read_bytes(), np.int8)
    assert raw.size == out_bytes
    got, pos = [], 0
    for j in layers:
        n = graph.tensors[graph.operators[j].outputs[0]].size
        got.append(raw[pos:pos + n])
        pos += n
    return layers, per_layer, got


def measure(key: str, target: str, objs: list[Path], work: Path) -> dict[str, Any]:
    graph = load(key)
    x = [np.random.default_rng(0).integers(-128, 128, t.shape).astype(np.int8) for t in graph.input_tensors()]
    acts = intermediates(graph, x)
    ours = emulate(graph, target, [a[None] for a in x], name="bench", per_op=True)
    variant = ("mve" if machine(target).mve else "dsp") if ours.dsp else "portable"
    order = plan_memory(graph, PROFILE_ALGORITHM, kernels=variant).order  # the per-op build's order
    ours_by_op = dict(zip(order, ours.op_classes, strict=False))
    layers, theirs, got = run_cmsis(graph, acts, target, objs, work / key)
    rows, only_ours = [], []
    for j, cls, y in zip(layers, theirs, got, strict=True):
        op = graph.operators[j]
        mine = ours_by_op[j]
        rows.append({"op": j, "type": op.type, "shape": list(graph.tensors[op.outputs[0]].shape),
                     "macs": op_cost(graph, op).macs, "edgecraft": mine["total"], "cmsis_nn": cls["total"],
                     "ratio": round(mine["total"] / cls["total"], 3),
                     "identical": bool(np.array_equal(y, acts[op.outputs[0]].reshape(-1))),
                     "edgecraft_classes": mine, "cmsis_classes": cls})
    for j in order:
        if j not in layers:
            only_ours.append({"op": j, "type": graph.operators[j].type, "edgecraft": ours_by_op[j]["total"]})
    total = {side: sum(r[side] for r in rows) for side in ("edgecraft", "cmsis_nn")}
    macs = sum(r["macs"] for r in rows)
    out: dict[str, Any] = {
        "model": key, "target": target, "layers": rows, "edgecraft_only": only_ours,
        "edgecraft_instructions": total["edgecraft"], "cmsis_instructions": total["cmsis_nn"],
        "ratio": round(total["edgecraft"] / total["cmsis_nn"], 3),
        "edgecraft_macs_per_instruction": round(macs / total["edgecraft"], 3),
        "cmsis_macs_per_instruction": round(macs / total["cmsis_nn"], 3),
        "whole_model_edgecraft_instructions": ours.instructions,
        "all_identical": all(r["identical"] for r in rows),
        # edgecraft's whole-model outputs on the emulated core against the reference runtime's
        "edgecraft_identical": all(np.array_equal(o[0].reshape(-1), acts[k].reshape(-1))
                                   for o, k in zip(ours.outputs, graph.outputs, strict=True)),
    }
    return out


def show(results: list[dict[str, Any]]) -> None:
    console = Console(width=200)
    for r in results:
        t = Table(title=f"{r['model']} on {r['target']}: instructions per layer", title_justify="left")
        for col in ("op", "type", "output", "MACs", "edgecraft", "CMSIS-NN", "ours/CMSIS", "identical"):
            t.add_column(col, justify="left" if col in ("type", "output") else "right")
        for row in r["layers"]:
            t.add_row(str(row["op"]), row["type"], str(row["shape"]), f"{row['macs']:,}",
                      f"{row['edgecraft']:,}", f"{row['cmsis_nn']:,}", f"{row['ratio']:.2f}",
                      "yes" if row["identical"] else "NO")
        console.print(t)
        if r["edgecraft_only"]:
            console.print("edgecraft only (no CMSIS-NN counterpart compared): " + ", ".join(
                f"{o['type']} {o['edgecraft']:,}" for o in r["edgecraft_only"]))
    s = Table(title="Per model (compared layers): edgecraft / CMSIS-NN", title_justify="left")
    for col in ("model", "target", "edgecraft", "CMSIS-NN", "ratio", "MACs/instr ours", "MACs/instr CMSIS",
                "identical", "ours = reference"):
        s.add_column(col, justify="left" if col in ("model", "target") else "right")
    for r in results:
        s.add_row(r["model"], r["target"], f"{r['edgecraft_instructions']:,}", f"{r['cmsis_instructions']:,}",
                  f"{r['ratio']:.3f}", f"{r['edgecraft_macs_per_instruction']:.3f}",
                  f"{r['cmsis_macs_per_instruction']:.3f}", "yes" if r["all_identical"] else "NO",
                  "yes" if r["edgecraft_identical"] else "NO")
    console.print(s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="qemu-m4,qemu-m7,qemu-m55")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = parser.parse_args()
    if not (CMSIS / "Include" / "arm_nnfunctions.h").exists():
        print(f"CMSIS-NN not found at {CMSIS}: nothing to compare against; skipped")
        return
    missing = [k for k in args.models.split(",")
               if MODELS[k] is not None and not (CORPUS / f"{MODELS[k]}.tflite").exists()]
    if missing:
        print(f"conformance models missing in {CORPUS}: {', '.join(missing)}; skipped")
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="edgecraft-kernels-") as tmp:
        for target in args.targets.split(","):
            objs = build_library(target, Path(tmp) / target)
            for key in args.models.split(","):
                try:
                    results.append(measure(key, target, objs, Path(tmp) / target))
                except (RuntimeError, EmulateError) as e:  # e.g. more weights than the machine's memory
                    why = str(e).splitlines()[-1][:200] if "overflowed" not in str(e) else "does not fit"
                    print(f"{key} on {target}: skipped ({why})", file=sys.stderr)
    if args.json:
        print(json.dumps(results))
    else:
        show(results)


if __name__ == "__main__":
    main()
