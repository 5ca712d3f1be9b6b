"""``benchmarks/tflm_models.py`` over a folder the test writes: a model every column runs
exactly, one the reader refuses, reported per model in JSON with the exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from edgecraft.formats import write_tflite
from edgecraft.models.synthetic import small_cnn

ROOT = Path(__file__).resolve().parents[2]


def test_the_sweep_reports_each_model_against_tflm(tmp_path: Path) -> None:
    (tmp_path / "zoo").mkdir()
    (tmp_path / "zoo" / "cnn.tflite").write_bytes(write_tflite(small_cnn(seed=2)))
    (tmp_path / "broken.tflite").write_bytes(b"TFL3" + bytes(60))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    script = ROOT / "benchmarks" / "tflm_models.py"
    proc = subprocess.run([sys.executable, str(script), str(tmp_path), "--json"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["total"] == 2 and report["diff"] == 0
    assert report["models"]["zoo/cnn.tflite"] == {"runtime": "exact", "c": "exact", "c dsp": "exact"}
    assert report["models"]["broken.tflite"]["read"].startswith("refused: ")
    assert report["agree"] == {"runtime": 1, "c": 1, "c dsp": 1}
