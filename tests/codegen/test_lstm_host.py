"""UNIDIRECTIONAL_SEQUENCE_LSTM in generated C (int8 and int16 16x8), compiled for this machine:
equal to TFLM over several invocations (the state arrays carry over as TFLM's variable tensors
do, and ``<name>_reset`` starts over), and clean under the sanitizers."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel, run_sanitized
from edgecraft.codegen.opcode import CodegenError
from edgecraft.formats import write_tflite
from edgecraft.reference import TflmRunner
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
    for case, graph in _cases(5, 4):
        xs = np.stack([lstm_input(graph, seed=case + r) for r in range(2)])
        _, stderr = run_sanitized(generate(graph, "lstm"), [xs])
        assert stderr == "", stderr


def test_float_lstm_is_named_as_lacking_c() -> None:
    with pytest.raises(CodegenError, match="float32 input has no C kernel"):
        generate(lstm_graph(1, 2, 2, 2, "float32"), "lstm")
