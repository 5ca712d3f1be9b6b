"""``edgecraft ops``: every TFLM builtin, per type, with runtime and C support derived from the
op records and the emitter table; README's op table is that output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from edgecraft.cli.app import app
from edgecraft.codegen.ops_c import EMITTERS
from edgecraft.codegen.ops_c_float import FLOAT_EMITTERS
from edgecraft.codegen.ops_c_int import INT_EMITTERS
from edgecraft.codegen.support import markdown_table
from edgecraft.ops.registry import OP_MODULES, get_op
from edgecraft.ops.tflm_builtins import TFLM_BUILTINS, TFLM_SIGNAL_OPS, TFLM_UNUSABLE

ROOT = Path(__file__).resolve().parents[2]


def ops_json() -> list[dict]:
    r = CliRunner().invoke(app, ["ops", "--format", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)["ops"]


def test_every_tflm_builtin_with_its_types_and_derived_support() -> None:
    rows = ops_json()
    assert [r["name"] for r in rows] == sorted(TFLM_BUILTINS) + sorted(TFLM_SIGNAL_OPS)
    assert [r["name"] for r in rows if r["signal"]] == sorted(TFLM_SIGNAL_OPS)
    known = {**TFLM_BUILTINS, **TFLM_SIGNAL_OPS}
    assert len(rows) >= 90  # TFLM's resolver registers about a hundred builtins
    for row in rows:
        assert tuple(row["types"]) == known[row["name"]]
        runtime = set(get_op(row["name"]).kernels) if row["name"] in OP_MODULES else set()
        for dtype, s in row["types"].items():
            if dtype not in ("any", "resource") and (row["name"], dtype) not in TFLM_UNUSABLE:
                assert s["runtime"] == (dtype in runtime), (row["name"], dtype)
            assert not s["c"] or s["runtime"], (row["name"], dtype)
            tables = {*EMITTERS, *FLOAT_EMITTERS, *INT_EMITTERS}
            assert not s["c"] or row["name"] in tables, (row["name"], dtype)
    by_name = {r["name"]: r["types"] for r in rows}
    assert by_name["ADD"]["int8"] == {"runtime": True, "c": True}
    assert by_name["ADD"]["float32"] == {"runtime": True, "c": True}  # the float32 emitter table
    assert by_name["ADD"]["int32"] == {"runtime": True, "c": True}  # the integer emitter table
    assert by_name["DEQUANTIZE"]["uint8"] == {"runtime": True, "c": False}  # no uint8 emitter
    assert by_name["RESHAPE"]["bool"] == {"runtime": True, "c": True}  # a copy: any dtype
    assert by_name["SVDF"]["int8"] == {"runtime": True, "c": True}
    # listed by TFLM's sources, not run by TFLM: shown as such, with the reason
    assert by_name["SVDF"]["int16"] == {"runtime": False, "c": False, "tflm": False,
                                        "why": TFLM_UNUSABLE["SVDF", "int16"]}
    assert by_name["GREATER"]["int16"]["tflm"] is False
    assert [(n, d) for n, t in by_name.items() for d, s in t.items() if s.get("tflm") is False] == sorted(
        TFLM_UNUSABLE)
    assert by_name["SignalFilterBank"]["uint32"] == {"runtime": True, "c": True}
    assert by_name["SignalRfft"]["float32"] == {"runtime": True, "c": True}


def test_every_edgecraft_op_and_emitter_is_a_tflm_builtin() -> None:
    assert set(OP_MODULES) <= set(TFLM_BUILTINS) | set(TFLM_SIGNAL_OPS)
    assert set(EMITTERS) | set(FLOAT_EMITTERS) | set(INT_EMITTERS) <= set(OP_MODULES)


def test_readme_table_is_the_commands_output() -> None:
    text = (ROOT / "README.md").read_text()
    begin = text.index("<!-- ops-table:")
    table = text[text.index("\n", begin) + 1:text.index("<!-- /ops-table -->")]
    assert table == markdown_table(ops_json()), "README's op table is stale: run scripts/ops_table.py"


def test_script_check_mode_agrees() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "ops_table.py"), "--check"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_text_table_lists_every_builtin() -> None:
    r = CliRunner().invoke(app, ["ops"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    for name in ("ABS", "UNIDIRECTIONAL_SEQUENCE_LSTM", "ZEROS_LIKE"):
        assert name in r.stdout
