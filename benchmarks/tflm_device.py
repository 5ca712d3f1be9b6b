"""TensorFlow Lite Micro itself on the emulated core: its real 32-bit arena and instructions.

Run: ``.venv/bin/python benchmarks/tflm_device.py --tflm-src DIR [--target qemu-m4]
[--models DIR] [--json]``

The other benchmarks compare edgecraft with TFLM's Python package, a 64-bit host build whose
arena "tail" (interpreter structs, per-node and per-tensor records) is laid out with 8-byte
pointers. A microcontroller's TFLM is 32-bit. This script builds TFLM from its own source tree
with arm-none-eabi-g++ for an emulated core (reference kernels, ``-O2``, TFLM's own compiler
flags), links one program per model (the model's bytes in flash, a ``MicroMutableOpResolver``
with exactly the model's operators, a static arena), runs it on QEMU and reports:

- ``arena_used_bytes()`` after ``AllocateTensors()``: TFLM's whole arena on the device (head and
  tail), the denominator of issue 14's "half of TFLM's whole arena";
- the instructions of one ``Invoke()`` (TFLM's reference kernels and its interpreter loop) on
  the same counter as ``edgecraft emulate``; and the painted peak stack of that ``Invoke()``;
- whether its output bytes equal edgecraft's runtime on the same input (they must).

TFLM's source is not vendored: pass a checkout (``git clone
https://github.com/tensorflow/tflite-micro``) whose third-party headers have been fetched
(``make -f tensorflow/lite/micro/tools/make/Makefile third_party_downloads`` puts flatbuffers,
gemmlowp and ruy under ``tensorflow/lite/micro/tools/make/downloads``), or set ``TFLM_SRC``.
The C++ standard library headers come from Debian's ``libstdc++-arm-none-eabi-newlib``. The
compiled library is cached per source tree and core under ``~/.cache/edgecraft/tflm-*``. The
memory benchmark (``benchmarks/memory.py --tflm-src DIR``) uses :func:`run_tflm` for its
measured 32-bit column.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from edgecraft.emulate.firmware import linker_script
from edgecraft.emulate.machines import machine
from edgecraft.emulate.qemu import cache_dir, run_qemu
from edgecraft.formats import read_tflite_bytes
from edgecraft.runtime import Interpreter

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "conformance"
DOWNLOADS = Path("tensorflow/lite/micro/tools/make/downloads")
#: TFLM's own flags for a cortex_m_generic release build (tools/make/Makefile, COMMON_FLAGS,
#: CXXFLAGS), less the debug log (kept: errors print through the semihosting console).
FLAGS = ("-O2", "-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics",
         "-fno-unwind-tables", "-fno-asynchronous-unwind-tables", "-ffunction-sections",
         "-fdata-sections", "-fmessage-length=0", "-DTF_LITE_STATIC_MEMORY",
         "-DTF_LITE_DISABLE_X86_NEON", "-DNDEBUG", "-w")
#: What is not part of the library on a device: tests, test doubles, the host debug log (the
#: cortex_m_generic one, with a callback, is used instead) and the cortex_m_generic timer (it
#: needs a vendor's CMSIS device header; the portable one reports no clock).
SKIP = re.compile(r"_test\.cc$|fake_micro_context|mock_micro_graph|test_helper|"
                  r"micro/(debug_log|system_setup)\.cc$|cortex_m_generic/micro_time\.cc$")
ARENA = 512 * 1024


class TflmSourceError(RuntimeError):
    """The TFLM source tree is missing or incomplete."""


@dataclass
class TflmDeviceRun:
    """What TFLM reported and did on the emulated core for one model."""

    arena_used: int  # arena_used_bytes() after AllocateTensors(): head + tail, 32-bit
    instructions: int  # one Invoke()
    stack_bytes: int  # painted peak stack of that Invoke()
    output: list[np.ndarray]


def tflm_source(path: str | Path | None) -> Path:
    """The TFLM checkout to build from (``path``, else ``$TFLM_SRC``), checked for completeness."""
    raw = path or os.environ.get("TFLM_SRC")
    if not raw:
        raise TflmSourceError("no TFLM source: pass --tflm-src DIR (a tflite-micro checkout) or set TFLM_SRC")
    src = Path(raw).resolve()
    if not (src / "tensorflow/lite/micro/micro_interpreter.h").is_file():
        raise TflmSourceError(f"{src} is not a tflite-micro checkout "
                              "(no tensorflow/lite/micro/micro_interpreter.h)")
    for need in ("flatbuffers/include/flatbuffers/flatbuffers.h", "gemmlowp/fixedpoint/fixedpoint.h",
                 "ruy/ruy/profiler/instrumentation.h"):
        if not (src / DOWNLOADS / need).is_file():
            raise TflmSourceError(
                f"{src / DOWNLOADS / need} is missing: run `make -f "
                "tensorflow/lite/micro/tools/make/Makefile third_party_downloads` in the checkout first")
    if shutil.which("arm-none-eabi-g++") is None:
        raise TflmSourceError("arm-none-eabi-g++ not found: apt-get install g++-arm-none-eabi "
                              "libstdc++-arm-none-eabi-newlib")
    return src


def library_sources(src: Path) -> list[Path]:
    """TFLM's portable library for a device: interpreter, allocator, planners, reference kernels."""
    micro = src / "tensorflow/lite/micro"
    globs = [micro.glob("*.cc"), micro.glob("kernels/*.cc"), micro.glob("arena_allocator/*.cc"),
             micro.glob("memory_planner/*.cc"), micro.glob("tflite_bridge/*.cc"),
             micro.glob("cortex_m_generic/*.cc"), (src / "tensorflow/lite/core").glob("*/*.cc"),
             (src / "tensorflow/lite/kernels/internal").glob("*.cc"),
             [src / "tensorflow/lite/kernels/kernel_util.cc"],
             (src / "tensorflow/compiler/mlir/lite").rglob("*.cc")]
    return sorted(p for g in globs for p in g if not SKIP.search(p.relative_to(src).as_posix()))


