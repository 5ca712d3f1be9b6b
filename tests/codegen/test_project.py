"""`edgecraft build`: the project a user flashes: sources that compile warning-free with gcc
(`-Wall -Wextra -Werror -std=c99`), a CMake project that builds, an Arduino library layout
whose example sketch compiles, and the JSON the CLI contract promises."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgecraft.cli.app import app
from edgecraft.formats import write_tflite
from edgecraft.models.synthetic import small_cnn

runner = CliRunner()

#: Just enough of the Arduino core for a C++ compile of the example sketch (no board here).
ARDUINO_STUB = """
#pragma once
#include <stdint.h>
struct SerialStub {
  void begin(long) {}
  explicit operator bool() const { return true; }
  template <typename T> void print(T) {}
  template <typename T> void println(T) {}
  void println() {}
};
static SerialStub Serial;
inline unsigned long micros() { return 0; }
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    tmp = tmp_path_factory.mktemp("build")
    model = tmp / "cnn.tflite"
    model.write_bytes(write_tflite(small_cnn(seed=1)))
    out = tmp / "proj"
    result = runner.invoke(app, ["build", str(model), "--target", "qemu-m4", "--out", str(out),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_build_json_lists_files_and_sizes(project: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, data = project
    assert {"files", "flash_bytes", "ram_bytes"} <= set(data)
    assert data["dsp"] is True and data["entry_point"] == "cnn_invoke"
    for rel in ("CMakeLists.txt", "library.properties", "src/cnn.h", "src/cnn.c", "src/ec_conv_2d_dsp.c",
                "examples/cnn/cnn.ino"):
        assert rel in data["files"] and (out / rel).is_file()
    assert data["ram_bytes"] >= data["arena_bytes"] > 0
    assert data["flash_bytes"] > 5000  # ~4.5 K weights plus code


def test_generated_sources_compile_warning_free_with_gcc(project: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, _ = project
    sources = sorted(str(p) for p in (out / "src").glob("*.c"))
    proc = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-c",
                           *sources], cwd=out, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_model_c_reads_like_the_plan(project: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    out, _ = project
    text = (out / "src" / "cnn.c").read_text()
    assert "static const int8_t tensor" in text  # weights are const (flash)
    assert "_multiplier[" in text and "float" not in text.split("/* ---- the arena")[0].split(
        "operator parameters")[1]  # precomputed integer requantization, no float math
    slices = [line for line in text.splitlines() if line.startswith(("#define T", "#define S"))]
    assert slices and all("/* [" in line for line in slices)  # one commented line per slice
    # the DSP convolution's patch buffers are planned in the arena, one slice per operator
    assert any(line.startswith("#define S") and "scratch of op" in line for line in slices)
    assert "ec_conv_2d_dsp_s8(" in text and "ec_conv_2d_s8(" not in text


@pytest.mark.skipif(shutil.which("cmake") is None, reason="needs cmake")
def test_cmake_project_builds(project: tuple[Path, dict], tmp_path: Path) -> None:  # type: ignore[type-arg]
    out, _ = project
    for cmd in (["cmake", "-S", str(out), "-B", str(tmp_path)], ["cmake", "--build", str(tmp_path)]):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "libcnn.a").exists()


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
def test_arduino_sketch_compiles_against_the_library(project: tuple[Path, dict], tmp_path: Path) -> None:  # type: ignore[type-arg]
    out, _ = project
    (tmp_path / "Arduino.h").write_text(ARDUINO_STUB)
    sketch = tmp_path / "sketch.cpp"
    sketch.write_text('#include "Arduino.h"\n' + (out / "examples/cnn/cnn.ino").read_text()
                      + "\nint main() { setup(); return 0; }\n")
    objs = []
    for src in sorted((out / "src").glob("*.c")):
        obj = tmp_path / (src.stem + ".o")
        subprocess.run(["gcc", "-std=c99", "-c", str(src), "-o", str(obj)], check=True)
        objs.append(str(obj))
    proc = subprocess.run(["g++", "-Wall", "-Wextra", "-Werror", "-I", str(tmp_path), "-I", str(out / "src"),
                           str(sketch), *objs, "-o", str(tmp_path / "sketch")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert subprocess.run([str(tmp_path / "sketch")]).returncode == 0


def test_build_errors_are_one_line(tmp_path: Path) -> None:
    model = tmp_path / "cnn.tflite"
    model.write_bytes(write_tflite(small_cnn(seed=1)))
    proc = subprocess.run([sys.executable, "-m", "edgecraft", "build", str(model), "--target", "nosuchboard",
                           "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: unknown board 'nosuchboard'; choose one of:")
    assert len(proc.stderr.strip().splitlines()) == 1
