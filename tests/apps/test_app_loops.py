"""The device loops of sine and person: `stream DIR` runs them in Python, `emulate DIR` runs their
C twins as one firmware on qemu-m4, and both give the same values (sine: every step's x, int8
input and output, y and LED brightness; person: every frame's top label and score and every
detection)."""

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


@pytest.mark.xdist_group("app-sine-person")  # one worker trains the template
def test_sine_runs_tflm_hello_world_loop_in_python_and_on_qemu(sine: tuple[Path, dict[str, Any]]) -> None:
    d, _ = sine
    out = edgecraft("stream", str(d), "--format", "json")
    assert out.returncode == 0, out.stderr
    s = json.loads(out.stdout)
    rows = s["rows"]
    assert s["steps"] == 20 and len(rows) == 20 and s["stride_s"] == pytest.approx(0.05)
    x = np.array([r["x"] for r in rows])
    assert np.allclose(x, np.arange(20) / 20 * 2 * np.pi, atol=1e-6)  # one sweep of [0, 2 pi)
    assert all(np.diff([r["x_q"] for r in rows]) > 0)  # the int8 input follows x
    y = np.array([r["y"] for r in rows])
    assert np.max(np.abs(y - np.sin(x))) < 0.35  # the int8 model draws the sine
    f = np.float32
    for r in rows:  # the LED: (int)(127.5 * (y + 1)), clamped to 0..255
        assert r["brightness"] == min(255, max(0, int(f(127.5) * (f(r["y"]) + f(1)))))
    assert max(r["brightness"] for r in rows) > 200 and min(r["brightness"] for r in rows) < 55
    longer = json.loads(edgecraft("stream", str(d), "--inferences", "25", "--format", "json").stdout)["rows"]
    assert len(longer) == 25 and longer[20]["x"] == rows[0]["x"] and longer[24] == {**rows[4], "step": 24,
                                                                                    "time_s": 1.2}
    em = edgecraft("emulate", str(d), "--format", "json")
    assert em.returncode == 0, em.stderr
    e = json.loads(em.stdout)
    assert e["rows"] == rows and e["python"] == {"rows_equal": 20, "rows": 20}  # C = Python, bit for bit
    em_ = e["emulation"]
    assert em_["target"] == "qemu-m4" and 1000 < em_["instructions_per_inference"] < 100_000
    assert e["power"]["board"] == "nano33ble" and 0 < e["power"]["duty_cycle"] < 0.01
    bad = edgecraft("stream", str(d), "--wav", str(d / "app.toml"))
    assert bad.returncode == 2 and "sine app" in bad.stderr and "hello-world" in bad.stderr
    unused = edgecraft("stream", str(d), "--threshold", "0.5")  # nothing to detect in a regression
    assert unused.returncode == 2 and "--threshold does not apply" in unused.stderr


def _frames(folder: Path, people: list[bool], size: int, seed: int) -> None:
    from PIL import Image

    from edgecraft.apps.data.person import image

    rng = np.random.default_rng(seed)
    folder.mkdir()
    for i, p in enumerate(people):
        Image.fromarray(image(p, size, rng)).save(folder / f"frame{i:03d}.png")


