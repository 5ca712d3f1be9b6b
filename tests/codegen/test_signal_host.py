"""TFLM's signal-library ops in generated C, compiled for this machine: random one-op graphs equal
TFLM exactly, the micro_speech audio preprocessor (signal chain and builtins) equals TFLM frame
after frame (the spectral subtraction's noise estimate carries over in a static array and
``<name>_reset`` starts it over), and it runs clean under ASan + UBSan."""

from __future__ import annotations

import numpy as np

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel, run_sanitized
from edgecraft.dsp.micro_speech import MICRO_SPEECH, tables
from edgecraft.formats import write_tflite
from edgecraft.ir.graph import Graph
from edgecraft.reference import TflmRunner
from oracle import check_tensor
from signal_cases import audio_preprocessor_int8, one_op, speech_frames


def _against_tflm(graph: Graph, rows: list[list[np.ndarray]], label: str) -> None:
    """Run the rows (one list of inputs each, in order: state carries over) in C and in TFLM."""
    outs = HostModel(generate(graph, "sig"), opt="-O0").run_batch(
        [np.stack([r[i] for r in rows]) for i in range(len(rows[0]))])
    tflm = TflmRunner(write_tflite(graph))
    for r, inputs in enumerate(rows):
        for i, want in enumerate(tflm.run(inputs)):
            got = outs[i][r]
            if graph.operators[0].type == "SignalEnergy":  # TFLM leaves the other bins unwritten
                a = graph.operators[0].attrs
                got, want = got[a["start_index"]:a["end_index"]], want[a["start_index"]:a["end_index"]]
            check_tensor(got, want, f"{label} row {r} output {i}")


def test_window_auto_scale_energy_in_c_match_tflm() -> None:
    rng = np.random.default_rng(1)
    w = rng.integers(-32768, 32768, 40).astype(np.int16)
    g = one_op("SignalWindow", [("x", (3, 40), "int16"), w], [((3, 40), "int16")], shift=9)
    _against_tflm(g, [[rng.integers(-32768, 32768, (3, 40)).astype(np.int16)] for _ in range(2)], "window")
    g = one_op("SignalFftAutoScale", [("x", (48,), "int16")], [((48,), "int16"), ((), "int32")])
    rows = [rng.integers(-(1 << b), 1 << b, 48).astype(np.int16) for b in (3, 9, 14)]
    rows += [np.zeros(48, np.int16), np.r_[np.full(24, -32768), np.arange(24)].astype(np.int16)]
    _against_tflm(g, [[r] for r in rows], "auto scale")
    g = one_op("SignalEnergy", [("x", (66,), "int16")], [((33,), "uint32")], start_index=2, end_index=30)
    x = rng.integers(-32768, 32768, (2, 66)).astype(np.int16)
    x[0, 4:8] = -32768  # re^2 + im^2 = 2^31: past int32
    _against_tflm(g, [[r] for r in x], "energy")


def test_rfft_int16_in_c_matches_tflm() -> None:
    rng = np.random.default_rng(2)
    for n, length in ((8, 8), (64, 50), (512, 480)):  # radices 4; 4, 4, 2; 4, 4, 4, 4
        g = one_op("SignalRfft", [("x", (2, length), "int16")], [((2, n + 2), "int16")], T=7, fft_length=n)
        x = rng.integers(-32768, 32768, (2, 2, length)).astype(np.int16)
        x[1, 1] //= 64
        _against_tflm(g, [[r] for r in x], f"rfft {n}")


