"""``scripts/fuzz_models.py``: damaged copies of a model the test writes are read, run and built
by edgecraft; every failure is one of its own one-line errors (exit 0), and the summary counts
them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from edgecraft.formats import write_tflite
from edgecraft.models.synthetic import small_cnn

ROOT = Path(__file__).resolve().parents[1]


def test_damaged_models_fail_only_with_edgecraft_errors(tmp_path: Path) -> None:
    (tmp_path / "cnn.tflite").write_bytes(write_tflite(small_cnn(seed=1)))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "fuzz_models.py"), str(tmp_path),
                           "--iterations", "60", "--seed", "3", "--keep", str(tmp_path / "kept")],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = proc.stdout.strip().splitlines()[-1]
    assert summary.startswith("60 damaged files from 1 models:") and "0 failed otherwise" in summary
    refused = int(summary.split(": ")[1].split(" refused")[0])
    assert 0 < refused < 60  # some copies are refused, some still run
