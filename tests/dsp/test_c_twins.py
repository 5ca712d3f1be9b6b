"""The C twins give the Python front ends' features, on the host (gcc, ctypes) and on a
Cortex-M4 under QEMU (mps2-an386).

Tolerances (float32 in both, but a different FFT, summation order and log/sqrt):
- MFCC / log-mel floats: max |C - Python| <= 1e-4 (values span about -124..30; measured 8e-6);
  int8 model inputs: at most 1 LSB apart, in at most 1 % of the values.
- motion: statistics and band sums within 1e-4 relative (+1e-4 absolute); peak frequencies exact.
- image: int8 at most 1 LSB apart, in at most 1 % of the values.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
import pytest
from c_harness import build_host, c_array, ptr, run_qemu_m4, symbol

from edgecraft.dsp import KWS_LOG_MEL, KWS_MFCC, c_sources, log_mel, mfcc, quantize
from edgecraft.dsp.image import VWW_96, ImagePreprocess
from edgecraft.dsp.motion import IMU_DEFAULT, window_features

KWS_SCALE, KWS_ZP = 0.5847029, 83
SMALL_IMAGE = ImagePreprocess(height=12, width=16, channels=1, mean=(127.5,), std=(127.5,), scale=1 / 128,
                              zero_point=0)


def speechlike(seed: int = 0, n: int = 16000) -> np.ndarray:
    """Voiced bursts with harmonics over low noise, int16."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000
    f0 = 120 + 60 * np.sin(2 * np.pi * 1.5 * t)
    voice = sum(np.sin(2 * np.pi * h * np.cumsum(f0) / 16000) / h for h in range(1, 12))
    env = np.clip(np.sin(2 * np.pi * 1.2 * t), 0, None) ** 2
    return np.clip(np.round(6000 * voice * env + rng.normal(0, 30, n)), -32768, 32767).astype(np.int16)


def motion_window(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(IMU_DEFAULT.window_samples) / IMU_DEFAULT.sample_rate
    cols = [np.sin(2 * np.pi * f * t) * a + rng.normal(0, 0.05, len(t)) for f, a in ((3.1, 1.0), (12.5, 0.5),
                                                                                    (25.0, 0.8))]
    return (np.stack(cols, 1) + np.array([0.0, 0.0, 9.81])).astype(np.float32)


def image_grid() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (30, 50, 3)).astype(np.uint8)


def check_int8(got: np.ndarray, want: np.ndarray, label: str) -> None:
    diff = np.abs(got.astype(int) - want.astype(int))
    assert diff.max() <= 1, f"{label}: max int8 difference {diff.max()}"
    bad = np.count_nonzero(diff)
    assert bad <= 0.01 * diff.size, f"{label}: {bad} of {diff.size} differ"


def host_audio(lib: ctypes.CDLL, ident: str, pcm: np.ndarray, frames: int, num_out: int) -> np.ndarray:
    out = np.zeros((frames, num_out), np.float32)
    scratch = np.zeros(2 * 512 + 40, np.float32)
    lib.ec_audio_features.restype = ctypes.c_int
    got = lib.ec_audio_features(symbol(lib, ident), ptr(pcm), len(pcm), ptr(scratch), ptr(out))
    assert got == frames
    return out


def test_host_mfcc_and_log_mel_match_python(tmp_path: Path) -> None:
    lib = build_host({**c_sources("kws-mfcc"), **c_sources("kws-log-mel")}, tmp_path)
    for seed, pcm in enumerate([speechlike(0), speechlike(1, 9000), np.zeros(16000, np.int16)]):
        c = host_audio(lib, "ec_kws_mfcc", pcm, 49, 10)
        py = mfcc(pcm, KWS_MFCC)
        assert np.abs(c - py).max() <= 1e-4, f"mfcc case {seed}: {np.abs(c - py).max()}"
        q = np.zeros(490, np.int8)
        lib.ec_quantize_i8(ptr(c), 490, ctypes.c_float(KWS_SCALE), KWS_ZP, ptr(q))
        check_int8(q.reshape(49, 10), quantize(py, KWS_SCALE, KWS_ZP), f"mfcc int8 case {seed}")
        lm = host_audio(lib, "ec_kws_log_mel", pcm, 49, 40)
        assert np.abs(lm - log_mel(pcm, KWS_LOG_MEL)).max() <= 1e-4


