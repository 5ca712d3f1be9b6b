"""The CLI contract for bad input, as one table: every case exits 2 with exactly one line on
stderr starting ``error:`` and nothing on stdout. The cases run in this process through
``main()`` (the CLI's entry point, error handling included, as the console script runs it); a few run as real
subprocesses below."""

from __future__ import annotations

import pickle
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from edgecraft.cli.app import main
from edgecraft.formats import write_tflite
from edgecraft.models.motion import shake_detector
from edgecraft.models.synthetic import tiny_mlp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "device"))
from stream_models import tone_detector


def _wav(channels: int = 1, rate: int = 16000, bits: int = 16, data: bytes = b"\0" * 3200) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * max(channels, 1) * bits // 8,
                      max(channels, 1) * bits // 8, bits)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"data" + struct.pack("<I", len(data)) + data)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _npy_header(shape: tuple[int, ...], descr: str = "|i1") -> bytes:
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


@pytest.fixture(scope="module")
def d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every file the table refers to, written once."""
    d = tmp_path_factory.mktemp("bad")
    (d / "mlp.tflite").write_bytes(write_tflite(tiny_mlp()))
    (d / "tone.tflite").write_bytes(write_tflite(tone_detector()))
    (d / "shake.tflite").write_bytes(write_tflite(shake_detector()))
    (d / "afile").write_text("not a folder\n")
    (d / "adir").mkdir()
    np.save(d / "x.npy", np.zeros((1, 16), np.int8))
    (d / "huge.npy").write_bytes(_npy_header((1 << 40,)))  # declares a TiB, holds nothing
    (d / "short.npy").write_bytes(_npy_header((1, 16)) + b"\0" * 5)  # truncated data
    np.savez(d / "obj.npz", input=np.array([{"a": 1}, None], dtype=object))
    with zipfile.ZipFile(d / "hugez.npz", "w") as z:  # a member that declares a TiB
        z.writestr("input.npy", _npy_header((1 << 40,)))
    (d / "pickle.npy").write_bytes(pickle.dumps([1, 2, 3]))
    np.save(d / "calib_str.npy", np.array([["a", "b"], ["c", "d"]]))
    np.save(d / "calib_nan.npy", np.full((8, 4), np.nan, np.float32))
    np.save(d / "calib.npy", np.zeros((8, 4), np.float32))
    (d / "zero_channels.wav").write_bytes(_wav(channels=0))
    (d / "truncated.wav").write_bytes(_wav()[:30])
    (d / "zero_rate.wav").write_bytes(_wav(rate=0))
    (d / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (d / "equal_ts.csv").write_text("time,x,y,z\n" + "".join(f"0.5,{i},0,0\n" for i in range(200)))
    (d / "reversed_ts.csv").write_text("time,x,y,z\n" + "".join(f"{9 - i * 0.02:.2f},0,0,0\n"
                                                                for i in range(200)))
    (d / "nan.csv").write_text("x,y,z\n" + "nan,0,0\n" * 200)
    (d / "good.csv").write_text("x,y,z\n" + "0,0,1\n" * 200)
    (d / "events_bad.csv").write_text("start_s,end_s,label\n2.0,1.0,shake\n")
    _onnx_files(d)
    return d


def _onnx_files(d: Path) -> None:
    """A corrupt .onnx, a float one (needs calibration) and one with an op edgecraft lacks."""
    import onnx

    (d / "garbage.onnx").write_bytes(b"\x08\x07garbage, not a protobuf" * 5)
    whole = onnx.load_model_from_string(_onnx_model("Relu")).SerializeToString()
    (d / "truncated.onnx").write_bytes(whole[:40])
    (d / "float.onnx").write_bytes(_onnx_model("Relu"))
    (d / "erf.onnx").write_bytes(_onnx_model("Erf"))


def _onnx_model(op: str) -> bytes:
    from onnx import TensorProto, helper

    g = helper.make_graph([helper.make_node(op, ["x"], ["y"], name=f"the_{op.lower()}")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    return bytes(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())


# (id, arguments with {d} for the folder, a fragment the one error line must contain)
CASES = [
    # usage errors: one line, not a box
    ("unknown-option", "plan {d}/mlp.tflite --bogus", "No such option"),
    ("missing-argument", "plan", "Missing argument"),
    ("unknown-command", "plann {d}/mlp.tflite", "No such command"),
    ("not-an-int", "plan {d}/mlp.tflite --alignment x", "--alignment"),
    # output paths
    ("build-out-is-a-file", "build {d}/mlp.tflite --target esp32 --out {d}/afile", "is a file"),
    ("build-out-unwritable", "build {d}/mlp.tflite --target esp32 --out {d}/afile/sub", "cannot create"),
    ("run-output-unwritable", "run {d}/mlp.tflite --input {d}/x.npy --output {d}/afile/y.npy",
     "not a folder"),
    ("run-output-is-a-dir", "run {d}/mlp.tflite --input {d}/x.npy --output {d}/adir", "is a folder"),
    ("run-output-no-parent", "run {d}/mlp.tflite --input {d}/x.npy --output {d}/none/y.npy",
     "does not exist"),
    ("plan-plot-unwritable", "plan {d}/mlp.tflite --plot {d}/afile/p.png", "not a folder"),
    ("emulate-output-is-a-dir", "emulate {d}/mlp.tflite -t qemu-m4 --input {d}/x.npy --output {d}/adir",
     "is a folder"),
    ("quantize-out-is-a-dir", "quantize {d}/model.py:make --calibration {d}/calib.npy --out {d}/adir",
     "is a folder"),
    ("stream-plot-unwritable", "stream {d}/tone.tflite --wav {d}/truncated.wav --labels noise,tone "
     "--board nano33ble --plot-power {d}/afile/p.png", "not a folder"),
    # arrays
    ("npy-huge-shape", "run {d}/mlp.tflite --input {d}/huge.npy", "limit"),
    ("npy-truncated", "run {d}/mlp.tflite --input {d}/short.npy", "truncated"),
    ("npy-pickle", "run {d}/mlp.tflite --input {d}/pickle.npy", "not a .npy"),
    ("npz-object-array", "run {d}/mlp.tflite --input {d}/obj.npz", "Python objects"),
    ("npz-huge-member", "run {d}/mlp.tflite --input {d}/hugez.npz", "limit"),
    ("calibration-strings", "quantize {d}/model.py:make --calibration {d}/calib_str.npy --out {d}/m.tflite",
     "give numbers"),
    ("calibration-nan", "quantize {d}/model.py:make --calibration {d}/calib_nan.npy --out {d}/m.tflite",
     "NaN"),
    ("check-huge-input-shape", "check {d}/model.py:make --input-shape 1,100000,100000,100000", "limit"),
    ("check-zero-input-shape", "check {d}/model.py:make --input-shape 1,0,3", "each > 0"),
    # recordings
    ("wav-zero-channels", "stream {d}/tone.tflite --wav {d}/zero_channels.wav --labels noise,tone", "WAV"),
    ("wav-truncated-header", "stream {d}/tone.tflite --wav {d}/truncated.wav --labels noise,tone", "WAV"),
    ("wav-zero-rate", "stream {d}/tone.tflite --wav {d}/zero_rate.wav --labels noise,tone", "sample rate"),
    ("csv-binary", "stream {d}/shake.tflite --csv {d}/binary.csv --labels background,shake", "binary"),
    ("csv-equal-timestamps", "stream {d}/shake.tflite --csv {d}/equal_ts.csv --labels background,shake",
     "strictly increase"),
    ("csv-reversed-timestamps", "stream {d}/shake.tflite --csv {d}/reversed_ts.csv --labels background,shake",
     "strictly increase"),
    ("csv-nan", "stream {d}/shake.tflite --csv {d}/nan.csv --labels background,shake", "NaN"),
    ("labels-file-binary", "stream {d}/shake.tflite --csv {d}/good.csv --labels {d}/binary.csv", "not text"),
    ("events-end-before-start", "stream {d}/shake.tflite --csv {d}/good.csv --labels background,shake "
     "--tune {d}/events_bad.csv", "start_s <= end_s"),
    # numbers on options
    ("csv-rate-nan", "stream {d}/shake.tflite --csv {d}/good.csv --labels background,shake --csv-rate nan",
     "--csv-rate"),
    ("csv-rate-negative", "stream {d}/shake.tflite --csv {d}/good.csv --labels background,shake "
     "--csv-rate -5", "--csv-rate"),
    ("smoothing-nan", "stream {d}/tone.tflite --wav {d}/truncated.wav --labels noise,tone --smoothing-ms nan",
     "--smoothing-ms"),
    ("threshold-nan", "stream {d}/tone.tflite --wav {d}/truncated.wav --labels noise,tone --threshold nan",
     "--threshold"),
    ("always-on-inf", "stream {d}/tone.tflite --wav {d}/truncated.wav --labels noise,tone --board nano33ble "
     "--always-on-mw inf", "--always-on-mw"),
    ("duty-negative", "stream {d}/tone.tflite --wav {d}/truncated.wav --labels noise,tone --duty-ms -1",
     "--duty-ms"),
    ("min-count-zero", "stream {d}/tone.tflite --wav {d}/truncated.wav --labels noise,tone --min-count 0",
     "--min-count"),
    ("min-count-huge-negative", "stream {d}/tone.tflite --wav {d}/truncated.wav --labels noise,tone "
     "--min-count -" + "9" * 400, "--min-count"),
    ("suppression-negative", "stream {d}/tone.tflite --wav {d}/truncated.wav --labels noise,tone "
     "--suppression-ms -100", "--suppression-ms"),
    ("battery-empty", "stream {d}/tone.tflite --wav {d}/truncated.wav --labels noise,tone --board nano33ble "
     "--battery=", "--battery"),
    ("alignment-absurd", "plan {d}/mlp.tflite --alignment 200000000000000000000", "alignment"),
    ("alignment-zero", "plan {d}/mlp.tflite --alignment 0", "alignment"),
    # cascade: options, budgets and models are checked before any work
    ("cascade-not-an-app", "cascade sweep {d}/adir --edge {d}/adir --cloud {d}/mlp.tflite", "app.toml"),
    ("cascade-budget-name", "cascade sweep {d}/adir --edge a --cloud b --budget speed=3", "bad budget"),
    ("cascade-budget-negative", "cascade sweep {d}/adir --edge a --cloud b --budget energy=-1", "bad budget"),
    ("cascade-link-unknown", "cascade sweep {d}/adir --edge a --cloud b --link wimax", "--link"),
    ("cascade-rate-nan", "cascade sweep {d}/adir --edge a --cloud b --rate nan", "--rate"),
    ("cascade-steps-zero", "cascade sweep {d}/adir --edge a --cloud b --steps 0", "--steps"),
    # fleet options are checked before any server is contacted
    ("fleet-count-zero", "fleet provision --count 0", "--count"),
    ("fleet-port-huge", "fleet serve --port 70000", "--port"),
    ("fleet-cloud-model-missing", "fleet serve --cloud-model {d}/nothing.tflite --port 0", "no such file"),
    ("fleet-infer-rate-zero", "fleet serve --infer-rate 0", "--infer-rate"),
    ("fleet-cascade-threshold", "fleet simulate --model {d}/mlp.tflite --version 1.0.0 --cascade-threshold 2",
     "--cascade-threshold"),
    ("fleet-resend-nan", "fleet serve --resend nan", "--resend"),
    ("fleet-failures-above-one", "fleet deploy 1.0.0 --max-install-failures 2", "--max-install-failures"),
    ("fleet-interval-zero", "fleet simulate --model {d}/mlp.tflite --version 1.0.0 --interval 0",
     "--interval"),
    # ONNX models
    ("onnx-garbage", "inspect {d}/garbage.onnx", "not an ONNX model"),
    ("onnx-truncated", "plan {d}/truncated.onnx", "not an ONNX model"),
    ("onnx-float", "run {d}/float.onnx --input {d}/x.npy", "edgecraft quantize"),
    ("onnx-unsupported-op", "profile {d}/erf.onnx --target qemu-m4", "the_erf"),
    ("export-no-format", "export {d}/mlp.tflite", "--onnx"),
    ("onnx-calibration-shape", "quantize {d}/float.onnx --calibration {d}/x.npy --out {d}/m.tflite",
     "each hold 4 values"),
    ("onnx-quantize-unsupported", "quantize {d}/erf.onnx --calibration {d}/calib.npy --out {d}/m.tflite",
     "Erf"),
    ("fleet-duration-negative", "fleet simulate --model {d}/mlp.tflite --version 1.0.0 --duration -5",
     "--duration"),
    # search checks its options, the board and the directory before Ray starts
    ("search-unknown-board", "search {d}/adir --target nope", "unknown board 'nope'"),
    ("search-missing-dir", "search {d}/nodir --target nano33ble", "not an application directory"),
    ("search-trials-zero", "search {d}/adir --target nano33ble --trials 0", "--trials"),
    ("search-budget-nan", "search {d}/adir --target nano33ble --budget-minutes nan", "--budget-minutes"),
    ("search-no-spec", "search {d}/adir --target nano33ble", "has no app.toml"),
]


def call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(argv)
    out, err = capsys.readouterr()
    return int(e.value.code or 0), out, err


def _argv(template: str, d: Path) -> list[str]:
    return [a.replace("{d}", str(d)) for a in template.split()]


@pytest.mark.parametrize(("args", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_error_line_exit_2(args: str, fragment: str, d: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = call(_argv(args, d), capsys)
    assert (code, out) == (2, ""), err
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert fragment in err, err
    assert "Traceback" not in err and "internal error" not in err


@pytest.mark.parametrize(("args", "fragment"), [
    ("plan {d}/mlp.tflite --bogus", "No such option"),
    ("run {d}/mlp.tflite --input {d}/huge.npy", "limit"),
    ("stream {d}/shake.tflite --csv {d}/equal_ts.csv --labels background,shake", "strictly increase"),
])
def test_bad_input_through_a_real_process(args: str, fragment: str, d: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "edgecraft", *_argv(args, d)], capture_output=True, text=True,
                       timeout=120)
    assert (r.returncode, r.stdout) == (2, ""), r.stderr
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1 and fragment in r.stderr


def test_run_output_is_exactly_the_named_file(d: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import json

    out = tmp_path / "y.bin"
    code, stdout, err = call(["run", str(d / "mlp.tflite"), "--input", str(d / "x.npy"), "--output", str(out),
                              "--format", "json"], capsys)
    assert code == 0, err
    assert json.loads(stdout)["output_file"] == str(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["y.bin"]
    assert np.load(out).shape == (1, 4)
