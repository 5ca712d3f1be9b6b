"""The runtime's table-lookup path gives exactly the reference kernel's bytes."""

from __future__ import annotations

import numpy as np
import pytest

from edgecraft.ir import GraphBuilder, qparams
from edgecraft.ops.base import OpContext
from edgecraft.ops.registry import get_op
from edgecraft.runtime import Interpreter
from edgecraft.runtime.fast import lookup_kernel
from oracle import check_tflm

CASES = [
    ("LOGISTIC", {}, qparams(0.1, 3), qparams(1 / 256, -128)),
    ("TANH", {}, qparams(0.05, -7), qparams(1 / 128, 0)),
    ("HARD_SWISH", {}, qparams(0.04, 10), qparams(0.03, -20)),
    ("RELU", {}, qparams(0.1, -5), qparams(0.05, -128)),
    ("RELU6", {}, qparams(0.05, -3), qparams(0.05, -3)),
    ("LEAKY_RELU", {"alpha": 0.1}, qparams(0.1, 2), qparams(0.07, -9)),
    ("QUANTIZE", {}, qparams(0.1, 2), qparams(0.3, -9)),
]


def _graph(op: str, attrs: dict, qin, qout, out_dtype: str = "int8"):  # type: ignore[no-untyped-def]
    g = GraphBuilder()
    x = g.tensor("x", (2, 5, 7, 3), "int8", qin)
    y = g.tensor("y", (2, 5, 7, 3), out_dtype, qout)
    g.op(op, [x], [y], **attrs)
    return g.build([x], [y])


@pytest.mark.parametrize(("op", "attrs", "qin", "qout"), CASES)
def test_lookup_equals_reference_kernel(op: str, attrs: dict, qin, qout) -> None:  # type: ignore[no-untyped-def]
    graph = _graph(op, attrs, qin, qout)
    ctx = OpContext(graph.operators[0], graph)
    opdef = get_op(op)
    plain = opdef.kernel_for(ctx)
    fast = lookup_kernel(opdef, ctx, plain)
    assert fast is not plain, f"{op} should run as a table"
    x = np.random.default_rng(0).integers(-128, 128, (2, 5, 7, 3), dtype=np.int8)
    x.flat[:256] = np.arange(-128, 128)
    want = plain(OpContext(graph.operators[0], graph), [x])[0]
    got = fast(ctx, [x])[0]
    assert got.dtype == want.dtype and np.array_equal(got, want)
    check_tflm(graph, [x], op)  # and the interpreter (which uses the table) still equals TFLM


def test_dequantize_table_and_float_ops_untouched() -> None:
    graph = _graph("DEQUANTIZE", {}, qparams(0.1, 2), None, "float32")
    x = np.arange(-128, 82, dtype=np.int8).reshape(2, 5, 7, 3)
    got = Interpreter(graph).run([x])[0]
    assert np.array_equal(got, ((x.astype(np.float32) - 2) * np.float32(0.1)))
    g = GraphBuilder()
    xf = g.tensor("x", (4,), "float32")
    yf = g.tensor("y", (4,), "float32")
    op = g.op("TANH", [xf], [yf])
    graph = g.build([xf], [yf])
    ctx = OpContext(op, graph)
    plain = get_op("TANH").kernel_for(ctx)
    assert lookup_kernel(get_op("TANH"), ctx, plain) is plain