def test_host_motion_matches_python(tmp_path: Path) -> None:
    lib = build_host(c_sources("imu"), tmp_path)
    cfg = IMU_DEFAULT
    for seed in range(3):
        x = motion_window(seed)
        out = np.zeros(cfg.num_features, np.float32)
        scratch = np.zeros(2 * cfg.fft_size + cfg.fft_size // 2, np.float32)
        lib.ec_motion_features(symbol(lib, "ec_imu"), ptr(x), ptr(scratch), ptr(out))
        np.testing.assert_allclose(out, window_features(x, cfg), rtol=1e-4, atol=1e-4)


def test_host_image_matches_python(tmp_path: Path) -> None:
    lib = build_host({**c_sources("vww-image"), **c_sources(SMALL_IMAGE, "small_image")}, tmp_path)
    img = image_grid()
    for ident, cfg in (("ec_vww_image", VWW_96), ("ec_small_image", SMALL_IMAGE)):
        out = np.zeros((cfg.height, cfg.width, cfg.channels), np.int8)
        lib.ec_image_preprocess(symbol(lib, ident), ptr(img), 30, 50, 3, ptr(out))
        check_int8(out, cfg(img)[0], ident)


QEMU_MAIN = r"""
#include <stdint.h>
#include "ec_features.h"
extern const ec_audio_config ec_kws_mfcc;
extern const ec_motion_config ec_imu;
extern const ec_image_config ec_small_image;
static float scratch[2 * 512 + 40];
static float mfcc[49 * 10];
static int8_t mfcc_q[49 * 10];
static float motion[64];
static int8_t image[12 * 16];
int main(void)
{
    int frames = ec_audio_features(&ec_kws_mfcc, pcm, PCM_LEN, scratch, mfcc);
    ec_quantize_i8(mfcc, frames * 10, KWS_SCALE, KWS_ZP, mfcc_q);
    ec_hex("mfcc", mfcc, (int)sizeof(mfcc));
    ec_hex("mfcc_q", mfcc_q, (int)sizeof(mfcc_q));
    ec_motion_features(&ec_imu, imu, scratch, motion);
    ec_hex("motion", motion, EC_MOTION_FEATURES(&ec_imu) * 4);
    ec_image_preprocess(&ec_small_image, img, 30, 50, 3, image);
    ec_hex("image", image, (int)sizeof(image));
    return frames == 49 ? 0 : 1;
}
"""


@pytest.mark.toolchain
def test_qemu_m4_front_ends_match_python(tmp_path: Path) -> None:
    pcm = speechlike(2)
    x = motion_window(1)
    img = image_grid()
    data = (c_array("pcm", "int16_t", pcm) + c_array("imu", "float", x) + c_array("img", "uint8_t", img)
            + f"#define PCM_LEN {len(pcm)}\n#define KWS_SCALE {KWS_SCALE}f\n#define KWS_ZP {KWS_ZP}\n")
    sources = {**c_sources("kws-mfcc"), **c_sources("imu"), **c_sources(SMALL_IMAGE, "small_image")}
    out = run_qemu_m4(sources, data + QEMU_MAIN, tmp_path)
    py = mfcc(pcm, KWS_MFCC)
    c = np.frombuffer(out["mfcc"], "<f4").reshape(49, 10)
    assert np.abs(c - py).max() <= 1e-4
    host = build_host(sources, tmp_path / "host")
    same = host_audio(host, "ec_kws_mfcc", pcm, 49, 10)
    assert same.tobytes() == out["mfcc"], "host and Cortex-M4 features differ in some bit"
    got_q = np.frombuffer(out["mfcc_q"], np.int8).reshape(49, 10)
    check_int8(got_q, quantize(py, KWS_SCALE, KWS_ZP), "qemu mfcc")
    np.testing.assert_allclose(np.frombuffer(out["motion"], "<f4"), window_features(x, IMU_DEFAULT),
                               rtol=1e-4, atol=1e-4)
    check_int8(np.frombuffer(out["image"], np.int8).reshape(12, 16, 1), SMALL_IMAGE(img)[0], "qemu image")


def test_sources_compile_warning_free_for_cortex_m4(tmp_path: Path) -> None:
    import shutil
    import subprocess

    from c_harness import M4, WARN, write_sources

    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not found")
    files = write_sources({**c_sources("kws-mfcc"), **c_sources("kws-log-mel"), **c_sources("imu"),
                           **c_sources("vww-image")}, tmp_path)
    for f in files:
        subprocess.run(["arm-none-eabi-gcc", *M4, *WARN, "-O2", "-c", str(f), "-o", str(f.with_suffix(".o"))],
                       check=True, capture_output=True, text=True)


PIPELINE_C = r"""
#include "tone.h"
extern const ec_audio_config ec_kws_mfcc;
static float pipe_scratch[2 * 512 + 40];
static float pipe_feats[49 * 10];
static int8_t pipe_input[TONE_INPUT0_SIZE];
/* raw audio -> kws-mfcc features -> model input quantization -> model */
int kws_pipeline(const int16_t *pcm, int n, int8_t *out)
{
    int frames = ec_audio_features(&ec_kws_mfcc, pcm, n, pipe_scratch, pipe_feats);
    ec_quantize_i8(pipe_feats, frames * 10, tone_input_scale(0), (int)tone_input_zero_point(0), pipe_input);
    return tone_invoke(pipe_input, out);
}
"""


def pipeline_sources() -> tuple[dict[str, str], list[np.ndarray], list[np.ndarray]]:
    """The tone model's generated C + the kws-mfcc twin + glue, and Python's outputs on 4 clips."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "device"))
    from stream_models import tone_detector, tone_recording

    from edgecraft.codegen import generate
    from edgecraft.device import ModelRunner

    graph = tone_detector()
    model = generate(graph, "tone")
    clips = [tone_recording([0.3], 1.0, seed=1), tone_recording([], 1.0, seed=2), speechlike(3),
             tone_recording([0.3], 0.8, seed=4)]
    runner = ModelRunner(graph)
    want = []
    for clip in clips:
        x = quantize(mfcc(clip, KWS_MFCC), KWS_SCALE, KWS_ZP).reshape(1, 49, 10, 1)
        want.append(runner.interp.run([x])[0].reshape(-1))
    glue = '#include "ec_features.h"\n' + PIPELINE_C
    sources = {**model.files, **c_sources("kws-mfcc"), "pipeline.c": glue}
    return sources, clips, want


def test_twin_and_generated_model_build_together_on_host(tmp_path: Path) -> None:
    """The C front end compiled with the C generator's output for a KWS-shaped model gives the
    same model outputs as the Python front end + runtime."""
    sources, clips, want = pipeline_sources()
    lib = build_host(sources, tmp_path)
    for clip, w in zip(clips, want, strict=True):
        out = np.zeros(2, np.int8)
        assert lib.kws_pipeline(ptr(clip), len(clip), ptr(out)) == 0
        assert out.tolist() == w.tolist()


@pytest.mark.toolchain
def test_twin_and_generated_model_on_qemu_m4(tmp_path: Path) -> None:
    sources, clips, want = pipeline_sources()
    main = "".join(c_array(f"clip{i}", "int16_t", c) for i, c in enumerate(clips))
    main += "int kws_pipeline(const int16_t *pcm, int n, int8_t *out);\n"
    main += "int main(void)\n{\n    int8_t out[2];\n"
    for i, c in enumerate(clips):
        main += f'    if (kws_pipeline(clip{i}, {len(c)}, out)) return 1;\n    ec_hex("out{i}", out, 2);\n'
    main += "    return 0;\n}\n"
    got = run_qemu_m4(sources, main, tmp_path)
    for i, w in enumerate(want):
        assert np.frombuffer(got[f"out{i}"], np.int8).tolist() == w.tolist()


def test_libm_free_math_is_accurate(tmp_path: Path) -> None:
    """ec_logf / ec_sqrtf / ec_roundf_even (the twins use no libm) against numpy."""
    lib = build_host(c_sources("imu"), tmp_path)
    for fn in ("ec_logf", "ec_sqrtf", "ec_roundf_even"):
        getattr(lib, fn).restype = ctypes.c_float
        getattr(lib, fn).argtypes = [ctypes.c_float]
    xs = np.concatenate([np.geomspace(1e-30, 1e30, 2000), np.linspace(0.5, 2.0, 1001)]).astype(np.float32)
    logs = np.array([lib.ec_logf(float(x)) for x in xs], np.float32)
    np.testing.assert_allclose(logs, np.log(xs), rtol=2e-7, atol=2e-7)
    roots = np.array([lib.ec_sqrtf(float(x)) for x in xs], np.float32)
    np.testing.assert_allclose(roots, np.sqrt(xs), rtol=3e-7)
    halves = np.array([-3.5, -2.5, -0.5, 0.5, 1.5, 2.5, 1e9, -7.25, 3.75], np.float32)
    assert [lib.ec_roundf_even(float(x)) for x in halves] == np.round(halves).tolist()


def test_fft_and_real_fft_match_numpy(tmp_path: Path) -> None:
    lib = build_host(c_sources("kws-mfcc"), tmp_path)
    rng = np.random.default_rng(7)
    k = np.arange(256)
    cos_t = np.cos(2 * np.pi * k / 512).astype(np.float32)
    sin_t = np.sin(2 * np.pi * k / 512).astype(np.float32)
    x = rng.normal(0, 1, 512).astype(np.float32)
    want = np.fft.rfft(x.astype(np.float64))
    re, im = x.copy(), np.zeros(512, np.float32)
    lib.ec_rfft(ptr(re), ptr(im), 512, ptr(cos_t), ptr(sin_t))
    np.testing.assert_allclose(re[:257] + 1j * im[:257], want, atol=2e-4)
    re, im = x.copy(), np.zeros(512, np.float32)
    lib.ec_fft(ptr(re), ptr(im), 512, ptr(cos_t), ptr(sin_t))
    np.testing.assert_allclose(re + 1j * im, np.fft.fft(x.astype(np.float64)), atol=2e-4)
