"""An independent float64 reference of TensorFlow's MFCC pipeline, written from the formulas of
``tf.signal`` (stft, linear_to_mel_weight_matrix, mfccs_from_log_mel_spectrograms) and the
MLPerf Tiny KWS training code, without any code from edgecraft.dsp.

Different on purpose where it can be: the DFT is an explicit cosine/sine sum (no FFT), mel
weights are built bin by bin in a loop, and the DCT-II goes through TensorFlow's own route
(a 2N-point FFT with a phase shift) instead of a cosine matrix.
"""

from __future__ import annotations

import math

import numpy as np


def tf_mfcc(pcm: np.ndarray, sample_rate: int = 16000, frame_length: int = 480, frame_step: int = 320,
            fft_length: int = 512, num_mel_bins: int = 40, lower_hz: float = 20.0, upper_hz: float = 4000.0,
            coefficients: int = 10, peak_normalize: bool = True) -> np.ndarray:
    """MFCC of one int16 clip (padded to one second), float64, ``(frames, coefficients)``."""
    audio = pcm.astype(np.float64) / 32768.0
    audio = audio[:sample_rate]
    if peak_normalize and audio.max() > 0:
        audio = audio / audio.max()  # tf.reduce_max: the signed maximum
    audio = np.concatenate([audio, np.zeros(sample_rate - len(audio))])

    # tf.signal.stft: frames without end padding, periodic Hann window, zero-padded DFT
    hann = [0.5 - 0.5 * math.cos(2.0 * math.pi * n / frame_length) for n in range(frame_length)]
    n_frames = 1 + (len(audio) - frame_length) // frame_step
    bins = fft_length // 2 + 1
    n = np.arange(frame_length)
    k = np.arange(bins)
    angle = 2.0 * np.pi * np.outer(n, k) / fft_length
    cos_t, sin_t = np.cos(angle), np.sin(angle)
    mags = np.zeros((n_frames, bins))
    for f in range(n_frames):
        x = audio[f * frame_step:f * frame_step + frame_length] * hann
        mags[f] = np.hypot(x @ cos_t, x @ sin_t)

    # tf.signal.linear_to_mel_weight_matrix (HTK mel, DC bin excluded)
    def mel(hz: float) -> float:
        return 1127.0 * math.log(1.0 + hz / 700.0)

    lo, hi = mel(lower_hz), mel(upper_hz)
    edges = [lo + (hi - lo) * i / (num_mel_bins + 1) for i in range(num_mel_bins + 2)]
    weights = np.zeros((bins, num_mel_bins))
    for b in range(1, bins):
        m = mel(b * (sample_rate / 2.0) / (bins - 1))
        for j in range(num_mel_bins):
            left, center, right = edges[j], edges[j + 1], edges[j + 2]
            weights[b, j] = max(0.0, min((m - left) / (center - left), (right - m) / (right - center)))

    log_mel = np.log(mags @ weights + 1e-6)

    # tf.signal.dct(type=2) via a 2N-point FFT, then mfccs_from_log_mel_spectrograms' 1/sqrt(2N)
    big_n = num_mel_bins
    spectrum = np.fft.rfft(log_mel, n=2 * big_n, axis=-1)[..., :big_n]
    phase = np.exp(-1j * np.pi * np.arange(big_n) / (2.0 * big_n))
    dct2 = 2.0 * np.real(spectrum * phase)
    return (dct2 / math.sqrt(2.0 * big_n))[..., :coefficients]
