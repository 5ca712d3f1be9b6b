"""Third-party output (Python prints, C writes to file descriptors 1 and 2) is kept off the
terminal by ``captured`` and handed back as text."""

from __future__ import annotations

import ctypes
import os
import sys
import warnings

import pytest

from edgecraft.optimize.capture import captured


def test_fd_and_python_output_are_captured(capfd: pytest.CaptureFixture[str]) -> None:
    libc = ctypes.CDLL(None)
    with captured() as got:
        print("python print")
        sys.stderr.write("python stderr\n")
        os.write(1, b"fd 1 write\n")
        os.write(2, b"fd 2 write\n")
        libc.puts(b"libc puts")  # buffered inside the C library: flushed before restoring
        libc.fflush(None)
        warnings.warn("a library's warning", UserWarning, stacklevel=1)
    print("after")
    out, err = capfd.readouterr()
    assert out == "after\n" and err == ""
    for text in ("python print", "python stderr", "fd 1 write", "fd 2 write", "libc puts",
                 "UserWarning: a library's warning"):
        assert text in got.text


def test_restored_after_an_exception(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError, match="boom"), captured():
        os.write(1, b"hidden\n")
        raise RuntimeError("boom")
    os.write(1, b"shown\n")
    assert capfd.readouterr().out == "shown\n"
