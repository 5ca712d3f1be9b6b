"""Cross-compile a generated model into a bare-metal ELF for one QEMU machine, and measure it.

The image is the model library (``model.c`` and its kernels), a small harness that reads the
inputs and writes the outputs through semihosting, and the runtime (vector table, reset
handler). Flash and RAM of the model part alone come from the sizes of the symbols the model's
object files define, looked up in the linked ELF (so only what the linker kept counts); the
harness, the runtime and the C library are left out.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from edgecraft.codegen.cwriter import c_type
from edgecraft.codegen.emit import GeneratedModel
from edgecraft.emulate.machines import Machine

CC = "arm-none-eabi-gcc"
NM = "arm-none-eabi-nm"
WARNINGS = ("-std=c99", "-Wall", "-Wextra", "-Werror")
OPT = ("-O2", "-ffunction-sections", "-fdata-sections")
RUNTIME_FILES = ("startup.c", "ec_runtime.h")
INSTALL_HINT = ("install the Cortex-M toolchain: apt-get install --no-install-recommends "
                "gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm")


class EmulateError(RuntimeError):
    """Building or running on an emulated machine failed; the message says why and what to do."""


class DoesNotFitError(EmulateError):
    """The model does not fit the machine's flash or RAM."""


class ToolMissingError(EmulateError):
    """A compiler or QEMU is not installed; the message says what to install."""


@dataclass(frozen=True)
class Firmware:
    """A linked image and its sizes in bytes."""

    elf: Path
    flash_bytes: int  # model part: code + constants + initialized data
    ram_bytes: int  # model part: initialized data + zeroed data (the arena)
    image_flash_bytes: int  # whole image: text + data
    image_ram_bytes: int  # whole image: data + bss, the reserved stack not included
    symbols: dict[str, int]


