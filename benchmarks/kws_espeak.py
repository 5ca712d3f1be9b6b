"""The MLPerf Tiny KWS model on keywords spoken by espeak-ng, through edgecraft's front end,
runtime and streaming loop.

Run: ``.venv/bin/python benchmarks/kws_espeak.py [--no-tuning]``

1. Accuracy on the ten keywords (voices en and en-us, 140 and 175 words per minute, resampled
   to 16 kHz mono; each clip 0.2 s into its own 1 s window) with the faithful ``kws-mfcc`` front
   end, TFLM on the same features, and deliberately wrong front ends for contrast.
2. Tuning: the 40 clips in one recording over noise, scored once, the post-processing swept;
   prints the false accepts per hour vs false reject rate trade-offs and the operating point.

Needs ../shared/conformance (the model) and espeak-ng.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from scipy.io import wavfile
from scipy.signal import resample_poly

from edgecraft.device import ModelRunner, audio_featurizer, operating_point, pareto, score_recording, sweep
from edgecraft.device.tuning import synth_recording
from edgecraft.dsp import KWS_MFCC, AudioFeatures, mfcc, quantize
from edgecraft.formats import read_tflite
from edgecraft.reference import TflmRunner
from edgecraft.runtime import Interpreter

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT.parent / "shared" / "conformance" / "kws_ref_model.tflite"
LABELS = ["down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "silence", "unknown"]
VARIANTS = {
    "kws-mfcc (faithful)": KWS_MFCC,
    "no peak normalization": KWS_MFCC.with_(normalize="none"),
    "int16 not scaled to [-1, 1]": KWS_MFCC.with_(normalize="none", input_scale=1.0),
    "orthonormal DCT": KWS_MFCC.with_(dct_norm="ortho"),
    "power spectrum": KWS_MFCC.with_(magnitude_power=2),
    "mel 20..8000 Hz": KWS_MFCC.with_(mel_high_hz=8000.0),
    "symmetric Hamming window": KWS_MFCC.with_(window_type="hamming", window_periodic=False),
}


def synth(word: str, voice: str, wpm: int, where: Path) -> np.ndarray:
    """espeak-ng at 22050 Hz -> 16 kHz int16."""
    path = where / f"{word}_{voice}_{wpm}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(path), word], check=True)
    _, data = wavfile.read(path)
    x = resample_poly(data.astype(np.float64), 320, 441)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def clips(where: Path) -> list[tuple[str, np.ndarray]]:
    return [(w, synth(w, v, s, where)) for w in LABELS[:10] for v in ("en", "en-us") for s in (140, 175)]


def slot(clip: np.ndarray) -> np.ndarray:
    """0.2 s of silence, the clip, silence to one second."""
    c = clip[:12800]
    return np.concatenate([np.zeros(3200, np.int16), c, np.zeros(12800 - len(c), np.int16)])


def accuracy(cfg: AudioFeatures, data: list[tuple[str, np.ndarray]], run: object) -> float:
    graph_in = run.input  # type: ignore[attr-defined]
    scale, zp = float(graph_in.quant.scale[0]), int(graph_in.quant.zero_point[0])
    right = 0
    for word, clip in data:
        x = quantize(mfcc(slot(clip), cfg), scale, zp).reshape(1, 49, 10, 1)
        right += LABELS[int(np.argmax(run.interp.run([x])[0]))] == word  # type: ignore[attr-defined]
    return right / len(data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-tuning", action="store_true", help="skip the tuning sweep")
    args = ap.parse_args()
    console = Console()
    if not MODEL.exists() or shutil.which("espeak-ng") is None:
        console.print(f"needs {MODEL} and espeak-ng; skipped")
        sys.exit(0)
    graph = read_tflite(MODEL)
    runner = ModelRunner(graph)
    with tempfile.TemporaryDirectory() as tmp:
        data = clips(Path(tmp))

    table = Table(title="espeak-ng keywords (40 clips), top-1 accuracy", title_justify="left")
    table.add_column("front end")
    table.add_column("accuracy", justify="right")
    for name, cfg in VARIANTS.items():
        table.add_row(name, f"{accuracy(cfg, data, runner):.3f}")
    console.print(table)

    # the same features through TFLM: edgecraft's runtime must agree on every clip
    tflm = TflmRunner(MODEL.read_bytes())
    interp = Interpreter(graph)
    q = graph.input_tensors()[0].quant
    assert q is not None
    same = 0
    for _, clip in data:
        x = quantize(mfcc(slot(clip)), float(q.scale[0]), int(q.zero_point[0])).reshape(1, 49, 10, 1)
        same += bool(np.array_equal(interp.run([x])[0], tflm.run([x])[0]))
    console.print(f"edgecraft runtime == TFLM on {same}/{len(data)} clips")

    if args.no_tuning:
        return
    audio, events = synth_recording(data, 16000, gap_s=(1.0, 2.5), noise_rms=100.0, seed=0)
    times, scores = score_recording(audio, runner, audio_featurizer(KWS_MFCC), 16000, 4000, 16000)
    duration = len(audio) / 16000
    rows = sweep(times, scores, LABELS, events, duration, 1.0)
    title = f"tuning on {duration:.0f} s ({len(events)} keywords over noise), {len(rows)} settings"
    tab = Table(title=title + ": best trade-offs", title_justify="left")
    for col in ("threshold", "smoothing s", "suppression s", "min count", "FA/hour", "FRR"):
        tab.add_column(col)
    for r in pareto(rows):
        tab.add_row(*(str(r[k]) for k in ("threshold", "smoothing_s", "suppression_s", "min_count")),
                    f"{r['fa_per_hour']:.1f}", f"{r['frr']:.3f}")
    console.print(tab)
    op = operating_point(rows, max_fa_per_hour=60.0)
    console.print(f"operating point at <= 60 FA/hour: {op}")


if __name__ == "__main__":
    main()
