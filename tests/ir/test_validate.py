"""The validator names the first inconsistency in words."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir import GraphBuilder, GraphError, Quantization, qparams, validate
from edgecraft.models.synthetic import small_cnn


def test_valid_graph_passes() -> None:
    validate(small_cnn())


def _graph():  # type: ignore[no-untyped-def]
    g = GraphBuilder()
    x = g.tensor("x", (1, 4), "int8", qparams(0.1, 0))
    w = g.const("w", np.ones((2, 4), np.int8), qparams([0.1, 0.2], 0))
    y = g.tensor("y", (1, 2), "int8", qparams(0.1, 0))
    g.op("FULLY_CONNECTED", [x, w, -1], [y])
    return g.build([x], [y])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda g: setattr(g.tensors[0], "dtype", "complex64"), "unsupported dtype"),
        (lambda g: setattr(g.tensors[0], "shape", (1, -4)), "negative dimension"),
        (lambda g: setattr(g.tensors[1], "data", np.ones(3, np.int8)), "needs 8"),
        (lambda g: setattr(g.tensors[1], "data", np.ones((2, 4), np.int32)), "declared int8"),
        (lambda g: setattr(g.tensors[1], "quant", Quantization(np.ones(3), np.zeros(3))), "dimension 0 is 2"),
        (lambda g: setattr(g.tensors[1], "quant", Quantization(np.ones(2), np.zeros(1))),
         "2 scales but 1 zero points"),
        (lambda g: g.operators[0].inputs.__setitem__(0, 7), "reads tensor 7"),
        (lambda g: g.operators[0].inputs.__setitem__(0, 2), "before any operator writes it"),
        (lambda g: g.operators[0].outputs.__setitem__(0, 1), "writes constant tensor"),
        (lambda g: g.outputs.__setitem__(0, 9), "graph output refers to tensor 9"),
    ],
)
def test_first_inconsistency_in_words(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    g = _graph()
    mutate(g)
    with pytest.raises(GraphError, match=message):
        validate(g)
