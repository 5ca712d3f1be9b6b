"""The kernels' fast requantization (``ec_mbqm_q`` in ec_kernels.h, and the DSP kernels' case
for right shifts and the int8 clamp, ``ec_requant_at`` in ec_dsp.h) equals TFLM's
MultiplyByQuantizedMultiplier written plainly (``ec_mbqm``: SRDHM, then RoundingDivideByPOT)
on edge cases and a million random ones, for every multiplier QuantizeMultiplier can give
(0 or [2^30, 2^31)) and every shift in [-31, 30]; the quick kernels' ``ec_requant_quick`` (the
multiplier as 2 m - 2^32) for any accumulator and right shifts; and both equal the Python arithmetic
(ops/arith.py) on a sample. Compiled with the host gcc and with -fsanitize=undefined."""

from __future__ import annotations

import shutil
import subprocess
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from edgecraft.ops.arith import multiply_by_quantized_multiplier

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include "ec_dsp.h"

static uint64_t state = 88172645463325252ull;
static uint32_t next(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return (uint32_t)state;
}

int main(int argc, char **argv) {
  const int32_t edges[] = {0, 1, -1, 2, -2, 127, -128, 1 << 20, -(1 << 20), INT32_MAX, INT32_MIN,
                           INT32_MAX - 1, INT32_MIN + 1, 1 << 30, -(1 << 30), 12345678, -12345678};
  const int32_t mults[] = {0, 1 << 30, (1 << 30) + 1, INT32_MAX, INT32_MAX - 1, 1518500250, 1276901978};
  (void)argc;
  long bad = 0, n = 0;
  const int ne = sizeof edges / sizeof *edges, nm = sizeof mults / sizeof *mults;
  for (int shift = -31; shift <= 30; ++shift)
    for (int i = 0; i < ne; ++i)
      for (int j = 0; j < nm; ++j, ++n)
        bad += ec_mbqm_q(edges[i], mults[j], shift) != ec_mbqm(edges[i], mults[j], shift);
  const long random = atol(argv[1]);
  for (long k = 0; k < random; ++k, ++n) {
    const uint32_t r = next();
    /* accumulators of every size: 8 to 32 significant bits */
    const int32_t x = (int32_t)next() >> (r % 25);
    const int32_t m = (r >> 5) % 64 == 0 ? 0 : (int32_t)((1u << 30) | (next() & 0x3FFFFFFFu));
    const int shift = (int)((r >> 11) % 62) - 31;
    bad += ec_mbqm_q(x, m, shift) != ec_mbqm(x, m, shift);
  }
  /* the DSP kernels' fast case (right shifts only, int8 clamp) equals the general one */
  for (long k = 0; k < random; ++k, ++n) {
    int32_t m = (int32_t)((1u << 30) | (next() & 0x3FFFFFFFu)), s = -(int32_t)(next() % 32);
    int32_t b = (int32_t)next() >> 12;
    const ec_requant r = ec_requant_of(&m, &s, &b, (int32_t)(next() % 256) - 128, -128, 127, 1);
    const int32_t acc = (int32_t)next() >> (next() % 25);
    bad += !r.fast || ec_requant_at(r, acc, 0, 1) != ec_requant_at(r, acc, 0, 0);
  }
  /* the quick kernels' requantization (SMMLAR with 2 m - 2^32, and SSAT on the core) equals the
   * general one for every accumulator, right shifts and the int8 clamp */
  for (long k = 0; k < random + 4; ++k, ++n) {
    int32_t m = (int32_t)((1u << 30) | (next() & 0x3FFFFFFFu)), s = -1 - (int32_t)(next() % 31), b = 0;
    if (k >= random) m = k - random < 2 ? 1 << 30 : INT32_MAX; /* the multipliers' ends */
    const int32_t off = (int32_t)(next() % 256) - 128;
    const ec_requant r = ec_requant_of(&m, &s, &b, off, -128, 127, 1);
    const int32_t m2 = (int32_t)(2u * (uint32_t)m); /* 2 m - 2^32 */
    const int32_t acc = k >= random ? ((k & 1) ? INT32_MIN : INT32_MAX) : (int32_t)next() >> (next() % 25);
    bad += ec_requant_quick(acc, m2, -s - 1, 1 + 2 * off) != ec_requant_at(r, acc, 0, 0);
  }
  printf("%ld %ld\n", n, bad);
  for (int k = 0; k < 64; ++k) {  /* a sample for the Python side */
    const int32_t x = (int32_t)next() >> (k % 20);
    const int32_t m = (int32_t)((1u << 30) | (next() & 0x3FFFFFFFu));
    const int shift = k % 40 - 31;
    printf("%d %d %d %d\n", x, m, shift, ec_mbqm_q(x, m, shift));
  }
  return 0;
}
"""


def build_and_run(tmp_path: Path, flags: list[str], random: int) -> list[str]:
    kernels = resources.files("edgecraft.codegen").joinpath("kernels")
    for name in ("ec_kernels.h", "ec_dsp.h"):
        (tmp_path / name).write_text(kernels.joinpath(name).read_text())
    (tmp_path / "t.c").write_text(PROGRAM)
    cmd = ["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", *flags, "t.c", "-o", "t"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    run = subprocess.run([str(tmp_path / "t"), str(random)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    return run.stdout.splitlines()


def test_fast_requantization_equals_tflm_arithmetic(tmp_path: Path) -> None:
    lines = build_and_run(tmp_path, ["-O2"], 1_000_000)
    n, bad = map(int, lines[0].split())
    assert n > 1_000_000 and bad == 0
    sample = np.array([[int(v) for v in line.split()] for line in lines[1:]], dtype=np.int64)
    for x, m, shift, got in sample:
        assert int(multiply_by_quantized_multiplier(np.int64(x), int(m), int(shift))) == got


def test_fast_requantization_has_no_undefined_behaviour(tmp_path: Path) -> None:
    lines = build_and_run(tmp_path, ["-O1", "-fsanitize=undefined", "-fno-sanitize-recover"], 20_000)
    assert lines[0].split()[1] == "0"
