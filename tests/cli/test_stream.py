"""`edgecraft stream` as a user calls it: detections from WAV and CSV recordings, labels from a
list or a file, the power/battery estimate and plot, errors; on the real KWS model, the marvin
clip and the keywords spoken by espeak-ng."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from edgecraft.formats import write_tflite
from oracle import CONFORMANCE

# the models built in code live with the device tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "device"))
from stream_models import tone_detector, tone_recording

from edgecraft.models.motion import shake_detector, shake_recording

KWS_LABELS = "down,go,left,no,off,on,right,stop,up,yes,silence,unknown"
KEYWORDS = KWS_LABELS.split(",")[:10]


def edgecraft(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "edgecraft", *args], capture_output=True, text=True,
                          timeout=180)


@pytest.fixture(scope="module")
def tone_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tone")
    (d / "tone.tflite").write_bytes(write_tflite(tone_detector()))
    wavfile.write(d / "bursts.wav", 16000, tone_recording([2.0, 5.0, 8.0], 10.0))
    return d / "tone.tflite", d / "bursts.wav"


def test_wav_json_contract(tone_files: tuple[Path, Path]) -> None:
    model, wav = tone_files
    r = edgecraft("stream", str(model), "--wav", str(wav), "--features", "kws-mfcc", "--labels", "noise,tone",
                  "--board", "nano33ble", "--battery", "220mAh@3.0V", "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    dets = out["detections"]
    assert [d["label"] for d in dets] == ["tone"] * 3
    assert all(set(d) == {"time_s", "label", "score"} for d in dets)
    for d, burst in zip(dets, [2.0, 5.0, 8.0], strict=True):
        assert burst < d["time_s"] <= burst + 1.4 and 0.6 <= d["score"] <= 1.0
    assert out["stats"]["inferences"] == 37 and len(out["windows"]) == 37
    p = out["power"]
    assert p["board"] == "nano33ble" and p["inferences_per_s"] == pytest.approx(3.7) and p["feature_ms"] > 0
    assert p["average_mw"] > 0 and p["battery_life_h"] == pytest.approx(660 / p["average_mw"], rel=1e-3)


def test_table_labels_file_and_power(tone_files: tuple[Path, Path], tmp_path: Path) -> None:
    model, wav = tone_files
    labels = tmp_path / "labels.txt"
    labels.write_text("noise\ntone\n")
    png = tmp_path / "power.png"
    r = edgecraft("stream", str(model), "--wav", str(wav), "--labels", str(labels), "--board", "nano33ble",
                  "--battery", "220mAh@3.0V", "--plot-power", str(png), "--duty-ms", "500")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("tone") >= 3 and "battery 220 mAh" in r.stdout and "days" in r.stdout
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_tune_picks_an_operating_point(tone_files: tuple[Path, Path], tmp_path: Path) -> None:
    model, wav = tone_files
    events = tmp_path / "events.csv"
    events.write_text("start_s,end_s,label\n2.0,2.4,tone\n5.0,5.4,tone\n8.0,8.4,tone\n")
    r = edgecraft("stream", str(model), "--wav", str(wav), "--labels", "noise,tone", "--tune", str(events),
                  "--max-fa-per-hour", "0", "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    op = out["tuning"]["operating_point"]
    assert op["fa_per_hour"] == 0 and op["frr"] == 0 and out["tuning"]["events"] == 3
    assert out["postprocessing"]["threshold"] == op["threshold"] and len(out["detections"]) == 3
    assert all({"fa_per_hour", "frr", "threshold"} <= set(row) for row in out["tuning"]["pareto"])


def test_csv_motion(tmp_path: Path) -> None:
    model = tmp_path / "shake.tflite"
    model.write_bytes(write_tflite(shake_detector()))
    rec = shake_recording([3.0, 8.0], 12.0)
    csv = tmp_path / "imu.csv"
    t = np.arange(len(rec)) / 100.0
    csv.write_text("t,ax,ay,az\n" + "\n".join(f"{a:.2f},{x:.4f},{y:.4f},{z:.4f}" for a, (x, y, z) in
                                             zip(t, rec, strict=True)))
    r = edgecraft("stream", str(model), "--csv", str(csv), "--features", "imu", "--labels",
                  "background,shake", "--suppression-ms", "3000", "--format", "json")
    assert r.returncode == 0, r.stderr
    dets = json.loads(r.stdout)["detections"]
    assert [d["label"] for d in dets] == ["shake", "shake"]
    assert 3.0 < dets[0]["time_s"] < 5.0 and 8.0 < dets[1]["time_s"] < 10.0


@pytest.mark.parametrize(("extra", "message"), [
    (["--labels", "a,b,c"], "3 labels"),
    (["--labels", "noise,tone", "--csv", "x.csv"], "exactly one of"),
    (["--labels", "noise,tone", "--board", "nano33ble", "--battery", "lots"], "220mAh@3.0V"),
    (["--labels", "noise,tone", "--features", "nope"], "unknown feature preset"),
])
def test_bad_input_is_one_line_exit_2(tone_files: tuple[Path, Path], extra: list[str], message: str,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from edgecraft.cli.app import main

    model, wav = tone_files
    monkeypatch.setattr(sys, "argv", ["edgecraft", "stream", str(model), "--wav", str(wav), *extra])
    with pytest.raises(SystemExit) as e:  # in process: main() is what the console script runs
        main()
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.startswith("error:") and message in err
    assert len(err.strip().splitlines()) == 1


def kws_model() -> Path:
    model = CONFORMANCE / "kws_ref_model.tflite"
    if not model.exists():
        pytest.skip(f"conformance corpus not found at {CONFORMANCE} (CI has it beside the clone)")
    return model


@pytest.mark.conformance
def test_marvin_is_unknown() -> None:
    model = kws_model()
    r = edgecraft("stream", str(model), "--wav", str(CONFORMANCE / "marvin_617de221_0.wav"), "--channel", "0",
                  "--features", "kws-mfcc", "--labels", KWS_LABELS, "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["detections"] == []
    assert [w["label"] for w in out["windows"]] == ["unknown"]


def espeak_clip(word: str, voice: str, wpm: int, where: Path) -> np.ndarray:
    """One word from espeak-ng (22050 Hz), resampled to 16 kHz mono int16."""
    from scipy.signal import resample_poly

    path = where / f"{word}_{voice}_{wpm}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(path), word], check=True,
                   capture_output=True, timeout=30)
    rate, data = wavfile.read(path)
    assert rate == 22050
    x = resample_poly(data.astype(np.float64), 320, 441)  # 22050 * 320 / 441 = 16000
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


@pytest.mark.conformance
def test_espeak_keywords_through_stream(tmp_path: Path) -> None:
    """The ten keywords, voices en and en-us at 140 and 175 words per minute, one per second of
    a recording (0.2 s of silence, the word, silence to the end of the second, as the training
    clips are padded); `edgecraft stream --stride-ms 1000` runs the model once per second, so
    window k is clip k. Prints the accuracy; a faithful front end gets about three in four."""
    model = kws_model()
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    slots, truth = [], []
    for word in KEYWORDS:
        for voice in ("en", "en-us"):
            for wpm in (140, 175):
                clip = espeak_clip(word, voice, wpm, tmp_path)[:12800]
                pad = np.zeros(12800 - len(clip), np.int16)
                slots.append(np.concatenate([np.zeros(3200, np.int16), clip, pad]))
                truth.append(word)
    wav = tmp_path / "keywords.wav"
    wavfile.write(wav, 16000, np.concatenate(slots))
    r = edgecraft("stream", str(model), "--wav", str(wav), "--features", "kws-mfcc", "--labels", KWS_LABELS,
                  "--stride-ms", "1000", "--format", "json")
    assert r.returncode == 0, r.stderr
    predicted = [w["label"] for w in json.loads(r.stdout)["windows"]]
    assert len(predicted) == len(truth) == 40
    accuracy = float(np.mean([p == t for p, t in zip(predicted, truth, strict=True)]))
    print(f"espeak-ng keywords through edgecraft stream: {accuracy:.3f} ({round(accuracy * 40)}/40)")
    assert accuracy >= 0.6


def test_labels_from_a_list_or_a_file(tmp_path: Path) -> None:
    from edgecraft.cli.common import UserError
    from edgecraft.cli.stream_cmd import parse_labels

    (tmp_path / "l.txt").write_text("yes\n\nno\n")
    assert parse_labels(str(tmp_path / "l.txt")) == ["yes", "no"] and parse_labels("a, b") == ["a", "b"]
    with pytest.raises(UserError, match="empty"):
        parse_labels(" , ")
