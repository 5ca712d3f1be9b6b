"""SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND in generated C (int8 and float32, rank 3 and 4, with
padding and crops): equal to the runtime (which the ops tests check against TFLM and LiteRT),
and clean under the sanitizers."""

from __future__ import annotations

import numpy as np

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel, run_sanitized
from edgecraft.runtime import run_model
from oracle import check_tensor
from remaining_cases import space_batch, values


def test_space_batch_in_c_matches_the_runtime() -> None:
    rng = np.random.default_rng(71)
    for case in range(6):
        dtype = ("int8", "float32")[case % 2]
        for graph in space_batch(rng, dtype, four=case % 3 != 0, pad=case < 4):
            xs = np.stack([values(rng, graph.input_tensors()[0].shape, dtype) for _ in range(2)])
            outs = HostModel(generate(graph, "sb"), opt="-O0").run_batch([xs])[0]
            for r in range(2):
                label = f"{graph.operators[0].type} case {case}"
                check_tensor(outs[r], run_model(graph, [xs[r]])[0], label)


def test_space_batch_under_sanitizers() -> None:
    rng = np.random.default_rng(72)
    for graph in space_batch(rng, "int8", four=True, pad=True):
        xs = np.stack([values(rng, graph.input_tensors()[0].shape, "int8")])
        _, stderr = run_sanitized(generate(graph, "sb"), [xs])
        assert stderr == "", stderr
