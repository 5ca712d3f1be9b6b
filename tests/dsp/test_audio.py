"""MFCC / log-mel: the kws-mfcc preset against an independent float64 reference of TensorFlow's
formulas (tf_reference.py), hand-checkable pieces, and the real KWS model on a real clip.

Tolerance against the reference: max |edgecraft - reference| <= 5e-3 on MFCC values (they span
about -124..30; edgecraft computes in float32 like TensorFlow, the reference in float64; the
worst case is the log of near-zero mel energies), and the int8 model inputs differ by at most
1 LSB in at most 1 % of the values.
"""

from __future__ import annotations

import numpy as np
import pytest
from tf_reference import tf_mfcc

from edgecraft.dsp import KWS_LOG_MEL, KWS_MFCC, AudioFeatures, log_mel, mfcc, quantize
from edgecraft.dsp.audio import dct_matrix, mel_matrix, window
from oracle import CONFORMANCE

KWS_LABELS = ["down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "silence", "unknown"]


def signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    burst = np.sin(2 * np.pi * 300 * t[:6000]) * np.sin(np.pi * t[:6000] / 0.375)
    raw = {
        "noise": rng.normal(0, 3000, 16000),
        "chirp": 12000 * np.sin(2 * np.pi * (100 + 1900 * t) * t),
        "short": rng.normal(0, 2000, 7000),
        "burst": np.concatenate([np.zeros(4000), 8000 * burst, np.zeros(6000)]) + rng.normal(0, 20, 16000),
        "negative": -np.abs(rng.normal(0, 1000, 16000)),
    }
    return {k: np.clip(np.round(v), -32768, 32767).astype(np.int16) for k, v in raw.items()}


@pytest.mark.parametrize("name", list(signals()))
def test_kws_mfcc_matches_independent_reference(name: str) -> None:
    pcm = signals()[name]
    ours = mfcc(pcm, KWS_MFCC)
    ref = tf_mfcc(pcm)
    assert ours.shape == ref.shape == (49, 10)
    assert np.abs(ours - ref).max() <= 5e-3
    diff = np.abs(quantize(ours, 0.5847029, 83).astype(int) - quantize(ref, 0.5847029, 83).astype(int))
    assert diff.max() <= 1 and np.count_nonzero(diff) <= 5


def test_without_peak_normalization_matches_reference_too() -> None:
    pcm = signals()["burst"]
    cfg = KWS_MFCC.with_(normalize="none")
    assert np.abs(mfcc(pcm, cfg) - tf_mfcc(pcm, peak_normalize=False)).max() <= 5e-3


def test_shapes_and_frame_count() -> None:
    assert KWS_MFCC.shape == (49, 10)
    assert KWS_LOG_MEL.shape == (49, 40)
    assert log_mel(np.zeros(16000, np.int16)).shape == (49, 40)
    streaming = AudioFeatures(clip_samples=0)
    assert mfcc(np.zeros(800, np.int16), streaming).shape == (2, 10)  # 1 + (800 - 480) // 320


def test_silence_gives_log_of_the_offset() -> None:
    lm = log_mel(np.zeros(16000, np.int16))
    np.testing.assert_allclose(lm, np.log(np.float32(1e-6)), rtol=1e-6)
    c0 = mfcc(np.zeros(16000, np.int16))[:, 0]
    # HTK scaling: c0 = sqrt(2 / 40) * 40 * log(1e-6)
    np.testing.assert_allclose(c0, np.sqrt(2 / 40) * 40 * np.log(1e-6), rtol=1e-5)


def test_peak_normalization_makes_features_gain_invariant() -> None:
    pcm = signals()["burst"]
    quiet = pcm // 2
    pcm = quiet * 2  # exactly twice as loud
    np.testing.assert_allclose(mfcc(pcm), mfcc(quiet), atol=1e-3)
    raw = KWS_MFCC.with_(normalize="none")
    assert np.abs(mfcc(pcm, raw) - mfcc(quiet, raw))[:, 0].max() > 5  # c0 moves with the gain


def test_window_mel_and_dct_tables() -> None:
    w = window(4, "hann", periodic=True)
    np.testing.assert_allclose(w, [0.0, 0.5, 1.0, 0.5], atol=1e-7)
    np.testing.assert_allclose(window(3, "hann", periodic=False), [0.0, 1.0, 0.0], atol=1e-7)
    m = mel_matrix(KWS_MFCC)
    assert m.shape == (257, 40)
    assert not m[0].any()  # the DC bin carries no weight
    freqs = np.arange(257) * 8000 / 256
    assert not m[(freqs < 20) | (freqs > 4000)].any()
    assert 0.9 < m.max() <= 1.0
    d = dct_matrix(4, 4, "ortho")
    np.testing.assert_allclose(d.T @ d, np.eye(4), atol=1e-6)  # orthonormal
    np.testing.assert_allclose(dct_matrix(4, 4, "htk"), dct_matrix(4, 4, "none") / np.sqrt(8), rtol=1e-6)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="fft_size"):
        AudioFeatures(fft_size=300)
    with pytest.raises(ValueError, match="mel_high_hz"):
        AudioFeatures(mel_high_hz=9000)
    with pytest.raises(ValueError, match="one channel"):
        mfcc(np.zeros((100, 2), np.int16))


def test_quantize_rounds_half_to_even_and_clamps() -> None:
    x = np.array([-1000.0, -0.5, 0.5, 1.5, 2.5, 1000.0], np.float32)
    assert quantize(x, 1.0, 0).tolist() == [-128, 0, 0, 2, 2, 127]
    assert quantize(x, 0.5, 10, "uint8").tolist() == [0, 9, 11, 13, 15, 255]


@pytest.mark.conformance
def test_kws_model_hears_marvin_as_unknown() -> None:
    """Real data: the MLPerf Tiny KWS model, edgecraft's runtime, the kws-mfcc front end."""
    from scipy.io import wavfile

    from edgecraft.formats import read_tflite
    from edgecraft.runtime import Interpreter

    wav, model = CONFORMANCE / "marvin_617de221_0.wav", CONFORMANCE / "kws_ref_model.tflite"
    if not wav.exists() or not model.exists():
        pytest.skip(f"conformance corpus not found at {CONFORMANCE}")
    _, data = wavfile.read(wav)
    graph = read_tflite(model)
    q = graph.input_tensors()[0].quant
    assert q is not None
    x = quantize(mfcc(data[:, 0]), float(q.scale[0]), int(q.zero_point[0])).reshape(1, 49, 10, 1)
    y = Interpreter(graph).run([x])[0].reshape(-1)
    assert KWS_LABELS[int(np.argmax(y))] == "unknown"
