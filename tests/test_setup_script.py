"""``scripts/setup.sh`` on a disk without room for the virtual environments: it stops before pip
with one line that says how much room there is, how much it needs and what to do, instead of
pip's "No space left on device" halfway through an install (the failure a clone on a full disk
met)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 64 MB tmpfs, where this process may mount one (root on Linux), else the test skips."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_setup_refuses_a_disk_without_room_in_one_line(small_disk: Path) -> None:
    project = small_disk / "clone"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup.sh", project / "scripts")
    for name in ("pyproject.toml", "constraints.txt", "constraints-flower.txt"):
        shutil.copy(ROOT / name, project)
    proc = subprocess.run(["bash", "scripts/setup.sh"], cwd=project, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("setup: error:")]
    assert len(errors) == 1, proc.stderr
    assert "MB free on the disk holding" in errors[0] and "free some space" in errors[0]
    assert "No space left" not in proc.stdout + proc.stderr
    assert not (project / ".venv" / ".edgecraft-installed").exists()
