"""Suite-wide hooks: scheduling for two xdist workers (``scripts/test.sh``: ``-n 2 --dist loadgroup``)
and the ``toolchain`` marker.

- Tests marked ``slow`` run first: a long test handed out near the end is a tail the other
  worker cannot share; started first, the short tests fill in around it. Mark a whole module
  (``pytestmark``) so its module-scoped fixtures are still set up once per worker; within each
  part the order of collection is kept.
- Tests marked ``toolchain`` are skipped, with the reason, where arm-none-eabi-gcc or
  qemu-system-arm is missing: the marker is the whole check (``scripts/setup.sh`` installs both).
- ``xdist_group`` works again: pytest-xdist 3.8 tags a grouped test by assigning
  ``item._nodeid``, which pytest 9.2 no longer reads (the id lives in ``item._id``), so every
  group was silently split over both workers and each trained its module fixture.
"""

from __future__ import annotations

import shutil

import pytest

TOOLCHAIN = ("arm-none-eabi-gcc", "qemu-system-arm")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        rest = [item for item in items if item.get_closest_marker("slow") is None]
        items[:] = slow + rest
    _skip_without_toolchain(items)
    _tag_groups(config, items)


def _skip_without_toolchain(items: list[pytest.Item]) -> None:
    missing = [tool for tool in TOOLCHAIN if shutil.which(tool) is None]
    if not missing:
        return
    skip = pytest.mark.skip(reason=f"needs {' and '.join(missing)} (scripts/setup.sh installs the toolchain)")
    for item in items:
        if item.get_closest_marker("toolchain") is not None:
            item.add_marker(skip)


def _tag_groups(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker under ``--dist loadgroup``: suffix each grouped test's id with
    ``@group`` (what xdist's scheduler groups by), where xdist's own tag did not take."""
    if not getattr(config.option, "loadgroup", False):
        return
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # an older pytest reads xdist's tag itself
        return
    for item in items:
        names = {str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                 for m in item.iter_markers("xdist_group")}
        if names and "@" not in item.nodeid.rsplit("]", 1)[-1] and hasattr(item, "_id"):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(sorted(names))}")
