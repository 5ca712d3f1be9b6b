"""The QEMU plugin's per-class counts on tiny hand-written programs: a loop with known numbers of
loads, multiplies, stores and branches (taken and not) between the harness's markers, on the
Cortex-M4 (DSP), M0 (Armv6-M) and M55 (MVE and low-overhead loops) machines; and its memory
counters: loads and stores by region (flash vs RAM) and the misses of the simulated flash caches
on a walk over a constant table."""

from __future__ import annotations

import subprocess
from importlib import resources
from pathlib import Path

import pytest

from edgecraft.emulate.firmware import OPT, linker_script
from edgecraft.emulate.machines import machine
from edgecraft.emulate.qemu import CACHES, run_qemu

pytestmark = pytest.mark.toolchain

MAIN = """#include "ec_runtime.h"
void kernel(void);
int main(void) {
  kernel();
  ec_print("edgecraft: done 1\\n");
  return 0;
}
"""

#: Between the markers: ec_marker_start's return (branch), then the body, then the call of
#: ec_marker_stop (call). The loop runs 10 times: its branch is taken 9 times, not taken once.
M4_BODY = """
  movs r0, #10
  movs r4, #0
1:
  ldr r1, [sp]            @ load (first in its block, or after an ALU op)
  ldr r2, [sp, #4]        @ load right after a load: pipelined
  smlad r4, r1, r2, r4    @ DSP multiply-accumulate
  str r4, [sp, #8]        @ store
  subs r0, r0, #1
  bne 1b
  ldm sp, {r1, r2, r3}    @ load multiple, 3 registers
  umull r1, r2, r3, r4    @ long multiply
  mul r1, r1, r2
  sxtb16 r1, r2           @ SIMD
  movs r3, #3
  udiv r1, r2, r3
  push {r1, r2}           @ store multiple, 2 registers
  pop {r1, r2}
"""

M0_BODY = """
  movs r0, #10
1:
  ldr r1, [sp]
  ldr r2, [sp, #4]
  muls r1, r2, r1
  str r1, [sp, #8]
  subs r0, r0, #1
  bne 1b
  ldr r1, [sp]
  cmp r1, r1
  beq 2f                  @ taken
  movs r2, #1             @ skipped
2:
  cmp r0, #1
  beq 3f                  @ not taken (r0 is 0)
  movs r2, #2
3:
"""

M55_BODY = """
  mov r0, sp
  movs r1, #4
  movs r2, #0
  dls lr, r1              @ low-overhead loop start
1:
  vldrb.s8 q0, [r0]       @ MVE load
  vmladava.s8 r2, q0, q0  @ MVE multiply-accumulate across the vector
  le lr, 1b               @ loop end, 4 times
"""


def build_and_count(tmp_path: Path, target: str, body: str, extra: str = "",
                    caches: tuple[str, str] = CACHES) -> dict[str, int]:
    m = machine(target)
    runtime = resources.files("edgecraft.emulate").joinpath("runtime")
    for name in ("startup.c", "ec_runtime.h"):
        (tmp_path / name).write_text(runtime.joinpath(name).read_text())
    (tmp_path / "main.c").write_text(MAIN)
    (tmp_path / "link.ld").write_text(linker_script(m))
    (tmp_path / "kernel.S").write_text(
        "  .syntax unified\n  .thumb\n  .text\n  .global kernel\n  .type kernel, %function\nkernel:\n"
        "  push {r4, r5, r6, lr}\n  sub sp, sp, #16\n  bl ec_marker_start\n" + body
        + "  bl ec_marker_stop\n  add sp, sp, #16\n  pop {r4, r5, r6, pc}\n" + extra)
    cmd = ["arm-none-eabi-gcc", *m.cflags, *OPT, "-nostartfiles", "--specs=nano.specs", "-T", "link.ld",
           "main.c", "startup.c", "kernel.S", "-o", "prog.elf", "-lc", "-lgcc"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return run_qemu(tmp_path / "prog.elf", m, tmp_path, caches=caches).class_counts


#: The memory counters (tested apart, below): the instruction-class tests leave them out.
MEMORY = ("flash_load", "flash_store", "ram_load", "ram_store", "flash_load_miss", "fetch_lines",
          "fetch_miss", "flash_load_miss_big", "fetch_miss_big")


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v and k not in MEMORY}


