"""``plan`` and ``profile`` count every subgraph of a model in its RAM, not only the main one:
the other subgraphs' activations, their state tensors, the resource variables, their ops'
multipliers and structs. The Python runtime, which allocates all of it, is the oracle."""

from __future__ import annotations

import copy

import numpy as np

from edgecraft.ir import GraphBuilder
from edgecraft.ir.graph import Graph
from edgecraft.plan import plan_memory
from edgecraft.plan.accounting import NODE_RECORD_BYTES, RAM_ITEMS, ram_parts, resource_bytes
from edgecraft.runtime import Interpreter
from edgecraft.targets.profiling import profile
from state_cases import state_input, state_model, while_model
from svdf_cases import svdf_graph, svdf_input


def svdf_branches(rng: np.random.Generator) -> Graph:
    """IF (c): one SVDF or another copy of it; each branch keeps its own state tensor."""
    branch = svdf_graph(rng)
    x, y = branch.input_tensors()[0], branch.output_tensors()[0]
    m = GraphBuilder("main")
    c = m.tensor("c", (1,), "bool")
    mx, my = m.tensor("x", x.shape, x.dtype, x.quant), m.tensor("y", y.shape, y.dtype, y.quant)
    m.op("IF", [c, mx], [my], then_subgraph_index=1, else_subgraph_index=2)
    g = m.build([c, mx], [my])
    g.subgraphs = [branch, copy.deepcopy(branch)]
    return g


def runtime_arenas_and_state(g: Graph, inputs: list[list[np.ndarray]]) -> tuple[int, int]:
    """What the runtime allocated beyond the main arena once every subgraph ran: the other
    subgraphs' arenas, and their state tensors plus the resource variables (16-byte rounded)."""
    interp = Interpreter(g)
    for x in inputs:
        interp.run(x)
    subs = interp.model._subgraphs  # every subgraph has run: each has its interpreter
    assert len(subs) == len(g.subgraphs)
    arenas = sum(s.plan.arena_bytes for s in subs.values())
    states = [t.nbytes for s in subs.values() for t in s.graph.tensors if t.variable]
    states += [v.size for v in interp.model._values if v is not None]
    return arenas, sum(-(-n // 16) * 16 for n in states)


def test_other_subgraphs_activations_and_state_tensors_count() -> None:
    rng = np.random.default_rng(0)
    g = svdf_branches(rng)
    x = svdf_input(rng, g.subgraphs[0])
    arenas, states = runtime_arenas_and_state(g, [[np.array([c]), x] for c in (True, False)])
    assert arenas > 0 and states > 0
    parts = ram_parts(g, plan_memory(g))
    assert parts["subgraph_arenas"] == arenas
    assert parts["state_tensors"] == states  # the main subgraph has none of its own
    assert parts["runtime_structs"] >= 3 * NODE_RECORD_BYTES  # IF and the two SVDFs
    main_only = copy.copy(g)
    main_only.subgraphs = []
    alone = ram_parts(main_only, plan_memory(main_only))
    assert (alone["subgraph_arenas"], alone["state_tensors"]) == (0, 0)
    assert parts["op_state"] > alone["op_state"] and parts["runtime_structs"] > alone["runtime_structs"]
    for runtime in ("tflm", "edgecraft"):
        p = profile(g, "nano33ble", runtime=runtime)
        assert p["ram"]["arena"] == p["arena_bytes"] + arenas
        assert p["ram_bytes"] == sum(p["ram"][k] for k in RAM_ITEMS)
        assert p["ram"]["persistent"] >= states
        assert "other subgraphs" in p["ram"]["basis"]["arena"]


def test_resource_variables_and_loop_bodies_count() -> None:
    """A resource variable set by a CALL_ONCE init subgraph (6 bytes, one 16-byte block), and a
    WHILE's condition and body arenas."""
    rng = np.random.default_rng(1)
    g = state_model("int8", "accumulate", rng)
    assert resource_bytes(g) == [6]
    arenas, states = runtime_arenas_and_state(g, [[state_input(rng, "int8")]])
    parts = ram_parts(g, plan_memory(g))
    assert (parts["subgraph_arenas"], parts["state_tensors"]) == (arenas, states)
    assert states == 16  # the variable's 6 bytes
    loop = while_model("int8")
    arenas, _ = runtime_arenas_and_state(loop, [[np.array([0], np.int32), np.zeros((1, 3), np.int8)]])
    assert arenas > 0 and ram_parts(loop, plan_memory(loop))["subgraph_arenas"] == arenas