def require_tool(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise ToolMissingError(f"{tool} not found; {INSTALL_HINT}")
    return path


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    require_tool(cmd[0])
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def harness_source(model: GeneratedModel) -> str:
    """``main``: reads N samples from ``input.bin`` (a uint32 count, then the inputs of each
    sample back to back), runs each, appends the outputs to ``output.bin``. The first
    inference is bracketed by the counting markers and measured for stack. Inputs are read
    straight into the model's arena and outputs written from it (``<name>_input_buffer``,
    ``<name>_output_buffer``): the harness keeps no buffers of its own."""
    name = model.name
    bufs, reads, writes, args = [], [], [], []
    for i, t in enumerate(model.inputs):
        bufs.append(f"  {c_type(t.dtype)} *ec_in{i} = ({c_type(t.dtype)} *){name}_input_buffer({i});")
        reads.append(f"    if (ec_read(in, ec_in{i}, {t.nbytes}) != 0) return 3;")
        args.append(f"ec_in{i}")
    for i, t in enumerate(model.outputs):
        bufs.append(f"  {c_type(t.dtype)} *ec_out{i} = ({c_type(t.dtype)} *){name}_output_buffer({i});")
        writes.append(f"    if (ec_write(out, ec_out{i}, {t.nbytes}) != 0) return 5;")
        args.append(f"ec_out{i}")
    call = f"{name}_invoke({', '.join(args)})"
    return "\n".join([
        f"/* QEMU harness for {name}: semihosted file I/O around {name}_invoke. */",
        "#include <stdint.h>", f'#include "{name}.h"', '#include "ec_runtime.h"', "",
        "int main(void) {", *bufs,
        '  int in = ec_open("input.bin", 0), out = ec_open("output.bin", 1);',
        "  uint32_t n = 0;",
        "  if (in < 0 || out < 0 || ec_read(in, &n, 4) != 0) return 2;",
        "  for (uint32_t k = 0; k < n; ++k) {",
        *reads,
        "    int rc;",
        "    if (k == 0) {",
        "      uint8_t *sp;",
        '      __asm__ volatile("mov %0, sp" : "=r"(sp));',
        "      ec_paint_stack();",
        "      ec_marker_start();",
        f"      rc = {call};",
        "      ec_marker_stop();",
        '      ec_print_uint("edgecraft: stack ", ec_stack_used(sp));',
        '      ec_print("\\n");',
        "    } else {",
        f"      rc = {call};",
        "    }",
        "    if (rc != 0) return 4;",
        *writes,
        "  }",
        "  ec_close(in);",
        "  ec_close(out);",
        '  ec_print_uint("edgecraft: done ", n);',
        '  ec_print("\\n");',
        "  return 0;",
        "}", "",
    ])


def linker_script(m: Machine) -> str:
    """The linker script for machine ``m``: code in its flash, constants in its flash or, where
    the machine has one, its larger constant memory (``const_origin``), data in its RAM."""
    text = resources.files("edgecraft.emulate").joinpath("runtime", "cortex_m.ld").read_text()
    region = (f"  CONST (r) : ORIGIN = {hex(m.const_origin)}, LENGTH = {hex(m.const_size)}\n"
              if m.const_size else "")
    text = text.replace("@CONST_REGION@", region).replace("@CONST@", "CONST" if m.const_size else "FLASH")
    for key, value in (("FLASH_ORIGIN", m.flash_origin), ("FLASH_SIZE", m.flash_size),
                       ("RAM_ORIGIN", m.ram_origin), ("RAM_SIZE", m.ram_size),
                       ("STACK_SIZE", m.stack_size)):
        text = text.replace(f"@{key}@", hex(value))
    return text


def _defined_symbols(objects: list[Path], cwd: Path) -> set[str]:
    proc = _run([NM, "--defined-only", *map(str, objects)], cwd)
    return {parts[2] for line in proc.stdout.splitlines() if len(parts := line.split()) == 3}


def _symbol_sizes(elf: Path, cwd: Path) -> list[tuple[str, str, int]]:
    proc = _run([NM, "-S", "--size-sort", str(elf)], cwd)
    out = []
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4:
            out.append((parts[3], parts[2], int(parts[1], 16)))
    return out


def _fit_error(stderr: str, model: GeneratedModel, m: Machine) -> DoesNotFitError | None:
    found = re.findall(r"region `(\w+)' overflowed by (\d+) bytes", stderr)
    if not found:
        return None
    parts = []
    for region, short in found:
        have = {"RAM": m.ram_size, "CONST": m.const_size}.get(region, m.flash_size)
        parts.append(f"{region} short by {int(short):,} bytes (the machine has {have:,})")
    return DoesNotFitError(
        f"model '{model.name}' does not fit {m.slug} ({m.qemu_machine}, {m.core}): {'; '.join(parts)}; "
        f"its arena alone is {model.arena_bytes:,} bytes. Pick a target with more memory "
        "(qemu-m4, qemu-m7) or a smaller model"
    )


def build_firmware(model: GeneratedModel, m: Machine, workdir: Path, profile: bool = False) -> Firmware:
    """Write, compile and link ``model`` for machine ``m`` in ``workdir``; ``profile`` turns on
    the per-operator hook (a call before each operator) for per-operator instruction counts."""
    workdir.mkdir(parents=True, exist_ok=True)
    for fname, text in model.files.items():
        (workdir / fname).write_text(text)
    runtime = resources.files("edgecraft.emulate").joinpath("runtime")
    for fname in RUNTIME_FILES:
        (workdir / fname).write_text(runtime.joinpath(fname).read_text())
    (workdir / "harness.c").write_text(harness_source(model))
    (workdir / "link.ld").write_text(linker_script(m))
    flags = [*m.cflags, *WARNINGS, *OPT, *(["-DEC_PROFILE"] if profile else [])]
    model_objs: list[Path] = []
    other_objs: list[Path] = []
    for src in [*model.sources, "harness.c", "startup.c"]:
        obj = workdir / (Path(src).stem + ".o")
        proc = _run([CC, *flags, "-c", src, "-o", obj.name], workdir)
        if proc.returncode != 0:
            raise EmulateError(f"{CC} failed on {src}: {proc.stderr.strip()[:2000]}")
        (model_objs if src in model.sources else other_objs).append(obj)
    elf = workdir / "firmware.elf"
    link = [CC, *m.cflags, "-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections", "-T", "link.ld",
            *[o.name for o in model_objs + other_objs], "-o", elf.name, "-lm", "-lc", "-lgcc"]
    proc = _run(link, workdir)
    if proc.returncode != 0:
        raise _fit_error(proc.stderr, model, m) or EmulateError(f"link failed: {proc.stderr.strip()[:2000]}")
    mine = _defined_symbols(model_objs, workdir)
    flash = ram = image_flash = image_ram = 0
    symbols = {}
    for name, kind, size in _symbol_sizes(elf, workdir):
        k = kind.lower()
        in_flash, in_ram = k in "trd", k in "db"
        image_flash += size * in_flash
        image_ram += size * in_ram
        if name in mine:
            symbols[name] = size
            flash += size * in_flash
            ram += size * in_ram
    sections = _section_sizes(elf, workdir)
    if sections is not None:  # the stack is a NOLOAD section `size` counts with .bss
        image_flash, image_ram = sections[0], sections[1] - m.stack_size
    return Firmware(elf, flash, ram, image_flash, image_ram, symbols)


def _section_sizes(elf: Path, cwd: Path) -> tuple[int, int] | None:
    """(text + data, data + bss) of the whole image, as ``arm-none-eabi-size`` reports them."""
    proc = _run(["arm-none-eabi-size", str(elf)], cwd)
    lines = proc.stdout.splitlines()
    if proc.returncode != 0 or len(lines) < 2:
        return None
    text, data, bss = (int(v) for v in lines[1].split()[:3])
    return text + data, data + bss


def object_sizes(model: GeneratedModel, cflags: tuple[str, ...], workdir: Path) -> tuple[int, int]:
    """(flash, static RAM) bytes of the model's own objects compiled with ``cflags``:
    text + data, and data + bss, as ``arm-none-eabi-size`` reports them."""
    workdir.mkdir(parents=True, exist_ok=True)
    for fname, text in model.files.items():
        (workdir / fname).write_text(text)
    objects = []
    for src in model.sources:
        obj = Path(src).stem + ".o"
        proc = _run([CC, *cflags, *WARNINGS, *OPT, "-c", src, "-o", obj], workdir)
        if proc.returncode != 0:
            raise EmulateError(f"{CC} failed on {src}: {proc.stderr.strip()[:2000]}")
        objects.append(obj)
    proc = _run(["arm-none-eabi-size", "--totals", *objects], workdir)
    code, data, bss = (int(v) for v in proc.stdout.strip().splitlines()[-1].split()[:3])
    return code + data, data + bss
