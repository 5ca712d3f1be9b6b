"""UNIDIRECTIONAL_SEQUENCE_LSTM: int8 (8x8, int16 cell) and int16 (16x8) bit-exact with TFLM,
state kept across invocations as TFLM keeps its variable tensors; float32 against LiteRT; the
int16 sigmoid/tanh table kernels against TFLM's LOGISTIC and TANH on every int16 input."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.formats import read_tflite_bytes, write_tflite
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.validate import GraphError, validate
from edgecraft.ops import OpContext, OpError, get_op
from edgecraft.ops.arith import logistic_int16, tanh_int16
from edgecraft.ops.registry import check_shapes, graph_macs
from edgecraft.reference import TflmRunner, run_tflm
from edgecraft.runtime import Interpreter
from lstm_cases import lstm_graph, lstm_input
from oracle import check_litert, check_tensor, check_tflm

ALL_INT16 = np.arange(-(2**15), 2**15, dtype=np.int16)


@pytest.mark.parametrize(("op", "ours"), [("LOGISTIC", logistic_int16), ("TANH", tanh_int16)])
def test_int16_table_kernels_match_tflm_on_every_input(op: str, ours: object) -> None:
    # Q3.12 in, Q0.15 out: TFLM takes the power-of-two path the LSTM gates use.
    b = GraphBuilder()
    x = b.tensor("x", (ALL_INT16.size,), "int16", qparams(2.0**-12, 0))
    y = b.tensor("y", (ALL_INT16.size,), "int16", qparams(2.0**-15, 0))
    b.op(op, [x], [y])
    (want,) = run_tflm(write_tflite(b.build([x], [y])), [ALL_INT16])
    got = ours(ALL_INT16).astype(np.int16)  # type: ignore[operator]
    check_tensor(got, want, op)


@pytest.mark.parametrize("dtype", ["int8", "int16"])
@pytest.mark.parametrize("time_major", [False, True])
def test_small_lstm_matches_tflm(dtype: str, time_major: bool) -> None:
    graph = lstm_graph(2, 5, 3, 4, dtype, seed=3, time_major=time_major)
    check_tflm(graph, [lstm_input(graph)], f"{dtype} time_major={time_major}")


def test_random_lstms_match_tflm_over_three_invocations() -> None:
    # Shapes, scales, clips, saturating weights and cell scales from 2**-15 to 2**-8 (both
    # branches of the cell tanh's input shift); the states carry over between invocations.
    rng = np.random.default_rng(7)
    for case in range(24):
        dtype = ("int8", "int16")[case % 2]
        batch, time, inputs, state = (int(v) for v in rng.integers(1, 6, 4))
        clip = float(rng.choice([0.0, 0.5, 3.0]))
        graph = lstm_graph(batch, time, inputs, state, dtype, seed=case,
                           time_major=bool(rng.integers(2)), cell_clip=clip,
                           weight_range=float(rng.uniform(0.5, 8.0)), cell_power=int(rng.integers(-15, -7)))
        tflm = TflmRunner(write_tflite(graph))
        ours, spec = Interpreter(graph), Interpreter(graph, reference=True)
        for run in range(3):
            x = lstm_input(graph, seed=100 * case + run)
            want = tflm.run([x])[0]
            check_tensor(ours.run([x])[0], want, f"case {case} run {run}")
            check_tensor(spec.run([x])[0], want, f"case {case} run {run} (reference)")


def test_reset_state_starts_over() -> None:
    graph = lstm_graph(1, 3, 2, 3, "int8", seed=5)
    x = lstm_input(graph)
    it = Interpreter(graph)
    first = it.run([x])[0]
    assert not np.array_equal(it.run([x])[0], first)  # the state moved on
    it.reset_state()
    np.testing.assert_array_equal(it.run([x])[0], first)


@pytest.mark.parametrize("time_major", [False, True])
def test_float32_matches_litert(time_major: bool) -> None:
    graph = lstm_graph(2, 6, 5, 7, "float32", seed=4, time_major=time_major, cell_clip=0.7)
    check_litert(graph, [lstm_input(graph)], label=f"time_major={time_major}")


def test_states_round_trip_as_variable_tensors() -> None:
    graph = lstm_graph(1, 2, 2, 2, "int8")
    back = read_tflite_bytes(write_tflite(graph))
    assert [t.name for t in back.tensors if t.variable] == ["h", "c"]
    assert back.operators[0].attrs["fused_activation_function"] == "TANH"


def test_variable_tensors_are_checked() -> None:
    graph = lstm_graph(1, 2, 2, 2, "int8")
    h = graph.operators[0].inputs[18]
    graph.tensors[h].data = np.zeros(graph.tensors[h].shape, np.int8)
    with pytest.raises(GraphError, match=r"state .variable. tensor but holds constant data"):
        validate(graph)
    graph = lstm_graph(1, 2, 2, 2, "int8")
    graph.tensors[h].variable = False
    with pytest.raises(GraphError, match="before any operator writes it"):
        validate(graph)


def test_refuses_what_tflm_refuses() -> None:
    graph = lstm_graph(1, 2, 3, 2, "int8")
    graph.operators[0].inputs[9] = graph.operators[0].inputs[1]  # a peephole
    with pytest.raises(OpError, match=r"input 9 .* must be absent"):
        check_shapes(graph)
    graph = lstm_graph(1, 2, 3, 2, "int8")
    graph.operators[0].attrs["fused_activation_function"] = "RELU"
    with pytest.raises(OpError, match="TANH only"):
        check_shapes(graph)


def test_macs_and_scratch() -> None:
    graph = lstm_graph(2, 5, 3, 4, "int8")
    ctx = OpContext(graph.operators[0], graph)
    assert graph_macs(graph) == 2 * 5 * 4 * 4 * (3 + 4)
    for variant in ("portable", "dsp"):  # the DSP build runs the same kernel
        assert get_op("UNIDIRECTIONAL_SEQUENCE_LSTM").scratch_bytes(ctx, variant) == 4 * 2 * 4 * 2
