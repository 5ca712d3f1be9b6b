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
        # damaged quantization (found by mutating TFLM's models): NaN, negative, or an activation
        # scale of 0 reached the kernels' multipliers
        (lambda g: setattr(g.tensors[0], "quant", Quantization(np.array([np.nan]), np.zeros(1))),
         "scales must be finite and positive"),
        (lambda g: setattr(g.tensors[1], "quant", Quantization(np.array([0.1, -0.2]), np.zeros(2))),
         "scales must be finite and positive"),
        (lambda g: setattr(g.tensors[2], "quant", Quantization(np.zeros(1), np.zeros(1))),
         "scales must be finite and positive"),
    ],
)
def test_first_inconsistency_in_words(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    g = _graph()
    mutate(g)
    with pytest.raises(GraphError, match=message):
        validate(g)


def test_an_int8_state_starts_at_its_zero_points_low_byte() -> None:
    """TFLM fills an int8 variable tensor with memset(zero point): a zero point past int8 (a
    damaged file; numpy's fill overflowed) wraps to its low byte."""
    from edgecraft.ir.graph import Tensor

    for zp, fill in ((-5, -5), (300, 44), (-7926335344172072950, 10)):
        t = Tensor("h", (3,), "int8", quant=Quantization(np.array([0.1]), np.array([zp])), variable=True)
        assert t.initial_state().tolist() == [fill] * 3
