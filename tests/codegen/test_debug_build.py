"""The DSP and Helium kernels compile at every optimization level a Cortex-M project uses: -O0
(an IDE's Debug configuration), -Og, -Os (a Release for size), -O3, and with frame pointers
(-fno-omit-frame-pointer, for a profiler's unwinder). Their inline assembly needs the registers
an optimizing build frees: before, GCC stopped with "impossible constraints" on four kernels at
-O0 (and had not finished the quick convolution after a minute), on the Helium depthwise and
fully connected kernels at -Os and -O3, and on most of them with frame pointers.
``ec_kernels.h`` builds them at -O2 where the project does not optimize and without the frame
pointer, and the Helium loops take their count in a register they reuse."""

from __future__ import annotations

import subprocess
from importlib import resources

import pytest

KERNELS = resources.files("edgecraft.codegen") / "kernels"
CORES = {"_dsp.c": ["-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
         "_mve.c": ["-mcpu=cortex-m55", "-mfloat-abi=hard"]}
LEVELS = {"O0": ["-O0"], "Og": ["-Og"], "Os": ["-Os"], "O3": ["-O3"],
          "frame-pointers": ["-O2", "-fno-omit-frame-pointer"]}


@pytest.mark.toolchain
@pytest.mark.parametrize("level", sorted(LEVELS))
@pytest.mark.parametrize("suffix", sorted(CORES))
def test_the_assembly_kernels_compile_at_every_level(suffix: str, level: str) -> None:
    files = sorted(p.name for p in KERNELS.iterdir() if p.name.endswith(suffix))
    assert len(files) >= 5, files
    for name in files:
        proc = subprocess.run(
            ["arm-none-eabi-gcc", *CORES[suffix], "-mthumb", *LEVELS[level], "-Wall", "-Wextra", "-Werror",
             "-I", str(KERNELS), "-c", str(KERNELS / name), "-o", "/dev/null"],
            capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode == 0, f"{name} at {' '.join(LEVELS[level])}: {proc.stderr[-1500:]}"
