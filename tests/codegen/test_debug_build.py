"""The DSP and Helium kernels compile without optimization (-O0, as an IDE's Debug configuration
builds): their inline assembly needs the registers an optimizing build frees, which
``ec_kernels.h`` gets for them; before, GCC stopped with "impossible constraints" on four of
them and had not finished the quick convolution after a minute."""

from __future__ import annotations

import subprocess
from importlib import resources

import pytest

KERNELS = resources.files("edgecraft.codegen") / "kernels"
CORES = {"_dsp.c": ["-mcpu=cortex-m4", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"],
         "_mve.c": ["-mcpu=cortex-m55", "-mfloat-abi=hard"]}


@pytest.mark.toolchain
@pytest.mark.parametrize("suffix", sorted(CORES))
def test_the_assembly_kernels_compile_at_o0(suffix: str) -> None:
    files = sorted(p.name for p in KERNELS.iterdir() if p.name.endswith(suffix))
    assert len(files) >= 5, files
    for name in files:
        proc = subprocess.run(
            ["arm-none-eabi-gcc", *CORES[suffix], "-mthumb", "-O0", "-Wall", "-Wextra", "-Werror",
             "-I", str(KERNELS), "-c", str(KERNELS / name), "-o", "/dev/null"],
            capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode == 0, f"{name}: {proc.stderr[-1500:]}"
