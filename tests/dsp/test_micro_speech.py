"""The micro-speech preset (TFLM's micro_speech front end): equal, with tolerance 0, to an
independent plain-Python transcription of TFLM's signal library and KISS FFT
(micro_speech_reference.py); to TFLM's signal-library kernels themselves (tflite-micro package,
tflm_signal_model.py); to TFLM's shipped preprocessor and model where they are at hand
(``../shared/conformance/audio_preprocessor_int8.tflite``, ``micro_speech_quantized.tflite``, from
tensorflow/tflite-micro ``tensorflow/lite/micro/examples/micro_speech/models``); and through
``edgecraft stream`` end to end with a 1x49x40 int8 model built here and espeak-ng speech."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from micro_speech_reference import KissFftr, filter_bank_tables, gain_lut, hann_q12, micro_speech_clip
from scipy.io import wavfile

from edgecraft.dsp import MICRO_SPEECH, get_preset, micro_features
from edgecraft.dsp.micro_speech import tables
from edgecraft.ops.kissfft16 import rfft

CONFORMANCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance"
LABELS = ["silence", "unknown", "yes", "no"]


def clips() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    t = np.arange(16000) / 16000
    voiced = sum(np.sin(2 * np.pi * h * 150 * t) / h for h in range(1, 9)) * (np.sin(np.pi * t) ** 2)
    full = np.clip(np.round(rng.normal(0, 20000, 16000)), -32768, 32767).astype(np.int16)
    full[::997] = -32768  # full-scale negative peaks: TFLM's MaxAbs16 quirk
    return {
        "voiced": np.round(5000 * voiced + rng.normal(0, 40, 16000)).astype(np.int16),
        "full_scale": full,
        "quiet_short": np.round(rng.normal(0, 4, 9000)).astype(np.int16),
    }


def test_tables_equal_the_transcription() -> None:
    t = tables(MICRO_SPEECH)
    fb = filter_bank_tables()
    assert t.window.tolist() == hann_q12()
    assert (t.start, t.end) == (fb["start"], fb["end"]) == (5, 241)
    assert t.freq_starts.tolist() == fb["fstarts"] and t.weight_starts.tolist() == fb["wstarts"]
    assert t.widths.tolist() == fb["widths"]
    assert t.weights.tolist() == fb["weights"] and t.unweights.tolist() == fb["unweights"]
    assert t.gain_lut.tolist() == gain_lut()
    assert get_preset("micro-speech") is MICRO_SPEECH and MICRO_SPEECH.shape == (49, 40)


@pytest.mark.parametrize("nfft", [512, 256, 128])
def test_fixed_point_fft_equals_kiss_fft_transcription(nfft: int) -> None:
    rng = np.random.default_rng(nfft)
    frames = [rng.integers(-32768, 32768, nfft), np.round(30000 * np.sin(np.arange(nfft) * 0.3)),
              np.full(nfft, -32768)]
    ref = KissFftr(nfft)
    for x in frames:
        x = x.astype(np.int16)
        re, im = rfft(x[None, :], nfft)
        assert list(zip(re[0].tolist(), im[0].tolist(), strict=True)) == ref(x.tolist())


def test_features_equal_the_transcription_exactly() -> None:
    for name, pcm in clips().items():
        got = micro_features(pcm)
        padded = np.pad(pcm, (0, max(0, 16000 - len(pcm))))[:16000]
        want = np.array(micro_speech_clip(padded.tolist()), np.int8)
        assert got.dtype == np.int8 and got.shape == (49, 40)
        assert np.array_equal(got, want), f"{name}: {np.count_nonzero(got != want)} values differ"


def test_equal_to_tflm_signal_kernels() -> None:
    """TFLM's own signal-library kernels (run by the tflite-micro package on a graph of its
    Signal* ops built in tflm_signal_model.py) give the same int8 features on every clip."""
    pytest.importorskip("tflite_micro")
    from tflm_signal_model import tflm_micro_speech

    for name, pcm in clips().items():
        padded = np.pad(pcm, (0, max(0, 16000 - len(pcm))))[:16000]
        got = micro_features(pcm)
        want = tflm_micro_speech(padded)
        assert np.array_equal(got, want), f"{name}: {np.count_nonzero(got != want)} values differ"


def tflm_preprocessor(pcm: np.ndarray, path: Path) -> np.ndarray:
    from tflite_micro.python.tflite_micro import runtime

    pp = runtime.Interpreter.from_file(str(path))
    pp.reset()
    rows = []
    for s in range(0, 16000 - 480 + 1, 320):
        pp.set_input(pcm[s:s + 480].reshape(1, -1), 0)
        pp.invoke()
        rows.append(pp.get_output(0).reshape(-1))
    return np.array(rows, np.int8)


@pytest.mark.conformance
def test_equal_to_tflm_audio_preprocessor() -> None:
    """TFLM's own audio preprocessor (the signal library's kernels, run by the tflite-micro
    package) gives the same int8 features on every clip."""
    path = CONFORMANCE / "audio_preprocessor_int8.tflite"
    if not path.exists():
        pytest.skip(f"{path.name} (TFLM micro_speech example) not in the conformance folder")
    for name, pcm in clips().items():
        padded = np.pad(pcm, (0, max(0, 16000 - len(pcm))))[:16000]
        assert np.array_equal(micro_features(pcm), tflm_preprocessor(padded, path)), name


@pytest.mark.conformance
def test_tflm_audio_preprocessor_file_runs_in_edgecraft_as_in_tflm() -> None:
    """Issue 13 point 4: TFLM's own preprocessor .tflite (signal-library custom ops with state
    across invocations, UINT32 tensors, the int8 tail) read and run by edgecraft's runtime, frame
    by frame, gives TFLM's bytes on every clip; a reset between clips as TFLM's."""
    from edgecraft.formats import read_tflite
    from edgecraft.runtime import Interpreter

    path = CONFORMANCE / "audio_preprocessor_int8.tflite"
    if not path.exists():
        pytest.skip(f"{path.name} (TFLM micro_speech example) not in the conformance folder")
    from tflite_micro.python.tflite_micro import runtime

    graph = read_tflite(path)
    shape = tuple(graph.input_tensors()[0].shape)
    interp = Interpreter(graph)
    for name, pcm in clips().items():
        padded = np.pad(pcm, (0, max(0, 16000 - len(pcm))))[:16000]
        interp.reset_state()
        tflm = runtime.Interpreter.from_file(str(path))
        for s in range(0, 16000 - 480 + 1, 320):
            frame = padded[s:s + 480].reshape(shape)
            tflm.set_input(frame, 0)
            tflm.invoke()
            want = tflm.get_output(0)
            got = interp.run([frame])[0]
            assert got.dtype == want.dtype and np.array_equal(got, want), f"{name} at sample {s}"


def espeak(word: str, voice: str, wpm: int, where: Path) -> np.ndarray:
    from scipy.signal import resample_poly

    path = where / f"{word}_{voice}_{wpm}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(path), word], check=True,
                   capture_output=True, timeout=30)
    rate, data = wavfile.read(path)
    x = resample_poly(data.astype(np.float64), 320, 441) if rate == 22050 else data.astype(np.float64)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def slot(clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One second: 0.15 s of quiet noise, the clip, quiet noise to the end."""
    x = np.round(rng.normal(0, 30, 16000)).astype(np.int16)
    clip = clip[:13600]
    x[2400:2400 + len(clip)] = np.clip(x[2400:2400 + len(clip)].astype(np.int32) + clip, -32768, 32767)
    return x


