"""The code size of an op is the measured size of the C kernel files its record names
(``OpDef.code``): the names agree with what the emitter actually compiles, every file is
measured, and the data file matches a fresh measurement (scripts/measure_kernel_sizes.py)."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from cases import CASES

from edgecraft.codegen import generate
from edgecraft.ops.registry import get_op, supported_ops
from edgecraft.targets.profiling import kernel_file_bytes

ROOT = Path(__file__).resolve().parents[2]


def test_every_kernel_file_is_measured_and_every_named_file_exists() -> None:
    kernels = resources.files("edgecraft.codegen").joinpath("kernels")
    on_disk = {e.name for e in kernels.iterdir() if e.name.endswith(".c")}
    assert set(kernel_file_bytes()) == on_disk
    for name in supported_ops():
        for variant in ("portable", "dsp"):
            assert set(get_op(name).code_files(variant)) <= on_disk, (name, variant)


@pytest.mark.parametrize("op", sorted(CASES))
def test_the_record_names_the_files_the_emitter_compiles(op: str) -> None:
    graph = CASES[op](np.random.default_rng(5))
    for dsp in (False, True):
        model = generate(graph, "k", dsp=dsp)
        named = {f for o in graph.operators for f in get_op(o.type).code_files("dsp" if dsp else "portable")}
        assert {f"ec_{stem}.c" for stem in model.kernels} == named, (op, dsp)


@pytest.mark.toolchain
def test_the_data_file_matches_a_fresh_measurement() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "measure_kernel_sizes.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
