"""An op is one file: everything the planner, profiler, cost model, reader/writer and code
generator know about an op comes from its ``OpDef``. A toy op registered like any other (one
module, one registry line, one emitter row) is seen by all of them, and no module outside
``ops/`` keeps a table keyed by op names of its own."""

from __future__ import annotations

import ast
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import edgecraft
from edgecraft.codegen import generate
from edgecraft.codegen.opcode import OpCode
from edgecraft.codegen.ops_c import EMITTERS
from edgecraft.ir.builder import GraphBuilder, qparams
from edgecraft.ir.graph import Graph
from edgecraft.ops import registry
from edgecraft.ops.base import Cost, OpContext, OpDef, Window
from edgecraft.plan import plan_memory
from edgecraft.plan.accounting import ram_parts
from edgecraft.plan.overlap import overlap_offset
from edgecraft.targets.costmodel import work_features
from edgecraft.targets.profiling import kernel_code_bytes, kernel_file_bytes

SRC = Path(edgecraft.__file__).parent
#: (module, table) keyed by op names that may live outside ops/, and why.
ALLOWED = {
    ("codegen/ops_c.py", "EMITTERS"): "the C emitter table (op -> C text), kept in codegen/ by design",
    ("codegen/ops_c_float.py", "FLOAT_EMITTERS"): "the float32 rows of the C emitter table",
    ("codegen/ops_c_int.py", "INT_EMITTERS"): "the int32/int64/bool rows of the C emitter table",
    ("codegen/ops_c_signal.py", "SIGNAL_EMITTERS"): "the TFLM signal-library rows of the C emitter table",
    ("codegen/ops_c_float.py", "UNARY"): "op -> EC_F_* kind of ec_unary_f32 (ec_kernels.h's order)",
    ("codegen/ops_c_float.py", "BINARY"): "op -> EC_* kind of ec_binary_f32 (C side)",
    ("codegen/ops_c_float.py", "REDUCE"): "op -> EC_REDUCE_* kind of the C reductions (C side)",
    ("codegen/ops_c_int.py", "ARITH"): "the ops ec_arith_int implements (C side)",
    ("optimize/advice.py", "LOWERED_FROM"): "PyTorch-side advice: TFLite builtins (most of them not "
                                            "edgecraft ops) -> the aten calls that lower to them",
    ("optimize/layers.py", "FUSED"): "keyed by fused-activation names (RELU, RELU6), not ops",
    ("optimize/layers.py", "SAME_LAYOUT"): "the ops litert-torch leaves in PyTorch's axis order (a fact "
                                           "about the converter, not the op)",
    ("optimize/layers.py", "VIEWS"): "layout ops (TRANSPOSE, EXPAND_DIMS too) to line float layers up",
    ("optimize/compat.py", "SKIPPED"): "QUANTIZE/DEQUANTIZE: the edges of a float island, not layers",
}


def _toy_kernel(ctx: OpContext, values: list[np.ndarray]) -> list[np.ndarray]:
    return [np.asarray(values[0]).copy()]


TOY = OpDef(
    name="TOY_COPY",
    shape=lambda ctx: [ctx.req_input(0).shape],
    kernels={"int8": _toy_kernel},
    cost=lambda ctx: Cost(7 * ctx.output(0).size, ctx.req_input(0).nbytes, ctx.output(0).nbytes),
    scratch={"dsp": lambda ctx: 40},
    work_class="fc",
    inplace=True,
    window=lambda ctx: Window(3, 3, dilated=False),
    code={"portable": ("ec_data_ops.c",), "dsp": ("ec_softmax.c",)},
    requant_channels=lambda ctx: 3,
    state_bytes=12,
)


def _toy_emitter(ctx: OpContext, p: str, ptr) -> OpCode:  # type: ignore[no-untyped-def]
    src, dst = ptr(ctx.op.inputs[0]), ptr(ctx.op.outputs[0])
    scratch = ptr.scratch(ctx.op) if ptr.dsp else "NULL"
    return OpCode("", f"(void){scratch}; memmove({dst}, {src}, {ctx.output(0).nbytes});", ())


