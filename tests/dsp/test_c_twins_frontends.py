"""The C twins of the micro-speech and str-ww-lfbe presets against their Python front ends, on
the host (gcc, ctypes) and on a Cortex-M4 under QEMU (mps2-an386).

- micro-speech: int8 features equal, tolerance 0 (integer arithmetic throughout).
- str-ww-lfbe: float features within 1e-5 absolute (values in [0, 1]; a different FFT, summation
  order and log; measured about 1e-6), host and Cortex-M4 bit-identical to each other.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
import pytest
from c_harness import build_host, c_array, ptr, run_qemu_m4, symbol

from edgecraft.dsp import MICRO_SPEECH, STR_WW_LFBE, c_sources, lfbe, micro_features


def recordings() -> list[np.ndarray]:
    rng = np.random.default_rng(21)
    t = np.arange(16000) / 16000
    voiced = sum(np.sin(2 * np.pi * h * 140 * t) / h for h in range(1, 10)) * np.sin(np.pi * t) ** 2
    loud = np.clip(np.round(rng.normal(0, 15000, 16000)), -32768, 32767).astype(np.int16)
    loud[::1009] = -32768
    return [np.round(6000 * voiced + rng.normal(0, 50, 16000)).astype(np.int16), loud,
            np.round(rng.normal(0, 3, 12000)).astype(np.int16), np.zeros(16000, np.int16)]


def micro_host(lib: ctypes.CDLL, pcm: np.ndarray) -> np.ndarray:
    out = np.zeros((49, 40), np.int8)
    scratch = np.zeros(4096, np.int32)
    lib.ec_micro_features.restype = ctypes.c_int
    cfg = symbol(lib, "ec_micro_speech")
    assert lib.ec_micro_features(cfg, ptr(pcm), len(pcm), ptr(scratch), ptr(out)) == 49
    return out


def lfbe_host(lib: ctypes.CDLL, pcm: np.ndarray) -> np.ndarray:
    out = np.zeros((30, 40), np.float32)
    scratch = np.zeros(2048, np.float32)
    lib.ec_lfbe_features.restype = ctypes.c_int
    cfg = symbol(lib, "ec_str_ww_lfbe")
    assert lib.ec_lfbe_features(cfg, ptr(pcm), len(pcm), ptr(scratch), ptr(out)) == 30
    return out


def test_host_twins_match_python(tmp_path: Path) -> None:
    lib = build_host({**c_sources("micro-speech"), **c_sources("str-ww-lfbe")}, tmp_path)
    for i, pcm in enumerate(recordings()):
        got = micro_host(lib, pcm)
        want = micro_features(pcm, MICRO_SPEECH)
        assert np.array_equal(got, want), f"micro case {i}: {np.count_nonzero(got != want)} differ"
        err = float(np.abs(lfbe_host(lib, pcm) - lfbe(pcm, STR_WW_LFBE)).max())
        assert err <= 1e-5, f"lfbe case {i}: {err}"


def test_streaming_frames_equal_the_clip(tmp_path: Path) -> None:
    """ec_micro_frame with a kept noise state gives the clip's rows frame by frame."""
    lib = build_host(c_sources("micro-speech"), tmp_path)
    pcm = recordings()[0]
    noise = np.zeros(40, np.uint32)
    scratch = np.zeros(4096, np.int32)
    cfg = symbol(lib, "ec_micro_speech")
    lib.ec_micro_reset(cfg, ptr(noise))
    want = micro_features(pcm)
    for f in range(49):
        frame = np.ascontiguousarray(pcm[f * 320:f * 320 + 480])
        row = np.zeros(40, np.int8)
        lib.ec_micro_frame(cfg, ptr(frame), ptr(scratch), ptr(noise), ptr(row))
        assert np.array_equal(row, want[f]), f"frame {f}"


