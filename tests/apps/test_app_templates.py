"""Every template end to end at --quick size: `edgecraft train DIR --format json` trains,
quantizes, scores, profiles, builds and reports; `stream DIR` runs the app's device loop on its
demo recording (and `emulate DIR` runs that loop as one firmware on QEMU); `evaluate DIR --data`
scores new data. One trained app per template, shared by every test (and xdist worker) of the
session."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.torch


def edgecraft(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgecraft", *args], capture_output=True, text=True, timeout=600
    )


def _common(d: Path, result: dict[str, Any]) -> None:
    assert {"model", "labels", "metrics", "report", "ram_bytes", "flash_bytes"} <= set(result)
    assert Path(result["model"]).read_bytes()[4:8] == b"TFL3"
    report = Path(result["report"])
    html = report.read_text()
    for png in ("resources.png", "training.png"):
        assert (report.parent / png).read_bytes()[:4] == b"\x89PNG" and png in html
    assert result["ram_bytes"] > 0 and result["flash_bytes"] > result["ram_bytes"]
    c = Path(result["build"])
    assert (c / "CMakeLists.txt").is_file() and any((c / "src").glob("*.c"))
    assert result["c_flash_bytes"] > 0


@pytest.mark.xdist_group("app-sine-person")  # one worker trains the template
def test_sine_learns_the_sine_and_streams_rows(sine: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    d, r = sine
    _common(d, r)
    assert r["labels"] == ["y"] and r["metrics"]["mae"] < 0.2  # int8 model vs the clean sine
    assert (Path(r["report"]).parent / "fit.png").is_file()
    xs = np.array([0.5, 1.5708, 3.0, 4.7124])
    (tmp_path / "x.csv").write_text("x\n" + "\n".join(map(str, xs)) + "\n")
    out = edgecraft("stream", str(d), "--csv", str(tmp_path / "x.csv"), "--format", "json")
    assert out.returncode == 0, out.stderr
    ys = np.array([row["y"] for row in json.loads(out.stdout)["rows"]])
    assert np.max(np.abs(ys - np.sin(xs))) < 0.35
    (tmp_path / "xy.csv").write_text("x,y\n" + "".join(f"{x},{np.sin(x)}\n" for x in xs))
    ev = edgecraft("evaluate", str(d), "--data", str(tmp_path / "xy.csv"), "--format", "json")
    assert ev.returncode == 0 and json.loads(ev.stdout)["metrics"]["samples"] == 4


@pytest.mark.xdist_group("app-gesture")  # one worker trains the template
def test_gesture_recognizes_held_out_people_and_streams(gesture: tuple[Path, dict[str, Any]]) -> None:
    d, r = gesture
    _common(d, r)
    m = r["metrics"]
    assert r["labels"] == ["circle", "flex", "idle", "punch", "wave"]
    assert m["accuracy"] > 0.7, m  # people never seen in training, int8 model
    assert np.asarray(m["confusion"]).sum() == m["samples"]
    report = Path(r["report"]).parent
    assert (report / "confusion.png").is_file() and (report / "per_class.png").is_file()
    assert (report / "threshold.png").is_file() and "threshold.png" in Path(r["report"]).read_text()
    curve = m["threshold_curve"]  # a detector (idle is never reported): the trade-off per threshold
    fa = [row["false_accepts"] for row in curve]
    assert len(curve) == 19 and fa == sorted(fa, reverse=True) and fa[0] > fa[-1]
    assert (Path(r["build"]) / "src" / "app_scaling.h").is_file()  # the feature scaling goes to the device
    out = edgecraft("stream", str(d), "--csv", r["demo"]["csv"], "--format", "json")
    assert out.returncode == 0, out.stderr
    s = json.loads(out.stdout)
    found = {det["label"] for det in s["detections"]}
    events = [ln.split(",") for ln in Path(r["demo"]["events"]).read_text().splitlines()[1:]]
    assert len(found & {e[2] for e in events}) >= 3, s["detections"]  # most gestures of an unseen person
    assert "idle" not in found  # the spec ignores idle
    assert s["stride_s"] == pytest.approx(0.32)


@pytest.mark.xdist_group("app-gesture")  # one worker trains the template
def test_gesture_emulated_loop_detects_what_the_python_loop_detects(
    gesture: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """`emulate DIR --csv`: the imu front end's C twin, the int8 model and the C post-processing in
    one firmware on qemu-m4 (the machine of the app's nano33ble) give the detections `stream` gives."""
    d, r = gesture
    csv = r["demo"]["csv"]
    streamed = edgecraft("stream", str(d), "--csv", csv, "--format", "json")
    emulated = edgecraft("emulate", str(d), "--csv", csv, "--no-verify", "--format", "json")
    assert streamed.returncode == 0 and emulated.returncode == 0, emulated.stderr
    s, e = json.loads(streamed.stdout), json.loads(emulated.stdout)
    assert len(s["detections"]) >= 3 and e["detections"] == s["detections"]
    assert e["windows"] == s["windows"] and e["stats"] == s["stats"]  # every window's top label and score
    em, p = e["emulation"], e["power"]
    assert em["target"] == "qemu-m4"
    assert em["instructions_per_s"] == pytest.approx(em["instructions"] / e["duration_s"], rel=1e-4)
    assert em["instructions_per_inference"] > 40_000  # the imu front end alone is ~55k per window
    assert p["board"] == "nano33ble" and 0 < p["duty_cycle"] < 0.2 and p["energy_per_day_j"] > 0
    assert em["ram_bytes"] > em["arena_bytes"] > 0 and em["flash_bytes"] > 0
    from edgecraft.apps.use import build_app, emulate_app
    from edgecraft.device.recordings import StreamError

    with pytest.raises(StreamError, match="audio front end"):
        emulate_app(d, wav=Path(csv))
    built = build_app(d, tmp_path / "c")  # `edgecraft build DIR`: the project ships the loop's C too
    assert {"src/ec_stream.c", "src/ec_stream.h", "src/app_scaling.h"} <= set(built["files"])
    assert built["board"] == "nano33ble" and built["flash_bytes"] > 0


@pytest.mark.xdist_group("app-gesture")  # one worker trains the template
def test_gesture_evaluate_on_a_folder_of_csv(gesture: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    from edgecraft.apps.data.gesture import motion, person

    d, _ = gesture
    rng = np.random.default_rng(7)
    who = person(rng)
    for label in ("wave", "idle"):
        (tmp_path / label).mkdir()
        np.savetxt(tmp_path / label / "take1.csv", motion(label, who, 400, 100.0, rng), delimiter=",")
    ev = edgecraft("evaluate", str(d), "--data", str(tmp_path), "--format", "json")
    assert ev.returncode == 0, ev.stderr
    m = json.loads(ev.stdout)["metrics"]
    assert m["samples"] == 2 * (1 + (400 - 128) // 32) and m["accuracy"] > 0.6
    (tmp_path / "jump").mkdir()
    bad = edgecraft("evaluate", str(d), "--data", str(tmp_path))
    assert bad.returncode == 2 and "no label 'jump'" in bad.stderr


@pytest.mark.xdist_group("app-kws")  # one worker trains the template
def test_kws_hears_voices_it_never_heard(kws: tuple[Path, dict[str, Any]]) -> None:
    d, r = kws
    _common(d, r)
    m = r["metrics"]
    assert r["labels"] == [
        "down",
        "go",
        "left",
        "no",
        "off",
        "on",
        "right",
        "stop",
        "up",
        "yes",
        "silence",
        "unknown",
    ]
    assert m["accuracy"] > 0.25, m  # 12 classes (chance 0.08), 3 test voices, 10 training voices, quick size
    assert m["per_class"]["silence"]["recall"] > 0.5
    assert m["hours"] == pytest.approx(0.5 / 60, abs=1e-3) and m["false_accepts_per_hour"] >= 0
    assert m["stream_tuning"]["events"] == 30  # three training voices' demos (10 keywords each)
    assert any(f.name.startswith("ec_") for f in (Path(r["build"]) / "src").iterdir())  # MFCC C twin
    out = edgecraft("stream", str(d), "--wav", r["demo"]["wav"], "--format", "json")
    assert out.returncode == 0, out.stderr
    s = json.loads(out.stdout)
    assert s["features"] == "kws-mfcc" and s["stride_s"] == pytest.approx(0.25)
    assert len(s["windows"]) == s["stats"]["inferences"] > 80  # 21.5 s of audio, a window every 250 ms
    assert not {d["label"] for d in s["detections"]} & {"silence", "unknown"}


@pytest.mark.xdist_group("app-kws")  # one worker trains the template
def test_kws_emulated_loop_equals_the_python_loop(kws: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """The MFCC C twin + DS-CNN + C post-processing on qemu-m4 over 4 s of the demo: every window's
    top label and score and every detection as the Python loop (kept short: 4M instructions a window)."""
    import wave

    from edgecraft.apps.use import emulate_app

    d, r = kws
    with wave.open(r["demo"]["wav"]) as w:
        rate, frames = w.getframerate(), w.readframes(4 * w.getframerate())
    clip = tmp_path / "clip.wav"
    with wave.open(str(clip), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(frames)
    e = emulate_app(d, wav=clip, threshold=0.3)  # a low threshold so that the clip has detections
    py = e["python"]
    assert e["stats"]["inferences"] == 13 and py["windows_equal"] == py["windows"] == 13
    assert py["detections_equal"] and e["detections"], e["windows"]
    assert e["emulation"]["instructions_per_inference"] > 3_000_000  # the MFCC front end's 3.6M included


def test_anomaly_trained_on_normal_sound_flags_faults(anomaly: tuple[Path, dict[str, Any]]) -> None:
    d, r = anomaly
    _common(d, r)
    m = r["metrics"]
    assert r["labels"] == ["normal", "anomaly"]
    assert m["anomalies"] == m["samples"] // 2 and m["auc"] > 0.55 and 0 <= m["pauc"] <= 1, m
    assert 0 < m["fpr"] < 0.5  # the threshold, set on an unseen normal unit, mostly holds on others
    assert set(m["clustering"]) >= {"auc", "pauc", "threshold", "tpr", "fpr"}
    report = Path(r["report"]).parent
    assert (report / "roc.png").is_file() and (report / "threshold.png").is_file()
    out = edgecraft("stream", str(d), "--wav", r["demo"]["wav"], "--format", "json")
    assert out.returncode == 0, out.stderr
    s = json.loads(out.stdout)
    p = {w["time_s"]: (w["score"] if w["label"] == "anomaly" else 1 - w["score"]) for w in s["windows"]}
    fault = [v for t, v in p.items() if 7.0 <= t <= 10.0]  # windows wholly inside the bearing fault
    normal = [v for t, v in p.items() if t <= 6.0 or t >= 11.0]
    assert np.mean(fault) > np.mean(normal), (fault, normal)
    assert {det["label"] for det in s["detections"]} <= {"anomaly"}
    from edgecraft.apps.use import emulate_app

    e = emulate_app(d, wav=Path(r["demo"]["wav"]), compare=False)  # the same loop as one firmware on QEMU
    assert e["windows"] == s["windows"] and e["detections"] == s["detections"]
    assert e["power"]["board"] == "nano33ble" and e["emulation"]["instructions_per_s"] > 0


@pytest.mark.xdist_group("app-sine-person")  # one worker trains the template
def test_person_sees_people_and_reads_an_image_folder(
    person: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    from PIL import Image

    from edgecraft.apps.data.person import image

    d, r = person
    _common(d, r)
    m = r["metrics"]
    assert r["labels"] == ["non_person", "person"] and m["accuracy"] >= 0.55, m  # 32x32 at quick size
    rng = np.random.default_rng(11)
    for label in r["labels"]:
        (tmp_path / label).mkdir()
        for i in range(4):
            Image.fromarray(image(label == "person", 48, rng)).save(tmp_path / label / f"{i}.png")
    ev = edgecraft("evaluate", str(d), "--data", str(tmp_path), "--format", "json")
    assert ev.returncode == 0, ev.stderr
    assert json.loads(ev.stdout)["metrics"]["samples"] == 8  # resized (center crop) to the model's 32x32
    (tmp_path / "person" / "broken.png").write_bytes(b"not a png")
    bad = edgecraft("evaluate", str(d), "--data", str(tmp_path))
    assert bad.returncode == 2 and "cannot read" in bad.stderr
    still = edgecraft("stream", str(d), "--csv", str(tmp_path / "x.csv"))  # frames, not a recording
    assert still.returncode == 2 and "takes --images FOLDER_OR_PATTERN" in still.stderr


def test_wakeword_streams_marvin(wakeword: tuple[Path, dict[str, Any]]) -> None:
    d, r = wakeword
    _common(d, r)
    m = r["metrics"]
    assert r["labels"] == ["marvin", "silence", "unknown"] and m["accuracy"] > 0.45, m  # chance 0.33
    assert "false_accepts_per_hour" in m and "demo_detected" in m
    out = edgecraft("stream", str(d), "--wav", r["demo"]["wav"], "--format", "json")
    assert out.returncode == 0, out.stderr
    s = json.loads(out.stdout)
    tuned = m["stream_tuning"]  # tuned in training on the training voices, used by `stream DIR`
    assert tuned["events"] == 12 and tuned["max_fa_per_hour"] == 6.0
    assert s["features"] == "kws-log-mel"
    assert {k: s["postprocessing"][k] for k in ("threshold", "min_count")} == {
        k: tuned[k] for k in ("threshold", "min_count")
    }
    assert s["postprocessing"]["suppression_s"] == pytest.approx(tuned["suppression_ms"] / 1e3)
    marvin = [w["score"] for w in s["windows"] if w["label"] == "marvin"]
    assert s["stats"]["inferences"] > 60 and len(marvin) > 0  # the loop heard marvin somewhere


def test_training_is_deterministic_with_the_seed() -> None:
    pytest.importorskip("torch")
    from edgecraft.apps.models import mlp
    from edgecraft.apps.spec import Training
    from edgecraft.apps.training import train
    from edgecraft.optimize.train import seed_everything

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 6, (200, 1)).astype(np.float32)
    y = np.sin(x)
    weights = []
    for _ in range(2):
        seed_everything(3)
        m = mlp(1, 1, 8)
        hist = train(m, x, y, x[:40], y[:40], Training(epochs=5, seed=3), "regress", progress=False)
        weights.append(np.concatenate([p.detach().numpy().ravel() for p in m.parameters()]))
    assert hist.best_epoch >= 1
    assert np.array_equal(weights[0], weights[1])


def test_early_stopping_keeps_the_best_epoch() -> None:
    pytest.importorskip("torch")
    from edgecraft.apps.models import mlp
    from edgecraft.apps.spec import Training
    from edgecraft.apps.training import train

    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = rng.normal(size=(64, 1)).astype(np.float32)  # noise: validation stops improving quickly
    hist = train(
        mlp(4, 1, 64),
        x,
        y,
        x[:16] + 5,
        y[:16],
        Training(epochs=200, patience=3, learning_rate=0.05),
        "regress",
        progress=False,
    )
    assert hist.stopped_early and len(hist.val_loss) == hist.best_epoch + 3
    assert hist.val_loss[hist.best_epoch - 1] == min(hist.val_loss)
