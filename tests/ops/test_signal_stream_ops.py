"""TFLM's signal-library ops that keep samples between invocations (SignalDelay, SignalFramer,
SignalStacker, SignalOverlapAdd): random one-op models written by edgecraft's writer, several
invocations in a row and after a reset, edgecraft's runtime against one TFLM interpreter."""

from __future__ import annotations

import numpy as np

from edgecraft.formats import read_tflite_bytes, write_tflite
from edgecraft.ir.builder import GraphBuilder
from edgecraft.ir.graph import Graph
from edgecraft.reference import TflmRunner
from edgecraft.runtime import Interpreter
from oracle import check_tensor


def one_op(op: str, shape: tuple[int, ...], dtype: str, outputs: list[tuple[tuple[int, ...], str]],
           **attrs: object) -> Graph:
    b = GraphBuilder()
    x = b.tensor("x", shape, dtype)
    outs = [b.tensor(f"y{j}", s, d) for j, (s, d) in enumerate(outputs)]
    b.op(op, [x], outs, **attrs)
    g = read_tflite_bytes(write_tflite(b.build([x], outs)))
    assert g.operators[0].type == op and g.operators[0].attrs == attrs
    return g


def stream(g: Graph, inputs: list[np.ndarray], label: str, valid_flag: bool = False) -> int:
    """Run ``inputs`` in turn through both, reset, run them again; returns how many outputs were
    valid (all of them for ops without a flag)."""
    data = write_tflite(g)
    ours, ref = Interpreter(g), TflmRunner(data)
    valid = 0
    for rnd in range(2):
        for step, x in enumerate(inputs):
            got, want = ours.run([x]), ref.run([x])
            where = f"{label} round {rnd} step {step}"
            if valid_flag:
                check_tensor(got[1], want[1], where + " valid")
                if not bool(want[1]):
                    continue  # TFLM leaves the output unwritten
            if got[0].dtype == np.float32:  # the same float32 additions in the same order: equal
                np.testing.assert_array_equal(got[0], want[0], err_msg=where)
            else:
                check_tensor(got[0], want[0], where)
            valid += 1
        ours.reset_state()
        ref = TflmRunner(data)  # the package's reset is the same as a new interpreter
    return valid


def test_delay_against_tflm() -> None:
    rng = np.random.default_rng(21)
    for shape, delay in (((12,), 5), ((3, 8), 13), ((4,), 0)):
        g = one_op("SignalDelay", shape, "int16", [(shape, "int16")], delay_length=delay)
        stream(g, [rng.integers(-32768, 32768, shape).astype(np.int16) for _ in range(4)], f"delay {delay}")


def test_framer_against_tflm() -> None:
    rng = np.random.default_rng(22)
    for shape, size, step, prefill in (((8,), 12, 4, False), ((2, 9), 5, 3, True), ((6,), 6, 6, False)):
        k = shape[-1] // step
        g = one_op("SignalFramer", shape, "int16", [((*shape[:-1], k, size), "int16"), ((), "bool")],
                   frame_size=size, frame_step=step, prefill=prefill)
        inputs = [rng.integers(-32768, 32768, shape).astype(np.int16) for _ in range(4)]
        assert stream(g, inputs, f"framer {size}/{step}", valid_flag=True) >= 4


def test_stacker_against_tflm() -> None:
    rng = np.random.default_rng(23)
    for ch, left, right, step in ((3, 1, 0, 1), (4, 2, 1, 2), (2, 0, 2, 1)):
        g = one_op("SignalStacker", (ch,), "int16", [((ch * (left + right + 1),), "int16"), ((), "bool")],
                   num_channels=ch, stacker_left_context=left, stacker_right_context=right, stacker_step=step)
        inputs = [rng.integers(-32768, 32768, ch).astype(np.int16) for _ in range(6)]
        assert stream(g, inputs, f"stacker {ch} {left} {right} {step}", valid_flag=True) >= 4


def test_overlap_add_against_tflm() -> None:
    rng = np.random.default_rng(24)
    for dtype, code in (("int16", 7), ("float32", 0)):
        for shape, step in (((3, 8), 4), ((2, 2, 6), 2)):
            out = (*shape[:-2], shape[-2] * step)
            g = one_op("SignalOverlapAdd", shape, dtype, [(out, dtype)], T=code, frame_step=step)
            if dtype == "int16":
                inputs = [rng.integers(-32768, 32768, shape).astype(np.int16) for _ in range(3)]
            else:
                inputs = [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]
            stream(g, inputs, f"overlap-add {dtype} {shape} {step}")
