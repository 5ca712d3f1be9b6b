"""The micro_speech front end as a graph of TFLM's signal-library ops (``dsp/signal_graph.py``),
written by edgecraft's writer: frame by frame, edgecraft's runtime equals TFLM running the same
file, and both equal the ``micro-speech`` preset's features; a graph of the same ops written by
TFLM's own schema code (tflm_signal_model.py) reads and runs in edgecraft too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.io import wavfile

from edgecraft.dsp.micro_speech import MICRO_SPEECH, frames_int16, micro_features_int16
from edgecraft.dsp.signal_graph import micro_speech_graph
from edgecraft.formats import read_tflite_bytes, write_tflite
from edgecraft.reference import TflmRunner
from edgecraft.runtime import Interpreter

SPEECH = Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance" / "marvin_617de221_0.wav"


def clips() -> dict[str, np.ndarray]:
    """The speech clip of the conformance folder when present, and two synthetic ones."""
    rng = np.random.default_rng(11)
    t = np.arange(16000) / 16000
    voiced = sum(np.sin(2 * np.pi * h * 180 * t) / h for h in range(1, 7)) * np.sin(np.pi * t) ** 2
    loud = np.clip(np.round(rng.normal(0, 15000, 16000)), -32768, 32767).astype(np.int16)
    loud[::1201] = -32768  # full-scale negative peaks: TFLM's MaxAbs16 quirk
    out = {"voiced": np.round(6000 * voiced + rng.normal(0, 30, 16000)).astype(np.int16), "loud": loud}
    if SPEECH.exists():
        rate, data = wavfile.read(SPEECH)
        assert rate == 16000
        out["marvin"] = np.asarray(data, np.int16).reshape(len(data), -1)[:, 0]  # the first channel
    return out


def run_frames(runner: Interpreter | TflmRunner, frames: np.ndarray) -> np.ndarray:
    return np.array([runner.run([f])[0] for f in frames])


def test_signal_graph_equals_tflm_and_the_preset() -> None:
    data = write_tflite(micro_speech_graph())
    graph = read_tflite_bytes(data)
    assert [op.type for op in graph.operators][:3] == ["SignalWindow", "SignalFftAutoScale", "SignalRfft"]
    ours = Interpreter(graph)
    for name, pcm in clips().items():
        frames = frames_int16(pcm, MICRO_SPEECH)
        ours.reset_state()  # a new clip: the noise estimate starts from zero
        got = run_frames(ours, frames)
        want = run_frames(TflmRunner(data), frames)
        assert got.dtype == want.dtype == np.int16
        assert np.array_equal(got, want), f"{name}: {np.count_nonzero(got != want)} values differ from TFLM"
        preset = micro_features_int16(pcm, MICRO_SPEECH)
        assert np.array_equal(got, preset), f"{name}: differs from the micro-speech preset"
        assert got.max() > 100, name  # real features, not a silent pass


def test_reads_a_signal_graph_written_by_tflm_schema_code() -> None:
    from tflm_signal_model import signal_frontend_model

    data = signal_frontend_model()
    ours = Interpreter(read_tflite_bytes(data))
    frames = frames_int16(clips()["voiced"], MICRO_SPEECH)[:12]
    assert np.array_equal(run_frames(ours, frames), run_frames(TflmRunner(data), frames))