def _includes(src: Path) -> list[str]:
    d = src / DOWNLOADS
    return ["-I", str(src), "-I", str(d / "flatbuffers/include"), "-I", str(d / "gemmlowp"),
            "-I", str(d / "ruy")]


def build_library(src: Path, target: str) -> Path:
    """``libtflm.a`` for ``target``'s core, compiled once per source tree and core (cached)."""
    m = machine(target)
    sources = library_sources(src)
    key = hashlib.sha256("\n".join([*m.cflags, *FLAGS, *(f"{p}:{p.stat().st_mtime_ns}" for p in sources)])
                         .encode()).hexdigest()[:16]
    out = cache_dir() / f"tflm-{target}-{key}"
    lib = out / "libtflm.a"
    if lib.is_file():
        return lib
    out.mkdir(parents=True, exist_ok=True)
    objs = [out / "obj" / p.relative_to(src).with_suffix(".o") for p in sources]

    def compile_one(pair: tuple[Path, Path]) -> str:
        source, obj = pair
        obj.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["arm-none-eabi-g++", *m.cflags, *FLAGS, *_includes(src), "-c", str(source),
                               "-o", str(obj)], capture_output=True, text=True)
        return "" if proc.returncode == 0 else f"{source}: {proc.stderr.strip()[-800:]}"

    print(f"building TFLM ({len(sources)} files) for {target} in {out} ...", file=sys.stderr)
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        errors = [e for e in pool.map(compile_one, zip(sources, objs, strict=True)) if e]
    if errors:
        raise TflmSourceError(f"TFLM does not compile for {target}: {errors[0]}")
    subprocess.run(["arm-none-eabi-ar", "rcs", str(lib), *map(str, objs)], check=True)
    return lib


def _resolver_methods(src: Path) -> dict[str, str]:
    """Builtin operator name, squashed (``conv2d``) -> its ``MicroMutableOpResolver`` method."""
    header = (src / "tensorflow/lite/micro/micro_mutable_op_resolver.h").read_text()
    return {name[3:].lower(): name for name in re.findall(r"TfLiteStatus (Add[A-Z]\w*)\(", header)}


MAIN = r"""
#include <string.h>
#include "tensorflow/lite/micro/cortex_m_generic/debug_log_callback.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
extern "C" {
#include "ec_runtime.h"
}
extern "C" const unsigned char ec_model[];
alignas(16) static uint8_t arena[@ARENA@];

static void log_line(const char* s) { ec_print(s); }

int main() {
  RegisterDebugLogCallback(log_line);
  const tflite::Model* model = tflite::GetModel(ec_model);
  static tflite::MicroMutableOpResolver<@NOPS@> resolver;
@ADDS@
  static tflite::MicroInterpreter interpreter(model, resolver, arena, sizeof(arena));
  if (interpreter.AllocateTensors() != kTfLiteOk) { ec_print("tflm: AllocateTensors failed\n"); return 3; }
  ec_print_uint("tflm: arena_used ", (uint32_t)interpreter.arena_used_bytes());
  int in = ec_open("input.bin", 0);
  for (size_t i = 0; i < interpreter.inputs_size(); ++i) {
    TfLiteTensor* t = interpreter.input(i);
    if (ec_read(in, t->data.raw, t->bytes) != 0) { ec_print("tflm: short input\n"); return 4; }
  }
  ec_close(in);
  uint8_t* sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  ec_paint_stack();
  ec_marker_start();
  TfLiteStatus status = interpreter.Invoke();
  ec_marker_stop();
  ec_print_uint("edgecraft: stack ", ec_stack_used(sp));
  if (status != kTfLiteOk) { ec_print("tflm: Invoke failed\n"); return 5; }
  int out = ec_open("output.bin", 1);
  for (size_t i = 0; i < interpreter.outputs_size(); ++i) {
    TfLiteTensor* t = interpreter.output(i);
    ec_write(out, t->data.raw, t->bytes);
  }
  ec_close(out);
  ec_print("edgecraft: done 1\n");
  return 0;
}
"""

