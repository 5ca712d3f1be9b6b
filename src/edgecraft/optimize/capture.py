"""Keep third-party output off the terminal: what torch, torchao and litert-torch print.

litert-torch's annotators ``print`` to stdout ("Relu partition has more than one output node")
and the converter's C++ writes to file descriptors 1 and 2 directly; either would break
``--format json`` (one JSON object on stdout) and the one-line error contract on stderr.
:func:`captured` redirects both file descriptors and Python's ``sys.stdout``/``sys.stderr`` into
a temporary file for the duration of the block and records warnings instead of showing them;
the text is kept on the returned object and logged at debug level on ``edgecraft.optimize``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

log = logging.getLogger("edgecraft.optimize")


@dataclass
class Captured:
    """What was printed inside a :func:`captured` block (after it ends)."""

    text: str = ""


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()


@contextlib.contextmanager
def captured() -> Iterator[Captured]:
    """Redirect fd 1 and 2 (C/C++ output) and Python's stdout/stderr into one buffer."""
    result = Captured()
    _flush()
    saved = [os.dup(1), os.dup(2)]
    python = io.StringIO()
    with tempfile.TemporaryFile(mode="w+b") as sink:
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            with contextlib.redirect_stdout(python), contextlib.redirect_stderr(python), \
                    warnings.catch_warnings(record=True) as caught:
                # recorded, not shown: a library may route warnings to a logging handler that
                # holds its own stream (absl's does), which no redirection reaches
                warnings.simplefilter("always")
                yield result
        finally:
            _flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            result.text = python.getvalue() + sink.read().decode(errors="replace") \
                + "".join(f"{w.category.__name__}: {w.message}\n" for w in caught)
            if result.text.strip():
                log.debug("third-party output:\n%s", result.text)
