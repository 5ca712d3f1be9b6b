"""UNIDIRECTIONAL_SEQUENCE_LSTM in generated C (int8 and int16 16x8), compiled for this machine:
equal to TFLM over several invocations (the state arrays carry over as TFLM's variable tensors
do, and ``<name>_reset`` starts over), and clean under the sanitizers. float32: within 1e-5 of
TFLM and of the runtime over several invocations, both layouts, with and without a cell clip."""

from __future__ import annotations

import numpy as np

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel, run_sanitized
from edgecraft.formats import write_tflite
from edgecraft.reference import TflmRunner
from edgecraft.runtime import Interpreter
from lstm_cases import lstm_graph, lstm_input
from oracle import check_tensor


def _cases(seed: int, count: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    for case in range(count):
        dtype = ("int8", "int16")[case % 2]
        batch, time, inputs, state = (int(v) for v in rng.integers(1, 6, 4))
        clip = float(rng.choice([0.0, 0.5, 3.0]))
        yield case, lstm_graph(batch, time, inputs, state, dtype, seed=case + seed,
                               time_major=bool(rng.integers(2)), cell_clip=clip,
                               weight_range=float(rng.uniform(0.5, 8.0)),
                               cell_power=int(rng.integers(-15, -7)))


def test_random_lstms_in_c_match_tflm_over_invocations() -> None:
    for case, graph in _cases(31, 10):
        xs = np.stack([lstm_input(graph, seed=10 * case + r) for r in range(3)])
        outs = HostModel(generate(graph, "lstm"), opt="-O0").run_batch([xs])[0]
        tflm = TflmRunner(write_tflite(graph))
        for r in range(3):
            check_tensor(outs[r], tflm.run([xs[r]])[0], f"case {case} invocation {r}")


def test_reset_starts_the_state_over() -> None:
    graph = lstm_graph(1, 3, 2, 4, "int8", seed=2)
    xs = np.stack([lstm_input(graph, seed=r) for r in range(2)])
    host = HostModel(generate(graph, "lstm"))
    first = host.run_batch([xs])[0]
    host.lib.lstm_reset()
    np.testing.assert_array_equal(host.run_batch([xs])[0], first)


def test_lstm_under_sanitizers() -> None:
    graphs = [*_cases(5, 4), (4, lstm_graph(2, 3, 4, 5, "float32", seed=6, cell_clip=0.5))]
    for case, graph in graphs:
        xs = np.stack([lstm_input(graph, seed=case + r) for r in range(2)])
        _, stderr = run_sanitized(generate(graph, "lstm"), [xs])
        assert stderr == "", stderr


def test_float_lstms_in_c_match_tflm_and_the_runtime_over_invocations() -> None:
    cases = [(False, 0.0, 1.0), (True, 0.5, 4.0), (False, 3.0, 8.0), (True, 0.0, 2.0)]
    for case, (time_major, clip, weights) in enumerate(cases):
        graph = lstm_graph(3, 4, 5, 6, "float32", seed=40 + case, time_major=time_major,
                           cell_clip=clip, weight_range=weights)
        xs = np.stack([3 * lstm_input(graph, seed=10 * case + r) for r in (0, 1, 0)])
        host = HostModel(generate(graph, "lstm_f"), opt="-O0")
        outs = host.run_batch([xs])[0]
        tflm, runtime = TflmRunner(write_tflite(graph)), Interpreter(graph)
        for r in range(3):
            want = tflm.run([xs[r]])[0]
            np.testing.assert_allclose(outs[r], want, rtol=1e-5, atol=1e-5, err_msg=f"case {case} {r}")
            np.testing.assert_allclose(outs[r], runtime.run([xs[r]])[0], rtol=1e-5, atol=1e-5)
        assert not np.allclose(outs[2], outs[0], atol=1e-3)  # one input, another starting state
        host.lib.lstm_f_reset()
        np.testing.assert_array_equal(host.run_batch([xs])[0], outs)
