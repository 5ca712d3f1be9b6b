"""float32 ops in generated C on the host: within 1e-5 of the runtime (itself checked against
LiteRT by the ops tests), comparisons equal; clean under the sanitizers."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.codegen import generate
from edgecraft.codegen.host import HostModel, run_sanitized
from edgecraft.runtime import run_model
from float_cases import binary_graph, inputs_for, nn_graph, unary_graph

GRAPHS = {"nn": nn_graph, "unary": unary_graph, "binary": binary_graph}


def check_outputs(graph, got, want) -> None:  # type: ignore[no-untyped-def]
    for op, g, w in zip(graph.operators, got, want, strict=True):
        assert g.shape == w.shape and g.dtype == w.dtype, op.type
        if w.dtype == np.bool_:
            np.testing.assert_array_equal(g, w, err_msg=op.type)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=op.type)


@pytest.mark.parametrize("kind", sorted(GRAPHS))
def test_float_ops_in_c(kind: str) -> None:
    rng = np.random.default_rng(90 + len(kind))
    graph = GRAPHS[kind](rng)
    model = HostModel(generate(graph, f"f_{kind}"), opt="-O0")
    for _ in range(2):
        inputs = inputs_for(rng, graph)
        check_outputs(graph, model.run(inputs), run_model(graph, inputs))


def test_float_ops_under_sanitizers() -> None:
    rng = np.random.default_rng(93)
    graph = nn_graph(rng)
    inputs = [np.stack([x]) for x in inputs_for(rng, graph)]
    _, stderr = run_sanitized(generate(graph, "f_nn"), inputs)
    assert stderr == "", stderr
