"""``edgecraft fleet ...`` against a real server: JSON output, tables, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgecraft.cli.app import app
from edgecraft.fleet.sim import classifier_model, task_weights

pytestmark = pytest.mark.broker


def _edgecraft(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgecraft.cli.app", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_fleet_commands(tmp_path: Path, server_factory) -> None:  # type: ignore[no-untyped-def]
    server = server_factory(tmp_path / "edgecraft-fleet", "--port", "0")  # the default state directory
    model = tmp_path / "m.tflite"
    model.write_bytes(classifier_model(task_weights()))
    run = CliRunner()
    opts = ["--state-dir", str(tmp_path / "edgecraft-fleet"), "--format", "json"]

    res = run.invoke(
        app,
        [
            "fleet",
            "publish",
            str(model),
            "--version",
            "1.0.0",
            "--board",
            "sim",
            "--metrics",
            '{"accuracy": 0.97}',
            *opts,
        ],
    )
    assert res.exit_code == 0, res.output
    pub = json.loads(res.stdout)
    assert pub["version"] == "1.0.0" and pub["boards"] == ["sim"] and pub["files"] == ["model.tflite"]
    res = run.invoke(app, ["fleet", "publish", str(model), "--version", "1.0.0-fw", "--c-library", *opts])
    assert res.exit_code == 0, res.output
    assert {"firmware/model.c", "firmware/model.h", "model.tflite"} <= set(json.loads(res.stdout)["files"])

    creds = tmp_path / "devices.json"
    res = run.invoke(
        app, ["fleet", "provision", "--count", "3", "--board", "sim", "--out", str(creds), *opts]
    )
    out = json.loads(res.stdout)
    assert out["devices"] == ["dev-00000", "dev-00001", "dev-00002"]
    assert creds.stat().st_mode & 0o777 == 0o600
    tokens = [d["token"] for d in json.loads(creds.read_text())["devices"]]
    assert not [t for t in tokens if t in res.stdout]  # tokens go to the file only

    res = run.invoke(app, ["fleet", "devices", *opts])
    assert [d["id"] for d in json.loads(res.stdout)["devices"]] == out["devices"]
    res = run.invoke(
        app,
        [
            "fleet",
            "deploy",
            "1.0.0",
            "--to",
            "all",
            "--canary",
            "34%",
            "--stages",
            "100",
            "--gate",
            "error_rate<0.02",
            *opts,
        ],
    )
    assert res.exit_code == 0, res.output
    r = json.loads(res.stdout)
    assert [s["devices"] for s in r["stages"]] == [2, 1] and r["state"] == "running"
    res = run.invoke(app, ["fleet", "status", *opts])
    assert json.loads(res.stdout)["id"] == r["id"]
    res = run.invoke(app, ["fleet", "rollback", *opts])
    assert json.loads(res.stdout)["rollback_started"] is True
    table = run.invoke(app, ["fleet", "status", "--state-dir", str(tmp_path / "edgecraft-fleet")])
    assert "rollout 1: 1.0.0 to all" in table.stdout and "rolled back by operator" in table.stdout

    # Mistakes: one line on stderr starting with "error:", exit code 2, no traceback.
    bad = _edgecraft("fleet", "deploy", "9.9.9", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "publish it first" in bad.stderr
    assert bad.stderr.count("\n") == 1
    bad = _edgecraft("fleet", "publish", "m.tflite", "--version", "1.0.0", cwd=tmp_path)
    assert bad.returncode == 2 and "exists already" in bad.stderr
    bad = _edgecraft("fleet", "deploy", "1.0.0", "--gate", "errors<1", cwd=tmp_path)
    assert bad.returncode == 2 and "bad gate term" in bad.stderr
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    bad = _edgecraft("fleet", "status", cwd=empty)
    assert bad.returncode == 2 and "edgecraft fleet serve" in bad.stderr
    assert server.proc.poll() is None


def test_serve_says_how_to_install_mosquitto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("edgecraft.fleet.mqtt.find_mosquitto", lambda: None)  # as on a machine without it
    res = CliRunner().invoke(app, ["fleet", "serve", "--state-dir", str(tmp_path / "s")])
    assert res.exit_code != 0 and "sudo apt-get install mosquitto" in str(res.exception)


@pytest.mark.parametrize(
    "args",
    [
        ["publish", "m.tflite", "--version", "../../x"],
        ["publish", "m.tflite", "--version", "a/b"],
        ["deploy", "x?y=1"],
        ["deploy", "1.0.0", "--to", "a/b"],
        ["provision", "--prefix", "edgecraft-server"],
        ["provision", "--prefix", "d" * 10_000],
        ["provision", "--group", "all"],
    ],
)
def test_bad_names_are_user_errors(args: list[str], tmp_path: Path) -> None:
    """Checked before anything is sent (no server runs here): the CLI's user error, not a crash."""
    from edgecraft.fleet.records import BadRequest

    res = CliRunner().invoke(app, ["fleet", *args, "--state-dir", str(tmp_path)])
    assert isinstance(res.exception, BadRequest) and "\n" not in str(res.exception), res.output


def test_a_bad_name_is_one_error_line(tmp_path: Path) -> None:
    bad = _edgecraft("fleet", "publish", "m.tflite", "--version", "../../x", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith("error: bad version '../../x'")
    assert bad.stderr.count("\n") == 1 and bad.stdout == ""
