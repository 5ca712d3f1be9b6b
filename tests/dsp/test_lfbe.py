"""The str-ww-lfbe preset (MLPerf Tiny streaming wake word features) against an independent float64
transcription of the training code's TensorFlow pipeline (get_dataset.py ``get_lfbe_func``) from
the documented formulas of tf.signal: explicit DFT sums (no FFT), the symmetric Hamming window
``0.54 - 0.46 cos(2 pi n / (N - 1))``, ``linear_to_mel_weight_matrix`` bin by bin (HTK mel
``1127 ln(1 + f / 700)``, DC bin zero), ``10 log10``, ``(x + 52 - 32 + 32) / 64`` clipped to [0, 1].

Tolerance: max |edgecraft - reference| <= 2e-5 on the [0, 1] features (edgecraft is float32 like
TensorFlow; 2e-5 is 0.0013 dB); int8 model inputs (scale 1/270) at most 1 step apart.
Plus ``edgecraft stream`` end to end with a 1x30x1x40 int8 model built here.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from edgecraft.dsp import STR_WW_LFBE, get_preset, lfbe, quantize

STR_WW_SCALE, STR_WW_ZP = 0.0037010372, -128
CONFORMANCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance"


def tf_lfbe(pcm: np.ndarray) -> np.ndarray:
    x = pcm.astype(np.float64) / 32768.0
    x = np.concatenate([x[:16000], np.zeros(max(0, 16000 - len(x)))])
    coef = 1 - 2 ** -5
    y = np.array([x[0]] + [x[i] - coef * x[i - 1] for i in range(1, len(x))])
    n_win, step, nfft = 1024, 512, 1024
    ham = np.array([0.54 - 0.46 * math.cos(2 * math.pi * n / (n_win - 1)) for n in range(n_win)])
    frames = 1 + (len(y) - n_win) // step
    bins = nfft // 2 + 1
    ang = 2 * np.pi * np.outer(np.arange(n_win), np.arange(bins)) / nfft
    power = np.zeros((frames, bins))
    for f in range(frames):
        seg = y[f * step:f * step + n_win] * ham
        power[f] = ((seg @ np.cos(ang)) ** 2 + (seg @ np.sin(ang)) ** 2) / n_win
    power = np.clip(power, 1e-30, power.max())

    def mel(hz: float) -> float:
        return 1127.0 * math.log(1.0 + hz / 700.0)

    edges = np.linspace(mel(0.0), mel(8000.0), 42)
    weights = np.zeros((bins, 40))
    for b in range(1, bins):
        m = mel(b * 8000.0 / (bins - 1))
        for j in range(40):
            lo, mid, hi = edges[j], edges[j + 1], edges[j + 2]
            weights[b, j] = max(0.0, min((m - lo) / (mid - lo), (hi - m) / (hi - mid)))
    db = 10 * np.log(power @ weights) / np.log(10)
    return np.clip((db + 52 - 32 + 32.0) / 64.0, 0, 1)


def recordings() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    t = np.arange(16000) / 16000
    chirp = 9000 * np.sin(2 * np.pi * (80 + 3000 * t) * t) * np.sin(np.pi * t)
    return {
        "chirp_in_noise": np.round(chirp + rng.normal(0, 300, 16000)).astype(np.int16),
        "quiet": np.round(rng.normal(0, 2, 16000)).astype(np.int16),
        "short_loud": np.clip(np.round(rng.normal(0, 12000, 11000)), -32768, 32767).astype(np.int16),
    }


def test_matches_tensorflow_transcription() -> None:
    assert get_preset("str-ww-lfbe") is STR_WW_LFBE and STR_WW_LFBE.shape == (30, 40)
    for name, pcm in recordings().items():
        got = lfbe(pcm)
        want = tf_lfbe(pcm)
        assert got.dtype == np.float32 and got.shape == (30, 40)
        err = float(np.abs(got - want).max())
        assert err <= 2e-5, f"{name}: {err}"
        q = quantize(got, STR_WW_SCALE, STR_WW_ZP).astype(int)
        qw = quantize(want.astype(np.float32), STR_WW_SCALE, STR_WW_ZP).astype(int)
        assert np.abs(q - qw).max() <= 1
    assert 0.2 < float(lfbe(recordings()["chirp_in_noise"]).mean()) < 0.9  # in range, not clipped flat
    assert np.all(lfbe(np.zeros(16000, np.int16)) == 0.0)


def wake_model(marvin: np.ndarray, other: np.ndarray):
    """1x30x1x40 int8 (str_ww's input quantization); labels marvin, silence, unknown: a linear
    layer along the difference of the mean features of marvin and the rest."""
    from edgecraft.models.motion import classifier

    d = marvin - other
    mid = (marvin + other) / 2
    direction = 8.0 * d / (d @ d)
    w = np.stack([direction, -direction, -direction])
    b = np.array([-(direction @ mid), direction @ mid - 2.0, direction @ mid])
    return classifier("str_ww_like", (1, 30, 1, 40), STR_WW_SCALE, STR_WW_ZP, w, b)


@pytest.mark.conformance
def test_stream_marvin_through_str_ww_lfbe(tmp_path: Path) -> None:
    """``edgecraft stream MODEL --wav FILE --features str-ww-lfbe --labels marvin,silence,unknown``:
    espeak-ng says "marvin" three times between other words over a low hum; one detection each."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    from scipy.signal import resample_poly

    from edgecraft.formats.tflite_writer import write_tflite_file

    def say(word: str) -> np.ndarray:
        path = tmp_path / f"{word}.wav"
        subprocess.run(["espeak-ng", "-v", "en", "-s", "150", "-w", str(path), word], check=True,
                       capture_output=True, timeout=30)
        rate, data = wavfile.read(path)
        return resample_poly(data.astype(np.float64), 16000, rate)

    rng = np.random.default_rng(3)
    t = np.arange(16000 * 12) / 16000
    bed = 800 * np.sin(2 * np.pi * 110 * t) + rng.normal(0, 100, len(t))
    words = {1.0: "marvin", 3.0: "table", 5.0: "marvin", 7.0: "window", 9.0: "marvin"}
    for at, word in words.items():
        w = say(word)
        bed[int(at * 16000):int(at * 16000) + len(w)] += w
    pcm = np.clip(np.round(bed), -32768, 32767).astype(np.int16)
    def mean_features(starts: list[float]) -> np.ndarray:
        return np.mean([lfbe(pcm[int(s * 16000):][:16000]).reshape(-1) for s in starts], 0).astype(np.float64)

    shifts = np.arange(-0.5, 0.0, 0.05)
    marvin = mean_features([at + s for at, w in words.items() if w == "marvin" for s in shifts])
    other = mean_features([at + s for at, w in words.items() if w != "marvin" for s in shifts] + [11.0])
    model = tmp_path / "str_ww_like.tflite"
    write_tflite_file(wake_model(marvin, other), model)
    wav = tmp_path / "marvin.wav"
    wavfile.write(wav, 16000, pcm)
    r = subprocess.run([sys.executable, "-m", "edgecraft", "stream", str(model), "--wav", str(wav),
                        "--features",
                        "str-ww-lfbe", "--labels", "marvin,silence,unknown", "--format", "json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    times = [d["time_s"] for d in out["detections"] if d["label"] == "marvin"]
    assert len(times) == 3, [(w["time_s"], w["label"], w["score"]) for w in out["windows"]]
    for at, got in zip((1.0, 5.0, 9.0), times, strict=True):
        assert at < got < at + 2.0


@pytest.mark.conformance
def test_mlperf_str_ww_model_on_its_short_recording() -> None:
    """MLPerf Tiny's str_ww model on its ``short_wav_easy10s.wav`` (three "marvin"s at 1, 4 and
    7 s over classical music, from mlcommons/tiny benchmark/training/streaming_wakeword): one
    detection per "marvin" (runs where both files are in the conformance folder)."""
    model, wav = CONFORMANCE / "str_ww_ref_model.tflite", CONFORMANCE / "short_wav_easy10s.wav"
    if not (model.exists() and wav.exists()):
        pytest.skip("str_ww_ref_model.tflite or short_wav_easy10s.wav (MLPerf Tiny) not in conformance")
    from edgecraft.device.pipeline import StreamOptions, stream_file

    out = stream_file(model, ["marvin", "silence", "unknown"], wav=wav,
                      options=StreamOptions(features="str-ww-lfbe"))
    times = [d["time_s"] for d in out["detections"]]
    assert [d["label"] for d in out["detections"]] == ["marvin"] * 3
    for spoken, got in zip((1.0, 4.0, 7.0), times, strict=True):
        assert spoken < got < spoken + 2.0
