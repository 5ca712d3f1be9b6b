"""Writing output files so that a failure never leaves a truncated one behind.

Every file edgecraft writes for a user (models, projects, arrays, plots, JSON) goes through
:func:`atomic_path`: the content is written to a temporary file in the destination's folder
and renamed over the destination only once it is complete and flushed. A full disk, a file
size limit or a crash mid-write leaves the old file (or none), never half a new one. Failures
are raised as :class:`OutputError` with the path and the reason in one line.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: Read once, at import: os.umask can only be read by setting it.
_UMASK = _read_umask()


class OutputError(OSError):
    """An output file or folder cannot be written; the message names it and says why."""


def _reason(e: OSError) -> str:
    return e.strerror or type(e).__name__


def check_output_file(path: str | Path, what: str = "output") -> Path:
    """Refuse, before any work is done, a destination that cannot become a file: an existing
    folder, or a parent that is missing or is not a folder."""
    p = Path(path)
    if p.is_dir():
        raise OutputError(f"{what} {p} is a folder; give a file name")
    parent = p.parent
    if not parent.exists():
        raise OutputError(f"{what} {p}: folder {parent} does not exist")
    if not parent.is_dir():
        raise OutputError(f"{what} {p}: {parent} is not a folder")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{what} {p}: folder {parent} is not writable")
    return p


def prepare_output_dir(path: str | Path, what: str = "output folder") -> Path:
    """Create the folder ``path`` (and its parents) or refuse it in one line: an existing file,
    a parent that is a file, or a place that cannot be written."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputError(f"{what} {p} is a file, not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create {what} {p}: {_reason(e)}") from None
    if not os.access(p, os.W_OK):
        raise OutputError(f"{what} {p} is not writable")
    return p


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same folder, same suffix); when the block ends
    without an error it is flushed to disk and renamed to ``path``, else it is removed."""
    dest = Path(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=f".tmp{dest.suffix}", dir=dest.parent)
    except OSError as e:
        raise OutputError(f"cannot write {dest}: {_reason(e)}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, dest)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OutputError):
            raise
        raise OutputError(f"cannot write {dest}: {_reason(e)}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))


def save_figure(fig: Any, path: str | Path, **kwargs: Any) -> None:
    """``fig.savefig`` to ``path`` atomically (the format follows ``path``'s suffix)."""
    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        fig.savefig(f, format=fmt, **kwargs)
