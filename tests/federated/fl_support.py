"""Shared helpers for the federated tests: a gesture application and the Flower venv check."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


def gesture_app(root: Path) -> Path:
    """A fresh gesture application directory."""
    from edgecraft.apps.templates import new_app

    return new_app("gesture", root / "gesture").parent


def need_flower() -> None:
    """Skip (with the reason) when Flower's environment is absent; scripts/setup.sh makes it."""
    from edgecraft.federated.runner import FlowerMissing, flower_venv

    try:
        flower_venv()
    except FlowerMissing as e:
        pytest.skip(str(e))


@contextlib.contextmanager
def fleet_server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A real ``edgecraft fleet serve`` (SQLite, its own mosquitto) in ``tmp_path/state``;
    yields the state directory and the server's URL."""
    from edgecraft.fleet.mqtt import find_mosquitto

    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    state = tmp_path / "state"
    state.mkdir()
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen([sys.executable, "-m", "edgecraft", "fleet", "serve", "--state-dir", str(state),
                             "--port", "0", "--format", "json"], stdout=subprocess.PIPE, stderr=log,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, (tmp_path / "server.log").read_text()[-2000:]
        yield state, json.loads(line)["url"]
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def wait_for(pred: Callable[[], Any], timeout: float, what: str, step: float = 0.3) -> Any:
    """Poll ``pred`` until it returns something true; fail saying ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)