@pytest.fixture
def toy_op(monkeypatch: pytest.MonkeyPatch) -> OpDef:
    """TOY_COPY registered like a real op: a module under edgecraft.ops, a registry line and
    an emitter row."""
    module = types.ModuleType("edgecraft.ops.toy_copy")
    module.OP = TOY  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "edgecraft.ops.toy_copy", module)
    monkeypatch.setitem(registry.OP_MODULES, "TOY_COPY", "toy_copy")
    monkeypatch.setitem(EMITTERS, "TOY_COPY", _toy_emitter)
    registry.get_op.cache_clear()
    yield TOY
    registry.get_op.cache_clear()


def _toy_graph() -> Graph:
    """input (1, 6, 6, 4) -> RELU -> TOY_COPY -> output: the toy's input dies at the toy."""
    b = GraphBuilder("toy")
    q = qparams(0.05, 0)
    x = b.tensor("x", (1, 6, 6, 4), "int8", q)
    r = b.tensor("r", (1, 6, 6, 4), "int8", q)
    y = b.tensor("y", (1, 6, 6, 4), "int8", q)
    b.op("RELU", [x], [r])
    b.op("TOY_COPY", [r], [y])
    return b.build([x], [y])


def test_a_registered_toy_op_is_seen_by_every_stage(toy_op: OpDef) -> None:
    graph = _toy_graph()
    # planner: in place over its dying input, its DSP scratch for one step, its window
    plan = plan_memory(graph, "inplace")
    assert plan.offset_of(2) == plan.offset_of(1)
    dsp = plan_memory(graph, "greedy", kernels="dsp")
    (scratch,) = [b for b in dsp.buffers if b.kind == "scratch"]
    assert (scratch.index, scratch.size, scratch.first, scratch.last) == (1, 48, 1, 1)
    assert overlap_offset(graph, 1) is not None
    # profiler and cost model: state, multipliers, code files, work class
    parts = ram_parts(graph, plan)
    assert parts["op_state"] == 16 + 12 and parts["quant_multipliers"] == 8 * 3
    sizes = kernel_file_bytes()
    base = kernel_code_bytes(_relu_only(), dsp=True)
    assert kernel_code_bytes(graph, dsp=True) - base == sizes["ec_softmax.c"] + 80
    assert work_features(graph)["fc_macs"] == 7 * 144
    # code generator: the emitter row, and the DSP build passes the planned scratch
    text = generate(graph, "toy", dsp=True).files["toy.c"]
    assert "(void)S1; memmove(" in text and "#define S1 ((int8_t *)(arena + " in text


def _relu_only() -> Graph:
    b = GraphBuilder("relu")
    x = b.tensor("x", (1, 6, 6, 4), "int8", qparams(0.05, 0))
    y = b.tensor("y", (1, 6, 6, 4), "int8", qparams(0.05, 0))
    b.op("RELU", [x], [y])
    return b.build([x], [y])


def _op_name_tables(path: Path, names: set[str], label: str) -> list[str]:
    """Module- and class-level assignments of a dict keyed by op names, or of a set, list or
    tuple holding two or more op names, except the ``ALLOWED`` ones."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Module | ast.ClassDef):
            continue
        for stmt in node.body:
            if not isinstance(stmt, ast.Assign | ast.AnnAssign) or stmt.value is None:
                continue
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and (label, t.id) in ALLOWED for t in targets):
                continue
            for sub in ast.walk(stmt.value):
                if isinstance(sub, ast.Dict):
                    hits = [k.value for k in sub.keys if isinstance(k, ast.Constant) and k.value in names]
                    enough = len(hits) >= 1
                elif isinstance(sub, ast.Set | ast.List | ast.Tuple):
                    hits = [e.value for e in sub.elts if isinstance(e, ast.Constant) and e.value in names]
                    enough = len(hits) >= 2
                else:
                    continue
                if enough:
                    found.append(f"{label}:{stmt.lineno} {hits[:4]}")
                    break
    return found


def test_no_module_outside_ops_keeps_a_table_of_ops() -> None:
    names = set(registry.supported_ops()) | {"EXPAND_DIMS"}
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("ops/"):
            continue
        found += _op_name_tables(path, names, rel)
    assert found == [], "op-name tables outside ops/ (put the fact in the OpDef):\n" + "\n".join(found)


def test_the_scan_finds_a_table(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text('VIEWS = frozenset({"RESHAPE", "SQUEEZE"})\nCOST = {"CONV_2D": 1}\nONE = ("RESHAPE",)\n')
    assert len(_op_name_tables(probe, {"RESHAPE", "SQUEEZE", "CONV_2D"}, "probe.py")) == 2
