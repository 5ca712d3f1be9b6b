"""TFLM's signal-library ops (custom ops with flexbuffer options): random one-op models written
by edgecraft's writer, read back and run by edgecraft's runtime and by TFLM, compared exactly."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import read_tflite_bytes, write_tflite
from edgecraft.ir.graph import Graph
from edgecraft.reference import TflmRunner
from edgecraft.runtime import Interpreter
from oracle import check_tensor, check_tflm
from signal_cases import one_op


def roundtrip(g: Graph) -> Graph:
    """The graph as written and read back: custom codes and flexbuffer options survive."""
    back = read_tflite_bytes(write_tflite(g))
    assert [(o.type, o.attrs) for o in back.operators] == [(o.type, o.attrs) for o in g.operators]
    return back


def test_window_against_tflm() -> None:
    rng = np.random.default_rng(1)
    for n, reps, shift in ((16, 1, 12), (40, 3, 8), (7, 2, 0)):
        w = rng.integers(-32768, 32768, n).astype(np.int16)
        g = roundtrip(one_op("SignalWindow", [("x", (reps, n), "int16"), w], [((reps, n), "int16")],
                             shift=shift))
        check_tflm(g, [rng.integers(-32768, 32768, (reps, n)).astype(np.int16)], f"window {n} {shift}")


def test_fft_auto_scale_against_tflm() -> None:
    rng = np.random.default_rng(2)
    cases = [rng.integers(-(1 << b), 1 << b, 48).astype(np.int16) for b in (3, 9, 14)]
    cases += [np.zeros(48, np.int16), np.full(48, -32768, np.int16),
              np.r_[np.full(24, -32768), np.arange(24)].astype(np.int16)]
    for x in cases:
        g = roundtrip(one_op("SignalFftAutoScale", [("x", (48,), "int16")],
                             [((48,), "int16"), ((), "int32")]))
        check_tflm(g, [x], "fft auto scale")


@pytest.mark.parametrize("n", [64, 256, 512])
def test_rfft_int16_against_tflm(n: int) -> None:
    rng = np.random.default_rng(n)
    length = n - 32 if n > 64 else n
    g = roundtrip(one_op("SignalRfft", [("x", (2, length), "int16")], [((2, n + 2), "int16")],
                         T=7, fft_length=n))
    x = rng.integers(-32768, 32768, (2, length)).astype(np.int16)
    x[1] //= 64
    check_tflm(g, [x], f"rfft {n}")


def test_energy_against_tflm() -> None:
    rng = np.random.default_rng(3)
    g = roundtrip(one_op("SignalEnergy", [("x", (66,), "int16")], [((33,), "uint32")],
                         start_index=2, end_index=30))
    x = rng.integers(-32768, 32768, 66).astype(np.int16)
    x[4:8] = -32768  # the int32 sum overflows into uint32's top bit
    ours = Interpreter(g).run([x])[0]
    want = TflmRunner(write_tflite(g)).run([x])[0]
    check_tensor(ours[2:30], want[2:30], "energy")  # TFLM leaves the other bins unwritten
    assert not ours[:2].any() and not ours[30:].any()


def test_filter_bank_against_tflm() -> None:
    rng = np.random.default_rng(4)
    channels, bins = 6, 40
    widths = rng.integers(0, 6, channels + 1).astype(np.int16)
    starts = rng.integers(0, bins - 6, channels + 1).astype(np.int16)
    wstarts = np.r_[0, np.cumsum(widths)[:-1]].astype(np.int16)
    total = int(widths.sum())
    weights = rng.integers(0, 4097, total).astype(np.int16)
    unweights = (4096 - weights).astype(np.int16)
    g = roundtrip(one_op("SignalFilterBank",
                         [("x", (bins,), "uint32"), weights, unweights, starts, wstarts, widths],
                         [((channels,), "uint64")], num_channels=channels))
    for top in (1 << 16, 1 << 32):
        check_tflm(g, [rng.integers(0, top, bins, dtype=np.uint64).astype(np.uint32)], f"filter bank {top}")


def test_filter_bank_square_root_against_tflm() -> None:
    rng = np.random.default_rng(5)
    edges = np.array([0, 1, 2, (1 << 32) - 1, 1 << 32, (1 << 64) - 1, (1 << 64) - 2, 4294836225], np.uint64)
    x = np.concatenate([rng.integers(0, 1 << 32, 8, dtype=np.uint64),
                        rng.integers(0, (1 << 64) - 1, 8, dtype=np.uint64), edges])
    for shift in (0, 3):
        g = roundtrip(one_op("SignalFilterBankSquareRoot",
                             [("x", (len(x),), "uint64"), np.array(shift, np.int32)],
                             [((len(x),), "uint32")]))
        check_tflm(g, [x], f"sqrt >> {shift}")


def test_spectral_subtraction_keeps_state_against_tflm() -> None:
    rng = np.random.default_rng(6)
    n = 10
    for clamping, sb in ((False, 10), (True, 0)):
        g = roundtrip(one_op(
            "SignalFilterBankSpectralSubtraction", [("x", (n,), "uint32")],
            [((n,), "uint32"), ((n,), "uint32")],
            alternate_one_minus_smoothing=15401, alternate_smoothing=983, clamping=clamping,
            min_signal_remaining=819, num_channels=n, one_minus_smoothing=15974, smoothing=410,
            smoothing_bits=sb, spectral_subtraction_bits=14))
        ours, ref = Interpreter(g), TflmRunner(write_tflite(g))
        for step in range(5):  # the noise estimate carries from one invocation to the next
            x = rng.integers(0, 1 << (22 - sb // 2), n, dtype=np.uint64).astype(np.uint32)
            for a, b in zip(ours.run([x]), ref.run([x]), strict=True):
                check_tensor(a, b, f"spectral subtraction clamping={clamping} step {step}")
        ours.reset_state()
        x = rng.integers(0, 1 << 16, n).astype(np.uint32)
        check_tensor(ours.run([x])[1], TflmRunner(write_tflite(g)).run([x])[1], "after reset")


def test_pcan_against_tflm() -> None:
    from edgecraft.dsp.micro_speech import MICRO_SPEECH, tables

    rng = np.random.default_rng(7)
    lut = tables(MICRO_SPEECH).gain_lut
    n = 40
    g = roundtrip(one_op("SignalPCAN", [("x", (n,), "uint32"), ("noise", (n,), "uint32"), lut],
                         [((n,), "uint32")], snr_shift=6))
    for top in (1 << 12, 1 << 20, 1 << 32):
        x = rng.integers(0, top, n, dtype=np.uint64).astype(np.uint32)
        noise = rng.integers(0, top, n, dtype=np.uint64).astype(np.uint32)
        noise[:3] = [0, 1, 2]
        check_tflm(g, [x, noise], f"pcan {top}")


def test_filter_bank_log_against_tflm() -> None:
    rng = np.random.default_rng(8)
    x = np.r_[[0, 1, 2, 3, 0xFFFFFFFF], rng.integers(0, 1 << 32, 27, dtype=np.uint64)].astype(np.uint32)
    for bits, scale in ((3, 64), (0, 1600), (5, 70000)):
        g = roundtrip(one_op("SignalFilterBankLog", [("x", (len(x),), "uint32")], [((len(x),), "int16")],
                             input_correction_bits=bits, output_scale=scale))
        check_tflm(g, [x], f"log {bits} {scale}")


@pytest.mark.parametrize("n", [16, 64, 512])
def test_irfft_int16_against_tflm(n: int) -> None:
    rng = np.random.default_rng(n + 1)
    g = roundtrip(one_op("SignalIrfft", [("x", (3, n + 2), "int16")], [((3, n), "int16")], T=7, fft_length=n))
    x = rng.integers(-32768, 32768, (3, n + 2)).astype(np.int16)
    x[1] //= 256
    check_tflm(g, [x], f"irfft {n}")


def test_rfft_and_irfft_float32_against_tflm() -> None:
    rng = np.random.default_rng(31)
    for n in (32, 512):
        x = rng.standard_normal((2, n - 8)).astype(np.float32)
        g = roundtrip(one_op("SignalRfft", [("x", (2, n - 8), "float32")], [((2, n + 2), "float32")],
                             T=0, fft_length=n))
        ours, want = Interpreter(g).run([x])[0], TflmRunner(write_tflite(g)).run([x])[0]
        np.testing.assert_allclose(ours, want, rtol=0, atol=1e-5 * np.abs(want).max())
        spec = rng.standard_normal((2, n + 2)).astype(np.float32)
        g = roundtrip(one_op("SignalIrfft", [("x", (2, n + 2), "float32")], [((2, n), "float32")],
                             T=0, fft_length=n))
        ours, want = Interpreter(g).run([spec])[0], TflmRunner(write_tflite(g)).run([spec])[0]
        np.testing.assert_allclose(ours, want, rtol=0, atol=1e-5 * np.abs(want).max())


@pytest.mark.parametrize("n", [16, 128, 512])
def test_rfft_and_irfft_int32_against_tflm(n: int) -> None:
    rng = np.random.default_rng(n + 2)
    g = roundtrip(one_op("SignalRfft", [("x", (2, n), "int32")], [((2, n + 2), "int32")], T=2, fft_length=n))
    x = rng.integers(-(1 << 31), 1 << 31, (2, n), dtype=np.int64).astype(np.int32)
    x[1] >>= 12
    check_tflm(g, [x], f"rfft int32 {n}")
    g = roundtrip(one_op("SignalIrfft", [("x", (2, n + 2), "int32")], [((2, n), "int32")], T=2, fft_length=n))
    check_tflm(g, [rng.integers(-(1 << 31), 1 << 31, (2, n + 2), dtype=np.int64).astype(np.int32)],
               f"irfft int32 {n}")
