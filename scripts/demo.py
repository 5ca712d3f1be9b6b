"""The end-to-end demo: train, quantize, inspect, run, plan, profile, build, emulate, verify,
then stream sensor data through the device loop with a power estimate.

Everything runs offline on a model this script trains itself (scikit-learn's bundled 8x8
digits, a small CNN in PyTorch). Each stage is the `edgecraft` command a user would type; the
script prints each command before running it, and checks at the end that the Python runtime,
TensorFlow Lite Micro and the emulated Cortex-M4 gave identical int8 outputs.

Run it with ``bash scripts/demo.sh`` (which sets everything up first). Output: ``demo-out/``.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "demo-out"
EDGECRAFT = [sys.executable, "-m", "edgecraft"]


def step(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m", flush=True)


def edgecraft(*args: str, json_out: bool = False) -> dict | None:
    """Run one edgecraft command as a user would, echoing it; return its JSON if asked."""
    shown = " ".join(shlex.quote(str(a)) for a in args)
    print(f"$ edgecraft {shown}", flush=True)
    cmd = [*EDGECRAFT, *args, *(["--format", "json"] if json_out else [])]
    r = subprocess.run(cmd, cwd=ROOT, text=True, capture_output=json_out)
    if r.returncode != 0:
        sys.exit(f"demo: 'edgecraft {shown}' failed ({r.returncode}): {r.stderr if json_out else ''}")
    if json_out:
        return json.loads(r.stdout)
    return None


def train() -> None:
    """Stage 1 in Python: train the float model (the user's own training loop would go here)."""
    import torch

    from edgecraft.models.digits import digits_cnn, load_digits
    from edgecraft.optimize import accuracy, fit

    d = load_digits(16, seed=0)
    model = fit(digits_cnn(width=8, size=16), d.x_train, d.y_train, epochs=8, seed=0)
    print(f"float accuracy on {len(d.y_val)} held-out digits: {accuracy(model, d.x_val, d.y_val):.3f}")
    torch.save(model.state_dict(), OUT / "digits.pt")
    np.save(OUT / "calibration.npy", d.x_train[:256])
    np.save(OUT / "holdout.npy", d.x_val[:128])
    np.save(OUT / "val_images.npy", d.x_val)
    np.save(OUT / "val_labels.npy", d.y_val)


def main() -> None:
    os.environ.setdefault("LITERT_TORCH_SHOW_PROGRESS", "n")
    OUT.mkdir(exist_ok=True)
    start = time.time()
    model_py = "src/edgecraft/models/digits.py:digits_cnn"
    tflite = OUT / "digits_int8.tflite"

    step("1. train a small CNN on handwritten digits (PyTorch, bundled data, offline)")
    train()

    step("2. quantize to full int8 (litert-torch PT2E; edgecraft finishes SOFTMAX in int8)")
    edgecraft("quantize", model_py, "--weights", str(OUT / "digits.pt"), "--calibration",
              str(OUT / "calibration.npy"), "--holdout", str(OUT / "holdout.npy"), "--out", str(tflite))

    step("3. inspect the model")
    edgecraft("inspect", str(tflite))

    step("4. run it in edgecraft's reference runtime")
    from edgecraft.formats import read_tflite

    graph = read_tflite(tflite)
    inp = graph.input_tensors()[0]
    images = np.load(OUT / "val_images.npy")
    labels = np.load(OUT / "val_labels.npy")
    scale, zp = inp.scale, inp.zero_point
    q = np.clip(np.round(images.reshape(len(images), *inp.shape[1:]) / scale) + zp, -128, 127).astype(np.int8)
    np.save(OUT / "x.npy", q[:1])
    edgecraft("run", str(tflite), "--input", str(OUT / "x.npy"), "--output", str(OUT / "y_python.npy"))
    from edgecraft.runtime import Interpreter

    interp = Interpreter(graph)
    preds = np.array([int(np.argmax(interp.run([q[i : i + 1]])[0])) for i in range(len(q))])
    print(f"int8 accuracy in edgecraft's runtime on {len(q)} held-out digits: {np.mean(preds == labels):.3f}")

    step("5. plan memory: TFLM's greedy planner vs edgecraft's default")
    greedy = edgecraft("plan", str(tflite), "--algorithm", "greedy", json_out=True)
    best = edgecraft("plan", str(tflite), "--plot", str(OUT / "arena.png"), json_out=True)
    assert greedy is not None and best is not None
    print(f"arena: greedy (TFLM) {greedy['arena_bytes']:,} B, {best['algorithm']} {best['arena_bytes']:,} B, "
          f"live-tensor lower bound {best['lower_bound_bytes']:,} B; plot in {OUT / 'arena.png'}")

    step("6. profile on boards (RAM and flash exact; latency and energy estimated)")
    edgecraft("profile", str(tflite), "--target", "nano33ble")

    step("7. build a dependency-free C library (CMake + Arduino) for a Cortex-M4")
    edgecraft("build", str(tflite), "--target", "qemu-m4", "--out", str(OUT / "c-qemu-m4"))

    step("8. emulate on QEMU's Cortex-M4 (mps2-an386): exact outputs, sizes, instruction count")
    emu = edgecraft("emulate", str(tflite), "--target", "qemu-m4", "--input", str(OUT / "x.npy"),
                    "--output", str(OUT / "y_qemu.npy"), json_out=True)
    assert emu is not None
    print(f"instructions per inference {emu['instructions']:,}, flash {emu['flash_bytes']:,} B, "
          f"RAM {emu['ram_bytes']:,} B, stack {emu['stack_bytes']:,} B on {emu['machine']}")

    step("9. verify: Python runtime, TensorFlow Lite Micro and the emulated Cortex-M4 agree exactly")
    from edgecraft.reference import run_tflm

    y_python = np.load(OUT / "y_python.npy")
    y_qemu = np.load(OUT / "y_qemu.npy").reshape(y_python.shape)
    y_tflm = run_tflm(tflite.read_bytes(), [q[:1]])[0]
    for name, y in (("python", y_python), ("tflm", y_tflm), ("qemu", y_qemu)):
        print(f"{name:7}{y.ravel().tolist()}")
    if not (np.array_equal(y_python, y_tflm) and np.array_equal(y_python, y_qemu)):
        sys.exit("demo: MISMATCH between runtimes")
    print(f"identical. digit predicted: {int(np.argmax(y_python))}, label: {int(labels[0])}")

    step("10. stream: the on-device loop on live sensor data, with power and battery life")
    from edgecraft.formats import write_tflite
    from edgecraft.models.motion import shake_detector, shake_recording

    (OUT / "shake.tflite").write_bytes(write_tflite(shake_detector()))
    rec = shake_recording([3.0, 8.0], 12.0)  # accelerometer at 100 Hz, two shakes
    t = np.arange(len(rec)) / 100.0
    rows = "\n".join(f"{a:.2f},{x:.4f},{y:.4f},{z:.4f}" for a, (x, y, z) in zip(t, rec, strict=True))
    (OUT / "imu.csv").write_text("t,ax,ay,az\n" + rows + "\n")
    edgecraft("stream", str(OUT / "shake.tflite"), "--csv", str(OUT / "imu.csv"), "--features", "imu",
              "--labels", "background,shake", "--suppression-ms", "3000", "--board", "nano33ble",
              "--battery", "220mAh@3.0V")
    print(f"\ndemo finished in {time.time() - start:.0f} s; artifacts in {OUT}")


if __name__ == "__main__":
    main()