QEMU_MAIN = r"""
extern const ec_micro_config ec_micro_speech;
extern const ec_lfbe_config ec_str_ww_lfbe;
static int32_t micro_scratch[4096];
static float lfbe_scratch[2048];
static int8_t micro_out[49 * 40];
static float lfbe_out[30 * 40];
int main(void)
{
    int a = ec_micro_features(&ec_micro_speech, pcm, PCM_LEN, micro_scratch, micro_out);
    int b = ec_lfbe_features(&ec_str_ww_lfbe, pcm, PCM_LEN, lfbe_scratch, lfbe_out);
    ec_hex("micro", micro_out, (int)sizeof(micro_out));
    ec_hex("lfbe", lfbe_out, (int)sizeof(lfbe_out));
    return a == 49 && b == 30 ? 0 : 1;
}
"""


@pytest.mark.toolchain
def test_qemu_m4_twins_match_python(tmp_path: Path) -> None:
    pcm = recordings()[1]
    sources = {**c_sources("micro-speech"), **c_sources("str-ww-lfbe")}
    data = c_array("pcm", "int16_t", pcm) + f"#define PCM_LEN {len(pcm)}\n"
    out = run_qemu_m4(sources, data + QEMU_MAIN, tmp_path)
    got = np.frombuffer(out["micro"], np.int8).reshape(49, 40)
    assert np.array_equal(got, micro_features(pcm))
    feats = np.frombuffer(out["lfbe"], "<f4").reshape(30, 40)
    assert float(np.abs(feats - lfbe(pcm)).max()) <= 1e-5
    host = build_host(sources, tmp_path / "host")
    assert lfbe_host(host, pcm).tobytes() == out["lfbe"], "host and Cortex-M4 features differ in some bit"


@pytest.mark.toolchain
def test_feature_programs_on_qemu_m4() -> None:
    """Through edgecraft's emulator path: outputs as above, instruction counts within 3 % of
    the M4_INSTRUCTIONS the power model uses."""
    from edgecraft.dsp.firmware import M4_INSTRUCTIONS, emulate_front_end, feature_program

    pcm = recordings()[0]
    prog = feature_program("micro-speech")
    assert prog.inputs[0].shape == (16000,) and prog.outputs[0].dtype == "int8"
    micro = emulate_front_end("micro-speech", [pcm])
    assert np.array_equal(micro["features"][0], micro_features(pcm))
    assert micro["instructions"] == pytest.approx(M4_INSTRUCTIONS["micro-speech"], rel=0.03)
    lfb = emulate_front_end("str-ww-lfbe", [pcm])
    assert float(np.abs(lfb["features"][0] - lfbe(pcm)).max()) <= 1e-5
    assert lfb["instructions"] == pytest.approx(M4_INSTRUCTIONS["str-ww-lfbe"], rel=0.03)


@pytest.mark.parametrize("preset", ["micro-speech", "str-ww-lfbe"])
def test_build_emits_the_twin_and_it_compiles(tmp_path: Path, preset: str) -> None:
    """``edgecraft build --features PRESET`` ships the twin; the project's C compiles with
    -Wall -Wextra -Werror as C99 (for the Cortex-M4 when its compiler is here, else the host's)."""
    import shutil
    import subprocess

    from c_harness import M4, WARN

    from edgecraft.cli.build_cmd import build_project
    from edgecraft.formats import write_tflite
    from edgecraft.models.synthetic import tiny_mlp

    model = tmp_path / "mlp.tflite"
    model.write_bytes(write_tflite(tiny_mlp()))
    result = build_project(model, "qemu-m4", tmp_path / "p", None, None, "greedy", features=preset)
    ident = "ec_" + preset.replace("-", "_")
    assert f"src/{ident}.c" in result["files"] and result["features"] == preset
    cc = ["arm-none-eabi-gcc", *M4] if shutil.which("arm-none-eabi-gcc") else ["gcc"]
    if shutil.which(cc[0]) is None:
        pytest.skip("no C compiler")
    sources = sorted(str(p) for p in (tmp_path / "p" / "src").glob("ec_*.c"))
    r = subprocess.run([*cc, *WARN, "-O2", "-c", *sources], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
