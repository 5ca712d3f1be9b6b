"""The end-to-end demo: train, quantize, inspect, run, plan, profile, build, emulate, verify,
then stream sensor data through the device loop with a power estimate, operate a fleet, train
an application (gesture recognition) from generated data to a board build and an emulated
firmware, export to ONNX and back, price an edge-cloud cascade, search for models that fit a
board (Ray Tune) and train federated (Flower).

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
import shutil
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


def edgecraft(*args: str, json_out: bool = False, quiet: bool = False) -> dict | None:
    """Run one edgecraft command as a user would, echoing it; return its JSON if asked."""
    shown = " ".join(shlex.quote(str(a)) for a in args)
    if not quiet:
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


def fleet_demo() -> None:
    """Stage 11: a fleet server and 20 simulated devices; a retrained version rolls out in
    stages, then a bad one is stopped by the gate and every touched device rolls back."""
    step("11. fleet: signed OTA rollouts to 20 simulated devices; a bad version is gated and rolled back")
    state, models = OUT / "fleet", OUT / "fleet-models"
    shutil.rmtree(state, ignore_errors=True)
    shutil.rmtree(OUT / "fleet-devices", ignore_errors=True)
    print(f"$ edgecraft fleet serve --state-dir {state} --port 0 &", flush=True)
    server = subprocess.Popen([*EDGECRAFT, "fleet", "serve", "--state-dir", str(state), "--port", "0",
                               "--format", "json"], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              stderr=subprocess.DEVNULL)
    sim: subprocess.Popen[str] | None = None
    try:
        assert server.stdout is not None
        info = json.loads(server.stdout.readline())
        at = ("--state-dir", str(state))
        edgecraft("fleet", "example-models", str(models))
        edgecraft("fleet", "publish", str(models / "good.tflite"), "--version", "1.0.0", *at)
        edgecraft("fleet", "provision", "--count", "20", "--out", str(OUT / "devices.json"), *at)
        print(f"$ edgecraft fleet simulate --model {models / 'good.tflite'} --version 1.0.0 "
              f"--credentials {OUT / 'devices.json'} &", flush=True)
        sim = subprocess.Popen([*EDGECRAFT, "fleet", "simulate", "--model", str(models / "good.tflite"),
                                "--version", "1.0.0", "--credentials", str(OUT / "devices.json"),
                                "--root", str(OUT / "fleet-devices"), "--interval", "0.5"],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            devs = edgecraft("fleet", "devices", *at, json_out=True, quiet=True)
            if devs is not None and all(d["model_version"] == "1.0.0" for d in devs["devices"]):
                break
            time.sleep(1)
        edgecraft("fleet", "publish", str(models / "retrained.tflite"), "--version", "1.0.1", *at)
        edgecraft("fleet", "deploy", "1.0.1", "--to", "all", "--canary", "10%", "--stages", "100",
                  "--gate", "error_rate<0.02,p95_latency_ms<50,accuracy_drop<0.03", "--wait", *at)
        edgecraft("fleet", "publish", str(models / "bad.tflite"), "--version", "1.1.0", *at)
        edgecraft("fleet", "deploy", "1.1.0", "--to", "all", "--canary", "10%", "--stages", "50,100",
                  "--gate", "error_rate<0.02,p95_latency_ms<50,accuracy_drop<0.03", "--wait", *at)
        edgecraft("fleet", "devices", *at)
        final = edgecraft("fleet", "devices", *at, json_out=True, quiet=True)
        assert final is not None
        versions = sorted({d["model_version"] for d in final["devices"]})
        if versions != ["1.0.1"]:
            sys.exit(f"demo: after the rollback the fleet runs {versions}, expected only 1.0.1")
        print("every device runs the good version 1.0.1 again")
        print(f"dashboard was at {info['url']}/ (admin token in {state / 'admin.token'})")
    finally:
        for proc in (sim, server):
            if proc is not None:
                proc.terminate()
                proc.wait(30)


def app_demo() -> None:
    """Stage 12: an application from data to device: a gesture recognizer made from motion
    models of people, trained, quantized, profiled, built for its board, then streamed."""
    step("12. an application end to end: gesture data -> training -> int8 -> board build -> stream")
    app = OUT / "gesture-app"
    shutil.rmtree(app, ignore_errors=True)
    edgecraft("app", "new", "gesture", str(app))
    r = edgecraft("train", str(app), "--quick", json_out=True)
    assert r is not None
    print(f"int8 accuracy on people never seen in training: {r['metrics']['accuracy']:.3f}; "
          f"RAM {r['ram_bytes']:,} B, flash {r['flash_bytes']:,} B; report {r['report']}")
    edgecraft("stream", str(app), "--csv", r["demo"]["csv"])
    print("the same loop as one firmware on the board's emulated core (front end, model, C post-processing):")
    emu = edgecraft("emulate", str(app), "--csv", r["demo"]["csv"], json_out=True)
    assert emu is not None
    print(json.dumps({k: v for k, v in emu.items() if not isinstance(v, (list, dict))}, indent=1))


def onnx_demo(tflite: Path, x: Path, y_python: Path) -> None:
    """Stage 13: the int8 model as an ONNX QDQ file; edgecraft reads it back as the same graph."""
    step("13. ONNX out and in: export the int8 model, read it back, same outputs")
    onnx_path = OUT / "digits_int8.onnx"
    edgecraft("export", str(tflite), "--onnx", str(onnx_path))
    edgecraft("run", str(onnx_path), "--input", str(x), "--output", str(OUT / "y_onnx.npy"))
    if not np.array_equal(np.load(OUT / "y_onnx.npy"), np.load(y_python)):
        sys.exit("demo: the re-imported ONNX model gave other outputs")
    print("the .onnx read back runs bit-exactly as the .tflite")


def later_stages_demo() -> None:
    """Stages 14-16 on the gesture application: the edge-cloud cascade against a larger model,
    a hardware-aware search on Ray, and federated training on Flower's simulation engine; stage
    17: the sine application's hello-world loop on QEMU."""
    app = OUT / "gesture-app"
    step("14. edge-cloud cascade: unsure readings go to a larger model over BLE")
    big = OUT / "gesture-big"
    shutil.rmtree(big, ignore_errors=True)
    edgecraft("app", "new", "gesture", str(big))
    toml = big / "app.toml"
    toml.write_text(toml.read_text().replace('size = "small"', 'size = "medium"'))
    edgecraft("train", str(big), "--quick", json_out=True)
    sweep = edgecraft("cascade", "sweep", str(app), "--edge", str(app), "--cloud", str(big),
                      "--plot", str(OUT / "cascade.png"), json_out=True)
    assert sweep is not None
    for p in sweep["points"][:: max(1, len(sweep["points"]) // 5)]:
        print({k: p[k] for k in p if not isinstance(p[k], (list, dict))})
    print(f"trade-off plot in {OUT / 'cascade.png'}")

    step("15. hardware-aware search on Ray: candidates that cannot fit nano33ble are never trained")
    edgecraft("search", str(app), "--target", "nano33ble", "--trials", "4", "--quick")

    step("16. federated learning on Flower: 200 people train the gesture model where their data lives")
    edgecraft("fl", "simulate", str(app), "--clients", "200", "--rounds", "8", "--fraction", "0.1")

    step("17. TinyML's hello world: the sine app trained, and TFLM's LED loop run on QEMU")
    sine = OUT / "sine-app"
    shutil.rmtree(sine, ignore_errors=True)
    edgecraft("app", "new", "sine", str(sine))
    edgecraft("train", str(sine), "--quick")
    edgecraft("emulate", str(sine))


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

    step("8. emulate on QEMU's Cortex-M4 (mps2-an386): exact outputs, sizes, instructions, cycles on a board")
    emu = edgecraft("emulate", str(tflite), "--target", "qemu-m4", "--input", str(OUT / "x.npy"),
                    "--output", str(OUT / "y_qemu.npy"), "--board", "stm32l4r5-nucleo", json_out=True)
    assert emu is not None
    print(f"instructions per inference {emu['instructions']:,}, flash {emu['flash_bytes']:,} B, "
          f"RAM {emu['ram_bytes']:,} B in all (stack {emu['stack_bytes']:,} B of it) on {emu['machine']}")
    print(f"priced for {emu['board']} at {emu['clock_mhz']} MHz (cycle model per instruction class, "
          f"flash wait states): {emu['cycles']:,} cycles = {emu['latency_ms']:.2f} ms "
          f"+-{emu['latency_error_pct']}%, {emu['energy_uj']:.1f} uJ per inference")

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
    fleet_demo()
    app_demo()
    onnx_demo(tflite, OUT / "x.npy", OUT / "y_python.npy")
    later_stages_demo()
    print(f"\ndemo finished in {time.time() - start:.0f} s; artifacts in {OUT}")


if __name__ == "__main__":
    main()
