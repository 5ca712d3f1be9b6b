"""TFLM's streaming signal ops (SignalDelay, SignalFramer, SignalStacker, SignalOverlapAdd) and the
other FFT variants (SignalRfft int32 and float32, SignalIrfft int16, int32 and float32) in
generated C, compiled for this machine: several invocations in a row equal TFLM (and edgecraft's
runtime, which also keeps what TFLM leaves unwritten), and again after ``<name>_reset``; the
float FFTs within 1e-5 of TFLM's largest bin."""

from __future__ import annotations

import numpy as np

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel, run_sanitized
from edgecraft.formats import write_tflite
from edgecraft.ir.graph import Graph
from edgecraft.reference import TflmRunner
from edgecraft.runtime import Interpreter
from oracle import check_tensor
from signal_cases import one_op


def _same(got: np.ndarray, want: np.ndarray, label: str) -> None:
    if got.dtype == np.float32:  # the same float32 additions in the same order: equal
        np.testing.assert_array_equal(got, want, err_msg=label)
    else:
        check_tensor(got, want, label)


def _stream(graph: Graph, inputs: list[np.ndarray], label: str) -> int:
    """Run the inputs in turn in C, in TFLM and in the runtime; reset all three and run them
    again. Returns how many outputs TFLM wrote (its valid flag, where the op has one)."""
    host = HostModel(generate(graph, "sig"), opt="-O0")
    batch = np.stack(inputs)
    written = 0
    for rnd in range(2):
        outs = host.run_batch([batch])
        tflm, ours = TflmRunner(write_tflite(graph)), Interpreter(graph)
        for r, x in enumerate(inputs):
            want, mine = tflm.run([x]), ours.run([x])
            where = f"{label} round {rnd} step {r}"
            assert len(want) == len(mine)
            for i, m in enumerate(mine):
                _same(outs[i][r], m, f"{where} output {i} vs runtime")
            if len(want) > 1:
                check_tensor(outs[1][r], want[1], f"{where} valid flag")
                if not bool(want[1]):
                    continue  # TFLM leaves the output unwritten
            _same(outs[0][r], want[0], f"{where} vs TFLM")
            written += 1
        host.lib.sig_reset()
    return written



def test_delay_and_framer_in_c_match_tflm() -> None:
    rng = np.random.default_rng(41)
    for shape, d in (((12,), 5), ((3, 8), 13), ((4,), 0)):
        g = one_op("SignalDelay", [("x", shape, "int16")], [(shape, "int16")], delay_length=d)
        _stream(g, [rng.integers(-32768, 32768, shape).astype(np.int16) for _ in range(4)], f"delay {d}")
    for shape, size, step, prefill in (((8,), 12, 4, False), ((2, 9), 5, 3, True), ((6,), 6, 6, False),
                                       ((8,), 3, 4, False)):
        k = shape[-1] // step
        g = one_op("SignalFramer", [("x", shape, "int16")], [((*shape[:-1], k, size), "int16"), ((), "bool")],
                   frame_size=size, frame_step=step, prefill=prefill)
        inputs = [rng.integers(-32768, 32768, shape).astype(np.int16) for _ in range(4)]
        assert _stream(g, inputs, f"framer {size}/{step}") >= 4


def test_stacker_and_overlap_add_in_c_match_tflm() -> None:
    rng = np.random.default_rng(42)
    for ch, left, right, step in ((3, 1, 0, 1), (4, 2, 1, 2), (2, 0, 2, 1)):
        stack = (ch * (left + right + 1),)
        g = one_op("SignalStacker", [("x", (ch,), "int16")], [(stack, "int16"), ((), "bool")],
                   num_channels=ch, stacker_left_context=left, stacker_right_context=right, stacker_step=step)
        inputs = [rng.integers(-32768, 32768, ch).astype(np.int16) for _ in range(6)]
        assert _stream(g, inputs, f"stacker {ch} {left} {right} {step}") >= 4
    for dtype, code in (("int16", 7), ("float32", 0)):
        for shape, step in (((3, 8), 4), ((2, 2, 6), 2)):
            out = (*shape[:-2], shape[-2] * step)
            g = one_op("SignalOverlapAdd", [("x", shape, dtype)], [(out, dtype)], T=code, frame_step=step)
            if dtype == "int16":
                inputs = [rng.integers(-32768, 32768, shape).astype(np.int16) for _ in range(3)]
            else:
                inputs = [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]
            _stream(g, inputs, f"overlap-add {dtype} {shape} {step}")


