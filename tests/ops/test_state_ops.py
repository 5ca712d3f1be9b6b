"""Resource variables (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE), CALL_ONCE, WHILE and IF in
the runtime, bit-exact with TFLM on multi-subgraph models edgecraft's writer produces; the
round trip of the model's subgraphs; refusals (bad subgraph references, the C generator)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from edgecraft.codegen.support import op_support
from edgecraft.formats import ModelFormatError, read_tflite_bytes, write_tflite, write_tflite_file
from edgecraft.ir import Operator, Tensor
from edgecraft.ops import OpError
from edgecraft.ops.subgraph import MODEL_OPS
from edgecraft.reference import TflmRunner
from edgecraft.runtime import Interpreter
from oracle import check_tensor
from state_cases import if_model, state_input, state_model, while_model

CASES = [("float32", "accumulate"), ("int8", "accumulate"), ("int8", "delay"), ("int16", "delay"),
         ("int32", "delay"), ("float32", "delay")]


@pytest.mark.parametrize(("dtype", "kind"), CASES)
def test_resource_variables_keep_state_as_tflm(dtype: str, kind: str) -> None:
    rng = np.random.default_rng(hash((dtype, kind)) % 1000)
    data = write_tflite(state_model(dtype, kind, rng))
    graph = read_tflite_bytes(data)
    tflm, ours = TflmRunner(data), Interpreter(graph)
    for run in range(4):
        if run == 3:  # reset: variables back to their fill (int8: zero point); CALL_ONCE stays done
            tflm.interp.reset()
            ours.reset_state()
        x = state_input(rng, dtype)
        want = tflm.run([x])[0]
        check_tensor(ours.run([x])[0], want, f"{dtype} {kind} run {run}")
    if kind == "delay":  # a fresh interpreter first gives what the init subgraph assigned
        init = graph.subgraphs[0].tensors[1].data
        check_tensor(Interpreter(graph).run([x])[0], init, "first output of a delay line")


def test_subgraphs_round_trip() -> None:
    graph = while_model("int8")
    data = write_tflite(graph)
    back = read_tflite_bytes(data)
    assert [g.name for g in back.subgraphs] == ["cond", "body"]
    assert [op.type for op in back.subgraphs[1].operators] == ["ADD", "ADD"]
    assert back.operators[0].attrs == {"cond_subgraph_index": 1, "body_subgraph_index": 2}
    assert write_tflite(back) == data
    state = read_tflite_bytes(write_tflite(state_model("int8", "delay", np.random.default_rng(1))))
    assert state.operators[1].attrs == {"container": "", "shared_name": "state"}
    assert state.subgraphs[0].tensors[1].data is not None


@pytest.mark.parametrize("dtype", ["float32", "int8", "int32"])
def test_while_and_if_match_tflm(dtype: str) -> None:
    rng = np.random.default_rng(7)
    data = write_tflite(while_model(dtype))
    tflm, ours = TflmRunner(data), Interpreter(read_tflite_bytes(data))
    for start in (0, 4, 5, 9):  # the body runs 5, 1, 0 and 0 times
        xs = [np.array([start], np.int32), rng.integers(-9, 9, (1, 3)).astype(dtype)]
        for got, want in zip(ours.run(xs), tflm.run(xs), strict=True):
            check_tensor(got, want, f"WHILE {dtype} from {start}")
    assert ours.run(xs)[0][0] == 9
    data = write_tflite(if_model(dtype))
    tflm, ours = TflmRunner(data), Interpreter(read_tflite_bytes(data))
    results = []
    for cond in (True, False):
        xs = [np.array([cond]), rng.integers(-9, 9, (2, 2)).astype(dtype),
              rng.integers(-9, 9, (2, 2)).astype(dtype)]
        results.append(ours.run(xs)[0])
        check_tensor(results[-1], tflm.run(xs)[0], f"IF {dtype} {cond}")


def test_refusals(tmp_path) -> None:  # type: ignore[no-untyped-def]
    graph = while_model("float32")
    graph.operators[0].attrs["body_subgraph_index"] = 3
    with pytest.raises(ModelFormatError, match="body_subgraph_index 3 names no subgraph"):
        read_tflite_bytes(write_tflite(graph))
    graph = while_model("float32")
    graph.subgraphs[0].inputs.pop()  # the condition takes one value, WHILE passes two
    with pytest.raises(ModelFormatError, match="but subgraph 1 takes"):
        read_tflite_bytes(write_tflite(graph))
    graph = if_model("float32")  # the then branch calls itself through an IF of its own
    branch = graph.subgraphs[0]
    c = branch.add_tensor(Tensor("c", (1,), "bool", np.array([True])))
    z = branch.add_tensor(Tensor("z2", (2, 2), "float32"))
    branch.operators.append(Operator("IF", [c, *branch.inputs], [z], {"then_subgraph_index": 1,
                                                                       "else_subgraph_index": 2}))
    with pytest.raises(ModelFormatError, match=r"cycle \(1 -> 1\)"):
        read_tflite_bytes(write_tflite(graph))
    graph = state_model("int8", "delay", np.random.default_rng(2))
    graph.operators.pop(0)  # no CALL_ONCE: the variable is read at its fill (the zero point)
    graph.subgraphs = []
    out = Interpreter(graph).run([np.zeros((1, 6), np.int8)])[0]
    check_tensor(out, np.full((1, 6), 3, np.int8), "read before any assignment")
    graph.operators.pop(2)  # no ASSIGN_VARIABLE at all: nothing gives the variable a size
    with pytest.raises(OpError, match="which no ASSIGN_VARIABLE has given a value"):
        Interpreter(graph).run([np.zeros((1, 6), np.int8)])
    path = tmp_path / "state.tflite"
    write_tflite_file(state_model("int8", "accumulate", np.random.default_rng(3)), path)
    r = subprocess.run([sys.executable, "-m", "edgecraft", "build", str(path), "-t", "qemu-m4", "-o",
                        str(tmp_path / "c")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: CALL_ONCE (operator 0)"), lines
    assert "C generator does not have yet" in lines[0]


def test_ops_table_shows_runtime_support() -> None:
    rows = {r["name"]: r["types"] for r in op_support()}
    for name in MODEL_OPS:
        assert all(s["runtime"] and not s["c"] for s in rows[name].values()), name


def test_if_branch_giving_a_constant_and_external_data() -> None:
    graph = if_model("int8")
    branch = graph.subgraphs[1]
    fixed = np.array([[1, 2], [3, -4]], np.int8)
    k = branch.add_tensor(Tensor("k", (2, 2), "int8", fixed, branch.tensors[2].quant))
    branch.operators.clear()
    branch.outputs = [k]
    data = write_tflite(graph)
    tflm, ours = TflmRunner(data), Interpreter(read_tflite_bytes(data))
    for cond in (False, True):
        xs = [np.array([cond]), np.full((2, 2), 5, np.int8), np.full((2, 2), 7, np.int8)]
        check_tensor(ours.run(xs)[0], tflm.run(xs)[0], f"IF {cond}")
    # constants of every subgraph go after the flatbuffer and come back
    back = read_tflite_bytes(write_tflite(graph, external_data=True))
    check_tensor(back.subgraphs[1].tensors[k].data, fixed, "external constant of subgraph 2")
    assert write_tflite(back) == data
