"""The C twins through edgecraft's own emulator path (the front end packaged like a generated
model): features equal Python's within the test_c_twins tolerances, and the instruction counts
the power model uses (M4_INSTRUCTIONS) are what qemu-m4 measures (within 3 %)."""

from __future__ import annotations

import numpy as np
import pytest
from test_c_twins import image_grid, motion_window, speechlike

from edgecraft.dsp import KWS_MFCC, mfcc
from edgecraft.dsp.firmware import M4_INSTRUCTIONS, emulate_front_end, feature_program, front_end_ms
from edgecraft.dsp.image import ImagePreprocess
from edgecraft.dsp.motion import IMU_DEFAULT, window_features


def test_feature_program_shape() -> None:
    prog = feature_program("kws-mfcc")
    assert prog.name == "kws_mfcc_fe" and "kws_mfcc_fe.h" in prog.files and "ec_kws_mfcc.c" in prog.files
    assert prog.inputs[0].shape == (16000,) and prog.outputs[0].shape == (49, 10)
    assert front_end_ms("kws-mfcc", 64.0) == pytest.approx(M4_INSTRUCTIONS["kws-mfcc"] / 64e3)
    assert front_end_ms("vww-image", 64.0) == 0.0


@pytest.mark.toolchain
def test_audio_and_motion_on_qemu_m4() -> None:
    pcm = [speechlike(0), speechlike(1, 9000)]
    audio = emulate_front_end("kws-mfcc", [np.pad(p, (0, 16000 - len(p))) for p in pcm])
    for got, p in zip(audio["features"], pcm, strict=True):
        assert np.abs(got - mfcc(p, KWS_MFCC)).max() <= 1e-4
    assert audio["instructions"] == pytest.approx(M4_INSTRUCTIONS["kws-mfcc"], rel=0.03)
    x = motion_window(0)
    motion = emulate_front_end("imu", [x])
    np.testing.assert_allclose(motion["features"][0], window_features(x, IMU_DEFAULT), rtol=1e-4, atol=1e-4)
    assert motion["instructions"] == pytest.approx(M4_INSTRUCTIONS["imu"], rel=0.03)


@pytest.mark.toolchain
def test_image_on_qemu_m4() -> None:
    img = image_grid()
    pre = ImagePreprocess(height=16, width=16, channels=1, mean=(127.5,), std=(127.5,), scale=1 / 128)
    got = emulate_front_end(pre, [img], image_shape=img.shape, name="small_gray")["features"][0]
    diff = np.abs(got.astype(int) - pre(img)[0].astype(int))
    assert diff.max() <= 1 and np.count_nonzero(diff) <= 3
