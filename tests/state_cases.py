"""Small multi-subgraph models written with edgecraft's writer: resource variables kept between
invocations (an accumulator and a delay line, first values from a CALL_ONCE init subgraph),
WHILE and IF."""

from __future__ import annotations

import numpy as np

from edgecraft.ir import Graph, GraphBuilder, Quantization, qparams


def _quant(dtype: str) -> Quantization | None:
    return qparams(0.05, 3) if dtype == "int8" else qparams(0.01, 0) if dtype == "int16" else None


def _init_subgraph(dtype: str, init: np.ndarray) -> Graph:
    b = GraphBuilder("init")
    h = b.tensor("h", (), "resource")
    c = b.const("c", init.astype(dtype), _quant(dtype))
    b.op("VAR_HANDLE", [], [h], container="", shared_name="state")
    b.op("ASSIGN_VARIABLE", [h, c], [])
    return b.build([], [])


def state_model(dtype: str, kind: str, rng: np.random.Generator) -> Graph:
    """``accumulate``: out = variable + x, kept in the variable; ``delay``: out = the variable,
    then x is kept. The variable starts at constants set by a CALL_ONCE init subgraph."""
    shape = (1, 6)
    q = _quant(dtype)
    b = GraphBuilder("main")
    x = b.tensor("x", shape, dtype, q)
    h = b.tensor("h", (), "resource")
    v = b.tensor("v", shape, dtype, q)
    b.op("CALL_ONCE", [], [], init_subgraph_index=1)
    b.op("VAR_HANDLE", [], [h], container="", shared_name="state")
    b.op("READ_VARIABLE", [h], [v])
    if kind == "accumulate":
        s = b.tensor("s", shape, dtype, q)
        b.op("ADD", [v, x], [s])
        b.op("ASSIGN_VARIABLE", [h, s], [])
        out = s
    else:
        b.op("ASSIGN_VARIABLE", [h, x], [])
        out = v
    g = b.build([x], [out])
    init = rng.integers(-20, 20, shape) if dtype != "float32" else rng.standard_normal(shape)
    g.subgraphs = [_init_subgraph(dtype, init)]
    return g


def state_input(rng: np.random.Generator, dtype: str) -> np.ndarray:
    if dtype == "float32":
        return rng.standard_normal((1, 6)).astype(np.float32)
    return rng.integers(-30, 30, (1, 6)).astype(dtype)


def while_model(dtype: str, limit: int = 5) -> Graph:
    """WHILE (i < limit): i += 1, a += step; returns (i, a)."""
    q = qparams(0.1, -2) if dtype == "int8" else None
    c = GraphBuilder("cond")
    i, a = c.tensor("i", (1,), "int32"), c.tensor("a", (1, 3), dtype, q)
    n, r = c.const("n", np.array([limit], np.int32)), c.tensor("r", (1,), "bool")
    c.op("LESS", [i, n], [r])
    body = GraphBuilder("body")
    bi, ba = body.tensor("i", (1,), "int32"), body.tensor("a", (1, 3), dtype, q)
    one = body.const("one", np.array([1], np.int32))
    step = body.const("step", (np.array([[1, 2, -3]]) * (0.25 if dtype == "float32" else 1)).astype(dtype), q)
    i2, a2 = body.tensor("i2", (1,), "int32"), body.tensor("a2", (1, 3), dtype, q)
    body.op("ADD", [bi, one], [i2])
    body.op("ADD", [ba, step], [a2])
    m = GraphBuilder("main")
    mi, ma = m.tensor("i", (1,), "int32"), m.tensor("a", (1, 3), dtype, q)
    o1, o2 = m.tensor("o1", (1,), "int32"), m.tensor("o2", (1, 3), dtype, q)
    m.op("WHILE", [mi, ma], [o1, o2], cond_subgraph_index=1, body_subgraph_index=2)
    g = m.build([mi, ma], [o1, o2])
    g.subgraphs = [c.build([i, a], [r]), body.build([bi, ba], [i2, a2])]
    return g


def if_model(dtype: str) -> Graph:
    """IF (c): x + y else x - y."""
    q = qparams(0.1, -2) if dtype == "int8" else None
    branches = []
    for op in ("ADD", "SUB"):
        s = GraphBuilder(op.lower())
        x, y, z = (s.tensor(n, (2, 2), dtype, q) for n in "xyz")
        s.op(op, [x, y], [z])
        branches.append(s.build([x, y], [z]))
    m = GraphBuilder("main")
    c = m.tensor("c", (1,), "bool")
    x, y, z = (m.tensor(n, (2, 2), dtype, q) for n in "xyz")
    m.op("IF", [c, x, y], [z], then_subgraph_index=1, else_subgraph_index=2)
    g = m.build([c, x, y], [z])
    g.subgraphs = branches
    return g
