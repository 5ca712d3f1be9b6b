"""Hostile and unlucky input to the CLI: a weights file that would run code, a model declaring a
huge tensor, a disk that fills up mid-write, mutated models through every model command."""

from __future__ import annotations

import json
import logging
import os
import resource
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edgecraft.cli.app import main
from edgecraft.cli.common import dumps_json
from edgecraft.files import atomic_path, write_bytes
from edgecraft.formats import ModelFormatError, read_tflite_bytes, write_tflite
from edgecraft.ir.validate import MEMORY_LIMIT_ENV
from edgecraft.models.synthetic import small_cnn, tiny_mlp


def call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(argv)
    out, err = capsys.readouterr()
    return int(e.value.code or 0), out, err


def one_error_line(code: int, out: str, err: str) -> bool:
    return code == 2 and out == "" and err.startswith("error: ") and err.count("\n") == 1


def error_line_first(code: int, out: str, err: str) -> bool:
    """Exit 2, nothing on stdout, the error line first; warnings may follow it."""
    lines = err.splitlines()
    return (code == 2 and out == "" and lines[0].startswith("error: ") and "internal error" not in lines[0]
            and not any(ln.startswith(("error", "Traceback")) for ln in lines[1:]))


class Payload:
    """Unpickling this creates the file ``marker``: what a crafted .pt could do instead."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


MODEL_PY = """
import logging
import warnings

import torch


def make():
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))


def broken():
    warnings.warn("a warning from the user's model file")
    logging.getLogger("somelib").warning("a log record from a third-party library")
    raise RuntimeError("the factory failed")
"""


@pytest.mark.torch
def test_weights_that_would_run_code_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch = pytest.importorskip("torch")
    (tmp_path / "model.py").write_text(MODEL_PY)
    np.save(tmp_path / "calib.npy", np.zeros((8, 1, 2, 2), np.float32))
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"0.weight": Payload(marker)}, evil)
    code, out, err = call(["quantize", f"{tmp_path}/model.py:make", "--weights", str(evil), "--calibration",
                           str(tmp_path / "calib.npy"), "--out", str(tmp_path / "m.tflite")], capsys)
    assert one_error_line(code, out, err) and "could run code" in err, err
    assert not marker.exists() and not (tmp_path / "m.tflite").exists()
    # the payload is live: an unsafe load would have created the file
    torch.load(evil, weights_only=False)
    assert marker.exists()


@pytest.mark.torch
def test_a_raising_factory_is_one_line_and_warnings_come_after_it(
        tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The factory's exception is one error line; what it warned or logged is not before it."""
    pytest.importorskip("torch")
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # as in a plain process, not under pytest
    (tmp_path / "model.py").write_text(MODEL_PY)
    np.save(tmp_path / "calib.npy", np.zeros((8, 1, 2, 2), np.float32))
    code, out, err = call(["quantize", f"{tmp_path}/model.py:broken", "--calibration",
                           str(tmp_path / "calib.npy"), "--out", str(tmp_path / "m.tflite")], capfd)
    lines = err.splitlines()
    assert code == 2 and out == "" and lines[0].startswith("error: ") and "the factory failed" in lines[0]
    assert not any(ln.startswith("error") for ln in lines[1:])  # warnings: suppressed or after it