def test_filter_bank_root_pcan_log_in_c_match_tflm() -> None:
    rng = np.random.default_rng(3)
    t = tables(MICRO_SPEECH)
    bank = [t.weights, t.unweights, t.freq_starts, t.weight_starts, t.widths]
    g = one_op("SignalFilterBank", [("x", (257,), "uint32"), *bank], [((40,), "uint64")], num_channels=40)
    rows = [[rng.integers(0, top, 257, dtype=np.uint64).astype(np.uint32)] for top in (1 << 16, 1 << 32)]
    _against_tflm(g, rows, "filter bank")
    edges = np.array([0, 1, 2, (1 << 32) - 1, 1 << 32, (1 << 64) - 1, 4294836225, 4294967296 - 2], np.uint64)
    x = np.r_[rng.integers(0, 1 << 32, 8, dtype=np.uint64),
              rng.integers(0, (1 << 64) - 1, 8, dtype=np.uint64), edges]
    for shift in (0, 3):
        g = one_op("SignalFilterBankSquareRoot", [("x", (24,), "uint64"), np.array(shift, np.int32)],
                   [((24,), "uint32")])
        _against_tflm(g, [[x]], f"sqrt >> {shift}")
    g = one_op("SignalPCAN", [("x", (40,), "uint32"), ("noise", (40,), "uint32"), t.gain_lut],
               [((40,), "uint32")], snr_shift=6)
    rows = []
    for top in (1 << 12, 1 << 20, 1 << 32):
        noise = rng.integers(0, top, 40, dtype=np.uint64).astype(np.uint32)
        noise[:3] = [0, 1, 2]
        rows.append([rng.integers(0, top, 40, dtype=np.uint64).astype(np.uint32), noise])
    _against_tflm(g, rows, "pcan")
    x = np.r_[[0, 1, 2, 3, 0xFFFFFFFF], rng.integers(0, 1 << 32, 27, dtype=np.uint64)].astype(np.uint32)
    for bits, scale in ((3, 64), (0, 1600), (5, 70000)):
        g = one_op("SignalFilterBankLog", [("x", (32,), "uint32")], [((32,), "int16")],
                   input_correction_bits=bits, output_scale=scale)
        _against_tflm(g, [[x]], f"log {bits} {scale}")


def test_spectral_subtraction_in_c_keeps_state_like_tflm() -> None:
    rng = np.random.default_rng(4)
    for clamping, sb in ((False, 10), (True, 0)):
        g = one_op("SignalFilterBankSpectralSubtraction", [("x", (10,), "uint32")],
                   [((10,), "uint32"), ((10,), "uint32")],
                   alternate_one_minus_smoothing=15401, alternate_smoothing=983, clamping=clamping,
                   min_signal_remaining=819, num_channels=10, one_minus_smoothing=15974, smoothing=410,
                   smoothing_bits=sb, spectral_subtraction_bits=14)
        top = 1 << (22 - sb // 2)
        rows = [[rng.integers(0, top, 10, dtype=np.uint64).astype(np.uint32)] for _ in range(5)]
        _against_tflm(g, rows, f"spectral subtraction clamping={clamping}")


def test_audio_preprocessor_in_c_matches_tflm_frame_after_frame() -> None:
    graph = audio_preprocessor_int8()
    frames = speech_frames(8, seed=5)
    host = HostModel(generate(graph, "pre"))
    got = host.run_batch([frames])[0]
    tflm = TflmRunner(write_tflite(graph))
    for r, frame in enumerate(frames):
        check_tensor(got[r], tflm.run([frame])[0], f"frame {r}")
    assert len(np.unique(got)) > 20  # real features, not a constant
    host.lib.pre_reset()  # the noise estimate starts over: the same features again
    np.testing.assert_array_equal(host.run_batch([frames])[0], got)
    later = host.run_batch([frames])[0]  # without a reset the estimate carries on
    assert not np.array_equal(later, got)


def test_audio_preprocessor_under_sanitizers() -> None:
    graph = audio_preprocessor_int8()
    frames = speech_frames(3, seed=6)
    outs, stderr = run_sanitized(generate(graph, "pre"), [frames])
    assert stderr == "", stderr
    tflm = TflmRunner(write_tflite(graph))
    for r, frame in enumerate(frames):
        check_tensor(outs[0][r], tflm.run([frame])[0], f"sanitized frame {r}")
