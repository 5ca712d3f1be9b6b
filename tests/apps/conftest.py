"""Trained application templates shared by the tests of this folder (and every xdist worker of
the session): the first test that needs one trains it at --quick size, the others reuse it."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def _edgecraft(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgecraft", *args], capture_output=True, text=True, timeout=600
    )


def _trained(factory: pytest.TempPathFactory, kind: str) -> tuple[Path, dict[str, Any]]:
    """The template trained once per test session: xdist workers share the session's temporary
    folder, and a lock file lets the first one train while the others wait and reuse it."""
    pytest.importorskip("torch")
    pytest.importorskip("litert_torch")
    base = factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "trained-apps"
    root.mkdir(exist_ok=True)
    d, done = root / kind, root / f"{kind}.json"
    with open(root / f"{kind}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            shutil.rmtree(d, ignore_errors=True)  # a worker that failed before left it half made
            assert _edgecraft("app", "new", kind, str(d)).returncode == 0
            proc = _edgecraft("train", str(d), "--quick", "--format", "json")
            assert proc.returncode == 0, proc.stderr[-2000:]
            done.write_text(proc.stdout)
        return d, json.loads(done.read_text())


@pytest.fixture(scope="module")
def sine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return _trained(tmp_path_factory, "sine")


@pytest.fixture(scope="module")
def gesture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return _trained(tmp_path_factory, "gesture")


@pytest.fixture(scope="module")
def kws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (the kws generator speaks with it)")
    return _trained(tmp_path_factory, "kws")


@pytest.fixture(scope="module")
def anomaly(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return _trained(tmp_path_factory, "anomaly")


@pytest.fixture(scope="module")
def person(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return _trained(tmp_path_factory, "person")


@pytest.fixture(scope="module")
def wakeword(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (the wakeword generator speaks with it)")
    return _trained(tmp_path_factory, "wakeword")


