"""One MACs function: ``ops.registry.graph_macs`` sums each op's own cost rule, and every report
of a model's MACs (inspect, profile, the cost model's features) is that number."""

from __future__ import annotations

import ast
from pathlib import Path

from edgecraft.cli.inspect_cmd import describe
from edgecraft.models.synthetic import small_cnn
from edgecraft.ops.base import OpContext
from edgecraft.ops.registry import get_op, graph_macs, op_cost
from edgecraft.targets import profile, work_features
from edgecraft.targets.costmodel import FEATURES

ROOT = Path(__file__).resolve().parents[2]


def test_graph_macs_is_the_sum_of_the_op_records() -> None:
    g = small_cnn(seed=0)
    per_op = [get_op(op.type).cost(OpContext(op, g)).macs for op in g.operators]
    assert [op_cost(g, op).macs for op in g.operators] == per_op
    assert graph_macs(g) == sum(per_op) > 0
    conv = [m for op, m in zip(g.operators, per_op, strict=True) if op.type == "CONV_2D"]
    assert conv and all(m > 0 for m in conv)


def test_every_report_gives_the_same_macs() -> None:
    g = small_cnn(seed=0)
    feats = work_features(g)
    assert describe(g)["macs"] == profile(g, "nano33ble")["macs"] == sum(feats[f] for f in FEATURES) \
        == graph_macs(g)


def _sums_macs(node: ast.AST) -> bool:
    """``sum(...)`` whose argument reads ``.macs`` of op costs (sums over report rows that
    already hold ``graph_macs``/``op_cost`` numbers, e.g. a benchmark's subset of layers, are fine)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "sum"):
        return False
    return any(isinstance(sub, ast.Attribute) and sub.attr == "macs" for sub in ast.walk(node))


def test_no_other_module_sums_macs() -> None:
    registry = ROOT / "src" / "edgecraft" / "ops" / "registry.py"
    found = []
    for folder in ("src", "benchmarks", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == registry:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if _sums_macs(node):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, "MACs summed outside ops.registry.graph_macs: " + ", ".join(found)
    assert any(_sums_macs(n) for n in ast.walk(ast.parse(registry.read_text())))