STUBS = r"""
#include <stddef.h>
extern "C" {
#include "ec_runtime.h"
}
/* Virtual destructors reference the deleting operator delete; TFLM never frees on a device. */
void operator delete(void*) noexcept {}
void operator delete(void*, size_t) noexcept {}
/* The C library's process hooks, reached only through abort() (TFLITE_ABORT) and the
 * registration of static destructors: there is no heap and no process on the bare core. */
extern "C" {
void* __dso_handle = 0;
void __cxa_pure_virtual() { ec_exit(98); }
void _exit(int code) { ec_exit(code); for (;;) {} }
int _kill(int, int) { return -1; }
int _getpid(void) { return 1; }
void* _sbrk(ptrdiff_t) { return (void*)-1; }
}
"""


def run_tflm(model: bytes, target: str, inputs: list[np.ndarray], work: Path, src: Path) -> TflmDeviceRun:
    """Build TFLM's program for ``model`` and run it once on ``target``'s emulated core."""
    m = machine(target)
    lib = build_library(src, target)
    graph = read_tflite_bytes(model)
    methods = _resolver_methods(src)
    names = sorted({op.type for op in graph.operators})
    missing = [n for n in names if n.replace("_", "").lower() not in methods]
    if missing:
        raise TflmSourceError(f"TFLM's resolver has no method for {', '.join(missing)}")
    adds = "\n".join(f"  resolver.{methods[n.replace('_', '').lower()]}();" for n in names)
    work.mkdir(parents=True, exist_ok=True)
    runtime = resources.files("edgecraft.emulate").joinpath("runtime")
    for name in ("startup.c", "ec_runtime.h"):
        (work / name).write_text(runtime.joinpath(name).read_text())
    (work / "model.tflite").write_bytes(model)
    (work / "model.S").write_text('  .section .rodata.ec_model\n  .balign 16\n  .global ec_model\n'
                                  'ec_model:\n  .incbin "model.tflite"\n')
    (work / "main.cc").write_text(MAIN.replace("@ARENA@", str(ARENA)).replace("@NOPS@", str(len(names)))
                                  .replace("@ADDS@", adds))
    (work / "stubs.cc").write_text(STUBS)
    (work / "link.ld").write_text(linker_script(m))
    (work / "input.bin").write_bytes(b"".join(np.ascontiguousarray(x).tobytes() for x in inputs))
    cmd = ["arm-none-eabi-g++", *m.cflags, *FLAGS, *_includes(src), "-nostartfiles", "--specs=nano.specs",
           "-Wl,--gc-sections", "-T", "link.ld", "main.cc", "stubs.cc", "model.S", "-x", "c", "startup.c",
           "-x", "none", str(lib), "-o", "prog.elf", "-lm", "-lc", "-lgcc"]
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    if proc.returncode != 0:
        raise TflmSourceError(f"TFLM's program does not link for {target}: {proc.stderr[-1500:]}")
    run = run_qemu(work / "prog.elf", m, work)
    arena = re.search(r"tflm: arena_used (\d+)", run.stdout)
    if arena is None or not (work / "output.bin").is_file():
        raise RuntimeError(f"TFLM did not run on {target}: {run.stdout[-800:]}")
    raw = (work / "output.bin").read_bytes()
    outputs, pos = [], 0
    for t in graph.output_tensors():
        n = t.nbytes
        outputs.append(np.frombuffer(raw[pos:pos + n], t.np_dtype).reshape(t.shape))
        pos += n
    return TflmDeviceRun(int(arena.group(1)), run.instructions, run.stack_bytes, outputs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tflm-src", default=None, help="a tflite-micro checkout (default: $TFLM_SRC)")
    ap.add_argument("--target", default="qemu-m4")
    ap.add_argument("--models", type=Path, default=CORPUS)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    try:
        src = tflm_source(args.tflm_src)
    except TflmSourceError as exc:
        print(f"skipped: {exc}")
        return
    rows = []
    for path in sorted(args.models.glob("*.tflite")):
        model = path.read_bytes()
        graph = read_tflite_bytes(model)
        if any(t.np_dtype.kind == "f" for t in graph.input_tensors()):
            print(f"{path.stem}: float input, skipped (the comparison is of int8 models)", file=sys.stderr)
            continue
        rng = np.random.default_rng(0)
        x = [rng.integers(-128, 128, t.shape, dtype=t.np_dtype) for t in graph.input_tensors()]
        ours = Interpreter(graph).run(x)
        run = run_tflm(model, args.target, x, cache_dir() / "tflm-runs" / path.stem, src)
        exact = all(np.array_equal(a, b.reshape(a.shape)) for a, b in zip(ours, run.output, strict=True))
        rows.append({"model": path.stem, "target": args.target, "arena_used": run.arena_used,
                     "instructions": run.instructions, "stack_bytes": run.stack_bytes, "exact": exact})
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"TFLM (reference kernels, -O2) on {args.target}: whole arena after AllocateTensors, one Invoke")
    print(f"{'model':28} {'arena_used':>11} {'instructions':>13} {'stack':>7} exact")
    for r in rows:
        print(f"{r['model']:28} {r['arena_used']:>11,} {r['instructions']:>13,} {r['stack_bytes']:>7,} "
              f"{r['exact']}")


if __name__ == "__main__":
    main()
