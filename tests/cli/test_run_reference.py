"""`edgecraft run --reference`: the reference kernels alone give the default run's bytes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from edgecraft.formats import write_tflite
from edgecraft.models.synthetic import small_cnn


def test_reference_run_equals_default_and_uses_no_fast_path(tmp_path: Path) -> None:
    model = tmp_path / "cnn.tflite"
    model.write_bytes(write_tflite(small_cnn(seed=2)))
    x = np.random.default_rng(2).integers(-128, 128, (1, 32, 32, 3), dtype=np.int8)
    np.save(tmp_path / "x.npy", x)
    runs = {}
    for flag in ([], ["--reference"]):
        out = tmp_path / f"y{len(flag)}.npy"
        r = subprocess.run([sys.executable, "-m", "edgecraft", "run", str(model), "--input",
                            str(tmp_path / "x.npy"), "--output", str(out), *flag, "--format", "json"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        runs[bool(flag)] = (json.loads(r.stdout), np.load(out))
    (default, y_default), (reference, y_reference) = runs[False], runs[True]
    assert default["kernels"] == "default" and default["fast_path_ops"] >= 4  # conv, dw, fc, softmax
    assert reference["kernels"] == "reference" and reference["fast_path_ops"] == 0
    assert y_default.dtype == y_reference.dtype == np.int8
    assert np.array_equal(y_default, y_reference)