def test_native_stderr_comes_after_the_error_line(capfd: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Python warnings, log records and bytes written straight to file descriptor 2 (as native
    libraries and child processes do) are held while the command runs and follow the error line."""
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # as in a plain process, not under pytest
    import typer

    from edgecraft.cli.common import UserError, run_cli

    app = typer.Typer()

    @app.command()
    def noisy() -> None:
        warnings.warn("a Python warning", stacklevel=1)
        logging.getLogger("somelib").warning("a log record")
        os.write(2, b"native library noise\n")
        subprocess.run([sys.executable, "-c", "import sys; sys.stderr.write('child noise\\n')"], check=True)
        raise UserError("the input is bad")

    @app.command()
    def quiet() -> None:
        os.write(2, b"noise on success\n")
        print("the output")

    assert run_cli(app, ["noisy"], (UserError,)) == 2
    out, err = capfd.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == "error: the input is bad" and lines[-2:] == ["native library noise", "child noise"]
    assert any("UserWarning: a Python warning" in ln for ln in lines) and "a log record" in lines
    assert run_cli(app, ["quiet"], (UserError,)) == 0
    out, err = capfd.readouterr()
    assert out == "the output\n" and err == "noise on success\n"


def huge_tensor_model() -> bytes:
    """tiny_mlp with its hidden activation declared 1 x 2^30 x 6 x 128 (768 GiB of int8)."""
    g = tiny_mlp()
    hidden = g.operators[0].outputs[0]
    g.tensors[hidden].shape = (1, 1 << 30, 6, 128)
    return write_tflite(g)


def test_a_model_declaring_a_huge_tensor_is_refused_before_allocation(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "huge.tflite"
    model.write_bytes(huge_tensor_model())
    np.save(tmp_path / "x.npy", np.zeros((1, 16), np.int8))
    x = str(tmp_path / "x.npy")
    for args in (["inspect"], ["plan"], ["profile", "-t", "nano33ble"], ["build", "-t", "esp32", "--out",
                 str(tmp_path / "p")], ["emulate", "-t", "qemu-m4", "-i", x], ["run", "-i", x]):
        code, out, err = call([args[0], str(model), *args[1:]], capsys)
        assert one_error_line(code, out, err) and MEMORY_LIMIT_ENV in err, (args, err)
    # A real process, quick, refused under a 1 GiB address-space limit: a process that tried to
    # allocate the 8-16 GiB the tensors declare would fail with MemoryError (exit 1), not exit 2.
    # (ru_maxrss of a child is no measure here: it counts the pytest worker's pages copied by fork.)
    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "edgecraft", "plan", str(model)], capture_output=True,
                          text=True, preexec_fn=limit_memory, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert proc.returncode == 2, proc.stderr
    assert "1073741824" in proc.stderr.replace(",", "")
    assert time.monotonic() - start < 60


def test_the_memory_limit_is_set_by_the_environment(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "cnn.tflite"
    model.write_bytes(write_tflite(small_cnn()))
    assert call(["plan", str(model)], capsys)[0] == 0
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "4096")
    code, out, err = call(["plan", str(model)], capsys)
    assert one_error_line(code, out, err) and "4,096-byte limit" in err
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    code, out, err = call(["plan", str(model)], capsys)
    assert one_error_line(code, out, err) and "whole number" in err


def test_a_declared_output_shape_that_breaks_the_op_rule_is_refused() -> None:
    """Found by fuzzing: a CONV_2D whose output shape disagrees with its inputs made `build`
    fail an assertion; the reader now checks every op's shape rule."""
    g = small_cnn()
    out = g.operators[0].outputs[0]
    g.tensors[out].shape = (1, 1, 16, 16)
    with pytest.raises(ModelFormatError, match=r"operator 0 \(CONV_2D\) declares output shape"):
        read_tflite_bytes(write_tflite(g))


def test_an_undefined_activation_code_is_refused_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by fuzzing kws_ref_model: a fused-activation code TFLite does not define made the
    float kernels raise a bare ValueError at run time."""
    from edgecraft.formats import tflite_writer

    monkeypatch.setitem(tflite_writer._ACTIVATION_CODES, "BOGUS", 59)
    g = small_cnn()
    g.operators[0].attrs["fused_activation_function"] = "BOGUS"
    with pytest.raises(ModelFormatError, match="fused_activation_function code 59, which TFLite does not"):
        read_tflite_bytes(write_tflite(g))


def test_a_bias_of_the_wrong_size_is_refused_when_read() -> None:
    """Found by fuzzing kws_ref_model: a FULLY_CONNECTED whose bias index pointed at its
    16,384-value filter passed the reader and failed in numpy's broadcasting at run time."""
    g = tiny_mlp()
    fc = g.operators[0]
    fc.inputs[2] = fc.inputs[1]
    with pytest.raises(ModelFormatError, match=r"FULLY_CONNECTED bias .* has 512 values for 32 output"):
        read_tflite_bytes(write_tflite(g))


def _fsize_limited() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


def test_a_failed_write_leaves_no_truncated_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "cnn.tflite"
    model.write_bytes(write_tflite(small_cnn()))
    full = tmp_path / "full"
    assert call(["build", str(model), "-t", "esp32", "--out", str(full)], capsys)[0] == 0
    part = tmp_path / "part"
    r = subprocess.run([sys.executable, "-m", "edgecraft", "build", str(model), "-t", "esp32", "--out",
                        str(part)], capture_output=True, text=True, timeout=120, preexec_fn=_fsize_limited)
    assert r.returncode == 2 and r.stdout == "", r.stderr
    assert r.stderr.startswith("error: cannot write") and "too large" in r.stderr
    assert r.stderr.count("\n") == 1
    written = [p for p in part.rglob("*") if p.is_file()]
    assert all(p.read_bytes() == (full / p.relative_to(part)).read_bytes() for p in written)
    assert not any(".tmp" in p.name for p in written)
    assert any((full / p.relative_to(full)).stat().st_size > 2048 for p in full.rglob("*") if p.is_file())


def test_atomic_path_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "model.tflite"
    write_bytes(target, b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half of the new")
        raise RuntimeError("the disk filled up")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["model.tflite"]
    write_bytes(target, b"new")
    assert target.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["model.tflite"]


def test_json_output_is_strict() -> None:
    text = dumps_json({"a": float("nan"), "b": [float("inf"), np.float32("-inf"), 1.5], "c": np.int64(3)})
    assert text == '{"a": null, "b": [null, null, 1.5], "c": 3}'
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))


def _mutants(raw: bytes, rng: np.random.Generator, n: int) -> list[bytes]:
    out = []
    for _ in range(n):
        b = bytearray(raw)
        for p in rng.integers(0, len(b), rng.integers(1, 5)):
            b[p] = rng.integers(0, 256)
        out.append(bytes(b))
    return out


def test_mutated_models_end_in_success_or_one_error_line(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A bounded fuzz: byte mutations of two small models through inspect, run, plan, profile
    and build; each command exits 0, or 2 with the error line first (never 1, never a traceback;
    numpy's warnings about a corrupt scale may follow the line)."""
    rng = np.random.default_rng(2026)
    seeds = [write_tflite(tiny_mlp()), write_tflite(small_cnn())]
    model = tmp_path / "m.tflite"
    accepted = 0
    for i, data in enumerate(_mutants(seeds[0], rng, 12) + _mutants(seeds[1], rng, 12)):
        model.write_bytes(data)
        try:
            g = read_tflite_bytes(data)
        except ModelFormatError:
            code, out, err = call(["inspect", str(model)], capsys)
            assert error_line_first(code, out, err), err
            continue
        accepted += 1
        inputs = []
        for k, t in enumerate(g.input_tensors()):
            np.save(tmp_path / f"x{k}.npy", np.zeros(t.shape, t.np_dtype))
            inputs += ["--input", str(tmp_path / f"x{k}.npy")]
        for args in (["inspect"], ["run", *inputs], ["plan"], ["profile", "-t", "esp32"],
                     ["build", "-t", "esp32", "--out", str(tmp_path / f"p{i}")]):
            code, out, err = call([args[0], str(model), *args[1:]], capsys)
            assert code == 0 or error_line_first(code, out, err), (i, args, err)
    assert accepted >= 6