def test_irfft_and_int32_rfft_in_c_match_tflm() -> None:
    rng = np.random.default_rng(43)
    for n in (8, 64, 512):
        g = one_op("SignalIrfft", [("x", (2, n + 2), "int16")], [((2, n), "int16")], T=7, fft_length=n)
        x = rng.integers(-32768, 32768, (2, 2, n + 2)).astype(np.int16)
        x[1, 1] //= 256
        _stream(g, list(x), f"irfft int16 {n}")
        for op, width in (("SignalRfft", n), ("SignalIrfft", n + 2)):
            out = n + 2 if op == "SignalRfft" else n
            g = one_op(op, [("x", (2, width), "int32")], [((2, out), "int32")], T=2, fft_length=n)
            x = rng.integers(-(1 << 31), 1 << 31, (2, 2, width), dtype=np.int64).astype(np.int32)
            x[1, 1] >>= 12
            _stream(g, list(x), f"{op} int32 {n}")


def test_float_rfft_and_irfft_in_c_match_tflm() -> None:
    """KISS's float steps: within 1e-5 of TFLM's largest bin (the float C policy; on x86-64 the
    host build equals TFLM bit for bit)."""
    rng = np.random.default_rng(45)
    for n in (8, 64, 512):
        for op, width, out in (("SignalRfft", n - 4, n + 2), ("SignalIrfft", n + 2, n)):
            g = one_op(op, [("x", (2, width), "float32")], [((2, out), "float32")], T=0, fft_length=n)
            x = rng.standard_normal((3, 2, width)).astype(np.float32)
            got = HostModel(generate(g, "sig"), opt="-O0").run_batch([x])[0]
            tflm = TflmRunner(write_tflite(g))
            for r in range(len(x)):
                want = tflm.run([x[r]])[0]
                np.testing.assert_allclose(got[r], want, rtol=0, atol=1e-5 * np.abs(want).max(),
                                           err_msg=f"{op} float32 {n} row {r}")


def test_streaming_ops_and_ffts_under_sanitizers() -> None:
    rng = np.random.default_rng(44)
    graphs = [
        (one_op("SignalFramer", [("x", (2, 9), "int16")], [((2, 3, 5), "int16"), ((), "bool")],
                frame_size=5, frame_step=3, prefill=True), "int16", (2, 9)),
        (one_op("SignalStacker", [("x", (4,), "int16")], [((16,), "int16"), ((), "bool")], num_channels=4,
                stacker_left_context=2, stacker_right_context=1, stacker_step=2), "int16", (4,)),
        (one_op("SignalIrfft", [("x", (1, 66), "int32")], [((1, 64), "int32")], T=2, fft_length=64),
         "int32", (1, 66)),
        (one_op("SignalRfft", [("x", (1, 60), "float32")], [((1, 66), "float32")], T=0, fft_length=64),
         "float32", (1, 60)),
    ]
    for g, dtype, shape in graphs:
        if dtype == "float32":
            x = rng.standard_normal((5, *shape)).astype(np.float32)
        else:
            info = np.iinfo(dtype)
            x = rng.integers(info.min, info.max, (5, *shape), dtype=np.int64).astype(dtype)
        outs, stderr = run_sanitized(generate(g, "sig"), [x])
        assert stderr == "", stderr
        ours = Interpreter(g)
        for r in range(len(x)):
            want = ours.run([x[r]])[0]
            label = f"{g.operators[0].type} {dtype} sanitized step {r}"
            if dtype == "float32":  # the runtime: the exact DFT rounded once
                tol = 1e-5 * np.abs(want).max()
                np.testing.assert_allclose(outs[0][r], want, rtol=0, atol=tol, err_msg=label)
            else:
                check_tensor(outs[0][r], want, label)
