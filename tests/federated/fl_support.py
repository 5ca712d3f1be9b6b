"""Shared helpers for the federated tests: a gesture application and the Flower venv check."""

from __future__ import annotations

from pathlib import Path

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
