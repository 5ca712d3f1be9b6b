"""Building the C twins for the tests: a host shared library (gcc, ctypes) and a bare-metal
Cortex-M4 image run on QEMU's mps2-an386 (own startup, linker script, raw semihosting)."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

WARN = ["-Wall", "-Wextra", "-Werror", "-std=c99"]
M4 = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]

LINKER_SCRIPT = """
MEMORY { FLASH (rx) : ORIGIN = 0x00000000, LENGTH = 4M
         RAM (rwx)  : ORIGIN = 0x20000000, LENGTH = 4M }
_estack = ORIGIN(RAM) + LENGTH(RAM);
SECTIONS {
  .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) . = ALIGN(4); } > FLASH
  .ARM.exidx : { *(.ARM.exidx*) } > FLASH
  _sidata = LOADADDR(.data);
  .data : { _sdata = .; *(.data*) . = ALIGN(4); _edata = .; } > RAM AT > FLASH
  .bss (NOLOAD) : { _sbss = .; *(.bss*) *(COMMON) . = ALIGN(4); _ebss = .; end = .; } > RAM
}
"""

STARTUP = r"""
#include <stdint.h>
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
void _init(void) {}
void _fini(void) {}

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void ec_puts(const char *s) { semihost(0x04, s); }

static void ec_exit(int code)
{
    semihost(0x18, (const void *)(code == 0 ? 0x20026 : 0x20023)); /* ApplicationExit / RunTimeError */
    for (;;) {}
}

void Reset_Handler(void)
{
    uint32_t *src = &_sidata, *dst;
    for (dst = &_sdata; dst < &_edata;) { *dst++ = *src++; }
    for (dst = &_sbss; dst < &_ebss;) { *dst++ = 0; }
    *(volatile uint32_t *)0xE000ED88 |= (0xFu << 20); /* CPACR: enable the FPU */
    __asm__ volatile("dsb\n isb");
    ec_exit(main());
}

void Fault_Handler(void) { ec_puts("FAULT\n"); ec_exit(1); }

__attribute__((section(".vectors"), used)) static const void *vectors[16] = {
    &_estack, (void *)Reset_Handler, (void *)Fault_Handler, (void *)Fault_Handler,
    (void *)Fault_Handler, (void *)Fault_Handler, (void *)Fault_Handler,
};
"""

HEX_HELPERS = r"""
#include <stdint.h>

#include "ec_features.h"

void ec_puts(const char *s);
static char ec_line[16384];
static void ec_hex(const char *name, const void *data, int nbytes)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = (const uint8_t *)data;
    int i = 0, k;
    while (*name) { ec_line[i++] = *name++; }
    ec_line[i++] = ' ';
    for (k = 0; k < nbytes; k++) { ec_line[i++] = digits[p[k] >> 4]; ec_line[i++] = digits[p[k] & 15]; }
    ec_line[i++] = '\n';
    ec_line[i] = 0;
    ec_puts(ec_line);
}
"""


def write_sources(sources: dict[str, str], where: Path) -> list[Path]:
    where.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in sources.items():
        (where / name).write_text(text)
        if name.endswith(".c"):
            paths.append(where / name)
    return paths


def build_host(sources: dict[str, str], where: Path) -> ctypes.CDLL:
    """Compile ``sources`` into a shared library with the warning flags, load it."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc not found")
    files = write_sources(sources, where)
    lib = where / "libec_dsp.so"
    cc = subprocess.run(["gcc", *WARN, "-O2", "-shared", "-fPIC", "-o", str(lib), *map(str, files)],
                        capture_output=True, text=True)
    assert cc.returncode == 0, "\n".join(ln[:300] for ln in cc.stderr.splitlines()[-30:])
    return ctypes.CDLL(str(lib))


def symbol(lib: ctypes.CDLL, name: str) -> ctypes.c_void_p:
    """Address of a global (a config struct) in ``lib``."""
    return ctypes.c_void_p(ctypes.addressof(ctypes.c_char.in_dll(lib, name)))


def ptr(a: np.ndarray) -> ctypes.c_void_p:
    return ctypes.c_void_p(a.ctypes.data)


def c_array(name: str, ctype: str, values: np.ndarray) -> str:
    flat = np.asarray(values).reshape(-1)
    body = ", ".join(f"{float(v):.9g}f" if ctype == "float" else str(int(v)) for v in flat)
    return f"static const {ctype} {name}[{len(flat)}] = {{{body}}};\n"


def run_qemu_m4(sources: dict[str, str], main_c: str, where: Path, timeout: float = 60.0) -> dict[str, bytes]:
    """Cross-compile ``sources`` + ``main_c`` for Cortex-M4, run on mps2-an386, return the
    ``name hex`` lines the program printed as ``{name: bytes}``."""
    if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
        pytest.skip("arm-none-eabi-gcc or qemu-system-arm not found")
    files = write_sources({**sources, "startup.c": STARTUP, "main.c": HEX_HELPERS + main_c}, where)
    (where / "mps2.ld").write_text(LINKER_SCRIPT)
    elf = where / "prog.elf"
    cc = subprocess.run(["arm-none-eabi-gcc", *M4, *WARN, "-O2", "-ffunction-sections", "-fdata-sections",
                         "-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs", "-T",
                         str(where / "mps2.ld"), "-Wl,--gc-sections", "-o", str(elf), *map(str, files)],
                        capture_output=True, text=True)
    assert cc.returncode == 0, "\n".join(ln[:300] for ln in cc.stderr.splitlines()[-30:])
    proc = subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-semihosting-config",
                           "enable=on,target=native", "-kernel", str(elf)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)
    text = proc.stdout + proc.stderr  # QEMU 7.2 writes semihosting output to stderr
    assert "FAULT" not in text, text[-2000:]
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = bytes.fromhex(parts[1])
    assert proc.returncode == 0, f"qemu exit {proc.returncode}: {text[-500:]}"
    return out