def test_m4_loop_counts_per_class(tmp_path: Path) -> None:
    got = nonzero(build_and_count(tmp_path, "qemu-m4", M4_BODY))
    assert got == {
        "alu": 2 + 10 + 1, "load": 10, "load_pipelined": 10, "mac": 10, "store": 10,
        "branch_cond": 10, "branch_taken": 9, "branch_not_taken": 1,
        "load_multiple": 2, "load_multiple_regs": 3 + 2, "store_multiple": 1, "store_multiple_regs": 2,
        "mul_long": 1, "mul": 1, "simd": 1, "div": 1, "branch": 1, "call": 1,
        "total": 1 + 2 + 60 + 8 + 1,
    }


def test_m0_counts_branches_taken_and_not(tmp_path: Path) -> None:
    got = nonzero(build_and_count(tmp_path, "qemu-m0", M0_BODY))
    assert got == {
        "alu": 1 + 10 + 3, "load": 10 + 1, "load_pipelined": 10, "mul": 10, "store": 10,
        "branch_cond": 12, "branch_taken": 9 + 1, "branch_not_taken": 1 + 1, "branch": 1, "call": 1,
        "total": 1 + 1 + 60 + 6 + 1,
    }


def test_m55_counts_helium_and_low_overhead_loops(tmp_path: Path) -> None:
    got = nonzero(build_and_count(tmp_path, "qemu-m55", M55_BODY))
    assert got == {
        # each VMLADAVA directly follows a VLDRB in its block: overlapped (the second beat of the
        # load beside the first of the multiply-accumulate)
        "alu": 3, "loop_start": 1, "mve_ldst": 4, "mve_overlapped": 4, "loop_end": 4, "branch": 1, "call": 1,
        "total": 1 + 4 + 12 + 1,
    }


#: 16 word loads walk a 64-byte constant table (two 32-byte lines, in flash), each value stored
#: to the stack (RAM); the table's address is itself a load from the literal pool (flash).
FLASH_BODY = """
  ldr r0, =table          @ 1 flash load (the literal pool)
  movs r1, #16
1:
  ldr r2, [r0], #4        @ 16 flash loads over 64 bytes
  str r2, [sp]            @ 16 RAM stores
  subs r1, r1, #1
  bne 1b
  ldr r2, [sp, #4]        @ 1 RAM load
  b 2f
  .ltorg
2:
"""
TABLE = ("  .section .rodata\n  .balign 32\ntable:\n" + "".join(f"  .word {k}\n" for k in range(16))
         + "  .text\n")


def test_m4_counts_flash_and_ram_accesses_and_cache_misses(tmp_path: Path) -> None:
    got = build_and_count(tmp_path, "qemu-m4", FLASH_BODY, extra=TABLE)
    assert (got["flash_load"], got["flash_store"], got["ram_load"], got["ram_store"]) == (17, 0, 1, 16)
    # the default data cache (32 lines of one 64-bit flash read): the literal's and the table's 8
    assert got["flash_load_miss"] == 1 + 8
    # the loop's instruction lines are fetched once and then hit the 32-line instruction cache
    assert got["fetch_lines"] >= 16 and got["fetch_miss"] <= 6
    small = build_and_count(tmp_path, "qemu-m4", FLASH_BODY, extra=TABLE, caches=("1x4", "1x4"))
    assert small["flash_load"] == 17 and small["flash_load_miss"] == 1 + 16  # one word-sized line: every load
    assert small["fetch_miss"] >= 16 * 3  # each pass over the 10-byte loop body refetches 3 or 4 lines
    # the big caches (256 lines of 32 bytes) see the same three data lines; the code stays in them
    assert small["flash_load_miss_big"] == got["flash_load_miss_big"] == 3
    assert small["fetch_miss_big"] == got["fetch_miss_big"] <= 6
    # qemu-m55 links constants apart from the code (its FPGA SRAM): still read-only memory
    m55 = build_and_count(tmp_path, "qemu-m55", FLASH_BODY, extra=TABLE)
    assert (m55["flash_load"], m55["ram_load"], m55["ram_store"], m55["flash_load_miss"]) == (17, 1, 16, 9)