@pytest.mark.xdist_group("app-sine-person")  # one worker trains the template
def test_person_streams_camera_frames_in_python_and_on_qemu(
    person: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    d, _ = person
    walk = [False] * 3 + [True] * 5 + [False] * 3  # somebody walks through the picture
    _frames(tmp_path / "cam", walk, 40, 3)  # 40x40 frames, cropped and resized to the model's 32x32
    out = edgecraft("stream", str(d), "--images", str(tmp_path / "cam"), "--format", "json")
    assert out.returncode == 0, out.stderr
    s = json.loads(out.stdout)
    assert [w["frame"] for w in s["windows"]] == [f"frame{i:03d}.png" for i in range(11)]  # sorted order
    assert [w["time_s"] for w in s["windows"]] == pytest.approx([0.5 * i for i in range(11)])  # stride_ms 500
    post = s["postprocessing"]  # the template's [stream]: non_person never reported, two frames in a row
    assert post["ignore"] == ["non_person"] and post["min_count"] == 2 and post["suppression_s"] == 5.0
    assert {det["label"] for det in s["detections"]} <= {"person"}
    from edgecraft.apps.use import emulate_app, stream_app

    loose = {"threshold": 0.3, "min_count": 1, "suppression_ms": 1000.0}  # so that some frames fire
    e = emulate_app(d, images=str(tmp_path / "cam" / "frame*.png"), **loose)
    py = stream_app(d, images=str(tmp_path / "cam"), **loose)
    assert e["detections"] and e["detections"] == py["detections"]
    assert e["python"]["windows_equal"] == e["python"]["windows"] == 11 and e["python"]["detections_equal"]
    assert e["stats"] == py["stats"] and e["emulation"]["instructions_per_inference"] > 100_000
    assert e["power"]["board"] == "nano33ble" and 0 < e["power"]["duty_cycle"] < 1
    _frames(tmp_path / "mixed", [True, False], 40, 4)
    _frames(tmp_path / "mixed2", [True], 56, 5)
    (tmp_path / "mixed2" / "frame000.png").rename(tmp_path / "mixed" / "frame002.png")
    bad = edgecraft("emulate", str(d), "--images", str(tmp_path / "mixed"))
    assert bad.returncode == 2 and "frames of one size" in bad.stderr
    none = edgecraft("stream", str(d), "--images", str(tmp_path / "nothing*.png"))
    assert none.returncode == 2 and "no file matches" in none.stderr
    wav = edgecraft("emulate", str(d), "--wav", str(d / "app.toml"))
    assert wav.returncode == 2 and "--images" in wav.stderr
    events = tmp_path / "events.csv"
    events.write_text("start_s,end_s,label\n1,2,person\n")
    tune = edgecraft("stream", str(d), "--images", str(tmp_path / "cam"), "--tune", str(events))
    assert tune.returncode == 2 and "--tune does not apply" in tune.stderr


def _compiles(src: Path) -> None:
    import shutil

    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    for c in sorted(src.glob("*.c")):
        flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-mcpu=cortex-m4", "-mthumb",
                 "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]
        proc = subprocess.run([gcc, *flags, "-c", str(c), "-o", "/dev/null"], capture_output=True, text=True)
        assert proc.returncode == 0, (c.name, proc.stderr[-1500:])


@pytest.mark.xdist_group("app-sine-person")  # one worker trains the template
def test_build_ships_the_loops_and_sizes_the_image_front_end_to_the_model(
    sine: tuple[Path, dict[str, Any]], person: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """`build DIR`: sine's project has the hello-world step (`ec_sine_step`), person's the frame
    step (`ec_frames_step`), both the code the emulated loops run; the image front end quantizes
    to the model's own input scale, not the preset's 1/128."""
    from edgecraft.formats import read_tflite

    d, r = person
    out = edgecraft("build", str(d), "--out", str(tmp_path / "person"), "--format", "json")
    assert out.returncode == 0, out.stderr
    src = tmp_path / "person" / "src"
    names = {p.name for p in src.iterdir()}
    assert {"ec_frames_loop.c", "ec_frames_loop.h", "ec_stream.c", "ec_person.c"} <= names
    q = read_tflite(Path(r["model"])).input_tensors()[0].quant
    assert q is not None
    cfg = (src / "ec_person.c").read_text()
    assert f"{float(np.float32(q.scale[0])):.9g}f" in cfg and "0.0078125f" not in cfg
    assert "person_invoke(" in (src / "ec_frames_loop.c").read_text()
    _compiles(src)
    d, _ = sine
    assert edgecraft("build", str(d), "--out", str(tmp_path / "sine")).returncode == 0
    src = tmp_path / "sine" / "src"
    assert "sine_invoke(" in (src / "ec_sine_loop.c").read_text()
    _compiles(src)