def template_model(centroids: np.ndarray):
    """1x49x40 int8 (TFLM micro_speech's input quantization), nearest class mean as a linear
    layer: logit_c = (mu_c - mean mu) . x - |mu_c|^2 / 2 (the same argmax as the nearest mean),
    centred and scaled to about +-10 at the class means."""
    from edgecraft.models.motion import classifier

    scale, zp = 0.10171568, -128
    mu = (centroids.astype(np.float64) - zp) * scale
    w = mu - mu.mean(axis=0)
    b = -0.5 * np.einsum("ij,ij->i", mu, mu)
    logits = mu @ w.T + b
    b = b - logits.mean()
    k = 10.0 / np.abs(logits - logits.mean()).max()
    return classifier("micro_speech_templates", (1, 49, 40), scale, zp, w * k, b * k)


@pytest.mark.conformance
def test_stream_espeak_words_through_micro_speech(tmp_path: Path) -> None:
    """``edgecraft stream MODEL --wav FILE --features micro-speech --labels silence,unknown,yes,no``
    on espeak-ng speech: a model of the micro_speech input shape built from the features of
    voice ``en`` (templates) labels the words of voice ``en-us`` slot by slot."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    from edgecraft.formats.tflite_writer import write_tflite_file

    rng = np.random.default_rng(1)
    words = {"silence": None, "unknown": "house", "yes": "yes", "no": "no"}

    def clip_of(label: str, voice: str) -> np.ndarray:
        word = words[label]
        return slot(np.zeros(0, np.int16) if word is None else espeak(word, voice, 150, tmp_path), rng)

    cents = np.stack([micro_features(clip_of(lab, "en")).astype(np.float64).reshape(-1) for lab in LABELS])
    model = tmp_path / "micro_speech_like.tflite"
    write_tflite_file(template_model(cents), model)
    order = ["yes", "no", "silence", "unknown", "no", "yes"]
    wav = tmp_path / "words.wav"
    wavfile.write(wav, 16000, np.concatenate([clip_of(lab, "en-us") for lab in order]))
    r = subprocess.run([sys.executable, "-m", "edgecraft", "stream", str(model), "--wav", str(wav),
                        "--features", "micro-speech", "--labels", ",".join(LABELS), "--stride-ms", "1000",
                        "--format", "json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["features"] == "micro-speech"
    assert [w["label"] for w in out["windows"]] == order
    assert [d["label"] for d in out["detections"]] == ["yes", "no", "no", "yes"]


@pytest.mark.conformance
def test_tflm_micro_speech_model_on_its_test_clips() -> None:
    """TFLM's micro_speech model labels its example clips through edgecraft's front end and
    runtime (runs where the model and clips are in the conformance folder)."""
    model = CONFORMANCE / "micro_speech_quantized.tflite"
    if not model.exists():
        pytest.skip("micro_speech_quantized.tflite (TFLM micro_speech example) not in the conformance folder")
    from edgecraft.device.pipeline import StreamOptions, stream_file

    for word in ("yes", "no"):
        wav = CONFORMANCE / f"micro_speech_{word}_1000ms.wav"
        if not wav.exists():
            pytest.skip(f"{wav.name} not in the conformance folder")
        out = stream_file(model, LABELS, wav=wav, options=StreamOptions(features="micro-speech"))
        assert [d["label"] for d in out["detections"]] == [word]
