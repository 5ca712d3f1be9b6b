"""Helpers the fleet tests import by name (conftest.py holds only fixtures: several test
folders have a conftest, so ``from conftest import`` would be ambiguous)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


#: CI runs the suite on two loaded cores: every wait may take this many times its nominal timeout
#: (a passing test never waits longer than it must; only a failing one waits the whole time).
SLACK = 3.0


def wait_for(pred: Callable[[], Any], timeout: float, what: str, step: float = 0.2) -> Any:
    """Poll ``pred`` until it returns something true; fail the test after ``SLACK * timeout`` s."""
    timeout *= SLACK
    deadline = time.time() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.time() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)
