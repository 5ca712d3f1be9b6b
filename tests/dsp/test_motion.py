"""Motion features: windows with overlap, per-axis statistics, spectral bands and peaks."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.dsp.motion import (
    IMU_DEFAULT,
    MotionFeatures,
    magnitude,
    motion_features,
    window_features,
    windows,
)


def test_windows_overlap_and_drop_the_tail() -> None:
    cfg = MotionFeatures(window_samples=4, hop_samples=2, axes=1, fft_size=4, fft_bins=2, peaks=1)
    x = np.arange(9, dtype=np.float32)[:, None]
    w = windows(x, cfg)
    assert w[:, :, 0].tolist() == [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7]]


def test_hand_checked_statistics() -> None:
    cfg = MotionFeatures(window_samples=4, hop_samples=4, axes=2, fft_size=4, fft_bins=2, peaks=1)
    x = np.array([[1, 0], [-1, 2], [1, 0], [-1, 2]], np.float32)
    f = window_features(x, cfg).reshape(2, -1)
    # axis 0: mean 0, std 1, min -1, max 1, rms 1; |rfft([1,-1,1,-1], 4)| = [0, 0, 4] -> bands [0, 4]
    np.testing.assert_allclose(f[0], [0, 1, -1, 1, 1, 0, 4, 2 * 100 / 4], atol=1e-6)
    # axis 1: mean 1, std 1, min 0, max 2, rms sqrt(2); x - mean = [-1, 1, -1, 1] -> same spectrum
    np.testing.assert_allclose(f[1], [1, 1, 0, 2, np.sqrt(2), 0, 4, 50], atol=1e-6)
    assert cfg.names()[:3] == ["a0_mean", "a0_std", "a0_min"]


def test_peak_frequency_of_a_sine() -> None:
    t = np.arange(128) / 100.0
    x = np.stack([np.sin(2 * np.pi * 12.5 * t), np.sin(2 * np.pi * 25 * t), np.zeros(128)], 1)
    f = window_features(x, IMU_DEFAULT).reshape(3, -1)
    assert f[0, -2] == pytest.approx(12.5) and f[1, -2] == pytest.approx(25.0)


def test_recording_features_and_magnitude() -> None:
    x = np.random.default_rng(0).normal(0, 1, (1000, 3)).astype(np.float32)
    f = motion_features(x)
    assert f.shape == (1 + (1000 - 128) // 64, IMU_DEFAULT.num_features)
    assert motion_features(x[:10]).shape == (0, IMU_DEFAULT.num_features)
    np.testing.assert_allclose(magnitude([[3, 4, 0]]), [5.0])
    with pytest.raises(ValueError, match="motion data"):
        windows(np.zeros((200, 2)), IMU_DEFAULT)
