"""`edgecraft build --features PRESET` ships the front end's C twin with the model, and the
whole project compiles warning-free as C99."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgecraft.cli.build_cmd import build_project
from edgecraft.formats import write_tflite
from edgecraft.models.synthetic import tiny_mlp

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


def test_features_are_emitted_and_compile(tmp_path: Path) -> None:
    model = tmp_path / "mlp.tflite"
    model.write_bytes(write_tflite(tiny_mlp()))
    plain = build_project(model, "qemu-m4", tmp_path / "plain", None, None, "greedy", stack=False)
    result = build_project(model, "qemu-m4", tmp_path / "kws", None, None, "greedy", features="kws-mfcc",
                           stack=False)
    extra = set(result["files"]) - set(plain["files"])
    assert "src/ec_features.h" in extra and any(f.endswith(".c") for f in extra)
    assert result["flash_bytes"] == plain["flash_bytes"]  # sizes are the model's alone
    cmake = (tmp_path / "kws" / "CMakeLists.txt").read_text()
    assert all(f"src/{Path(f).name}" in cmake for f in extra if f.endswith(".c"))
    sources = sorted(str(p) for p in (tmp_path / "kws" / "src").glob("*.c"))
    r = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O1", "-c", *sources],
                       cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_unknown_preset_is_one_line_error(tmp_path: Path) -> None:
    model = tmp_path / "mlp.tflite"
    model.write_bytes(write_tflite(tiny_mlp()))
    r = subprocess.run([sys.executable, "-m", "edgecraft", "build", str(model), "--target", "qemu-m4",
                        "--out", str(tmp_path / "o"), "--features", "nope"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("error:") and "kws-mfcc" in r.stderr
