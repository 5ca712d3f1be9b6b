"""What every command shares: the output format switch, strict JSON, number checks on options,
safe loading of user arrays, output paths, and the one-line error exit.

Commands fetch data into a plain dict first, then either print it as exactly one JSON object
(``--format json``) or render it for people with rich. Errors are one line on stderr starting
``error:``; exit code 2 for bad input (usage mistakes included), 1 for an internal failure.
Python warnings and log records raised while a command runs are held back and printed after
that line (or after the output), so the error is always the first thing on stderr.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import logging
import math
import os
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from edgecraft.files import OutputError, check_output_file, prepare_output_dir
from edgecraft.ir.validate import memory_limit

# Piped output (logs, CI, `| less`) has no terminal width; rich would wrap tables at 80
# columns, so it gets a wide fixed width unless COLUMNS says otherwise.
_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160
console = Console(width=_WIDTH)
err_console = Console(stderr=True)


class Format(StrEnum):
    table = "table"
    json = "json"


FORMAT_OPTION = typer.Option(Format.table, "--format", "-f", help="Output format: table or json.")


class UserError(Exception):
    """A mistake in what the user asked for; printed as one line, exit code 2."""


# --- JSON -------------------------------------------------------------------------------------

def _default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple | set):
        return list(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def _strict(o: Any) -> Any:
    """``o`` with every non-finite float as None: JSON has no NaN or Infinity."""
    if isinstance(o, float | np.floating):
        return float(o) if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: _strict(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_strict(v) for v in o]
    if isinstance(o, np.ndarray) and o.dtype.kind == "f":
        return [_strict(v) for v in o.tolist()]
    return o


def dumps_json(data: Any) -> str:
    """``data`` as strict JSON (RFC 8259: a NaN or infinity becomes null)."""
    return json.dumps(_strict(data), default=_default, allow_nan=False)


def print_json(data: dict[str, Any]) -> None:
    """Print ``data`` as one strict JSON object on stdout."""
    sys.stdout.write(dumps_json(data) + "\n")


# --- option checks (typer callbacks) ----------------------------------------------------------

def _check(test: Callable[[float], bool], what: str) -> Callable[[Any], Any]:
    def callback(value: Any) -> Any:
        if value is not None and not ((isinstance(value, int) or math.isfinite(value)) and test(value)):
            raise typer.BadParameter(f"must be {what}, got {value}")
        return value
    return callback


#: Typer ``callback=`` values that refuse NaN, infinities and out-of-range numbers.
finite = _check(lambda v: True, "a finite number")
positive = _check(lambda v: v > 0, "a finite number > 0")
non_negative = _check(lambda v: v >= 0, "a finite number >= 0")
probability = _check(lambda v: 0 <= v <= 1, "a number from 0 to 1")
at_least_one = _check(lambda v: v >= 1, "a whole number >= 1")
port_number = _check(lambda v: 0 <= v <= 65535, "a port number from 0 to 65535")


def non_empty(value: str | None) -> str | None:
    """A callback refusing an empty or blank string (an option given as ``--x ""``)."""
    if value is not None and not value.strip():
        raise typer.BadParameter("must not be empty")
    return value


# --- paths and arrays -------------------------------------------------------------------------

def output_file(path: Path | None, what: str = "output") -> Path | None:
    """Check, before the work starts, that ``path`` can become a file (see
    :func:`edgecraft.files.check_output_file`)."""
    if path is None:
        return None
    try:
        return check_output_file(path, what)
    except OutputError as e:
        raise UserError(str(e)) from None


def output_dir(path: Path, what: str = "output folder") -> Path:
    """Create ``path`` as a folder, or refuse it in one line."""
    try:
        return prepare_output_dir(path, what)
    except OutputError as e:
        raise UserError(str(e)) from None


def _npy_header(f: IO[bytes], name: str, size: int) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """Shape and dtype from an .npy header, checked against the ``size`` bytes it lives in
    before anything is allocated."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        reader = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, dtype = reader(f, max_header_size=10_000)
    except (ValueError, OSError, SyntaxError, EOFError) as e:
        raise UserError(f"{name}: not a .npy array ({' '.join(str(e).split())})") from None
    if dtype.hasobject:
        raise UserError(f"{name} holds Python objects (pickled data), which edgecraft does not load; "
                        "save a plain numeric array")
    need = math.prod(shape) * dtype.itemsize
    if need > memory_limit():
        raise UserError(f"{name} declares shape {list(shape)} ({need:,} bytes), over the "
                        f"{memory_limit():,}-byte limit (EDGECRAFT_MAX_MEMORY_BYTES raises it)")
    have = size - f.tell()
    if need != have:
        raise UserError(f"{name} declares shape {list(shape)} {dtype} ({need:,} bytes) but holds "
                        f"{have:,} bytes: truncated or corrupt")
    return tuple(shape), dtype


def load_arrays(path: Path, what: str = "input") -> list[tuple[str, np.ndarray]]:
    """The arrays in an .npy (one, named "") or .npz (each by name) file, refusing pickled
    objects, headers that disagree with the file, and sizes over the memory limit."""
    if not path.is_file():
        raise UserError(f"{what} file {path} does not exist" if not path.exists() else
                        f"{what} {path} is not a file")
    try:
        if zipfile.is_zipfile(path):
            return _load_npz(path)
        with open(path, "rb") as f:
            _npy_header(f, str(path), path.stat().st_size)
        return [("", np.load(path, allow_pickle=False))]
    except OSError as e:
        raise UserError(f"cannot read {path}: {e.strerror or e}") from None


def _load_npz(path: Path) -> list[tuple[str, np.ndarray]]:
    try:
        with zipfile.ZipFile(path) as z:
            infos = [i for i in z.infolist() if not i.is_dir()]
            if sum(i.file_size for i in infos) > memory_limit():
                raise UserError(f"{path} unpacks to more than {memory_limit():,} bytes "
                                "(EDGECRAFT_MAX_MEMORY_BYTES raises the limit)")
            for info in infos:
                with z.open(info) as f:
                    _npy_header(f, f"{path}:{info.filename}", info.file_size)
        with np.load(path, allow_pickle=False) as npz:
            return [(k, npz[k]) for k in npz.files]
    except (zipfile.BadZipFile, ValueError, EOFError) as e:
        raise UserError(f"cannot read {path} as .npz: {' '.join(str(e).split())}") from None


def finite_float_array(data: np.ndarray, name: str) -> np.ndarray:
    """``data`` as float32, refusing text, booleans-as-strings and NaN or infinite values."""
    if data.dtype.kind not in "biuf":
        raise UserError(f"{name} holds {data.dtype} values; give numbers (a float array)")
    out = np.asarray(data, np.float32)
    bad = int(np.count_nonzero(~np.isfinite(out)))
    if bad:
        raise UserError(f"{name} holds {bad} NaN or infinite value(s) (or values beyond float32)")
    return out


# --- the error line ---------------------------------------------------------------------------

class _Held(logging.Handler):
    """Keeps log records (from the root logger's last-resort path) for printing later."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def held_diagnostics() -> Iterator[list[str]]:
    """Collect Python warnings and unhandled log records instead of printing them; the
    caller prints them after its own output (see :func:`run_cli`)."""
    lines: list[str] = []
    old_show, old_last = warnings.showwarning, logging.lastResort

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
             line: str | None = None) -> None:
        lines.append(warnings.formatwarning(message, category, filename, lineno, line).rstrip())

    warnings.showwarning = show
    logging.lastResort = _Held(lines)
    try:
        yield lines
    finally:
        warnings.showwarning, logging.lastResort = old_show, old_last


@contextmanager
def _held_stderr_fd() -> Iterator[list[bytes]]:
    """Point file descriptor 2 at a temporary file for the block (native libraries and child
    processes write there, not through ``sys.stderr``); what they wrote is returned after.

    A fatal signal (SIGSEGV, SIGABRT, ...) in the block would take the temporary file with it,
    so Python's fault handler writes its traceback to the real stderr meanwhile: a crash in a
    native library (Ray's, PyTorch's) is never silent. It is left as it was found after."""
    got: list[bytes] = []
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # stderr closed (2>&-): nothing to hold
        yield got
        return
    was = faulthandler.is_enabled()
    with tempfile.TemporaryFile() as tmp:
        faulthandler.enable(file=saved, all_threads=True)
        os.dup2(tmp.fileno(), 2)
        try:
            yield got
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            if was:
                faulthandler.enable(file=2, all_threads=True)
            else:
                faulthandler.disable()
            os.close(saved)
            tmp.seek(0)
            got.append(tmp.read())


#: Command groups whose stderr is a live log (servers, simulators): not held back.
LIVE_STDERR = ("fleet",)


def run_cli(command: Callable[..., Any], argv: list[str] | None,
            user_errors: tuple[type[BaseException], ...]) -> int:
    """Run the click/typer ``command`` on ``argv`` and return the exit code: usage errors and
    ``user_errors`` become one ``error:`` line and 2, anything else one line and 1.

    The error line comes first on stderr: Python warnings, log records and whatever native
    libraries or child processes write to file descriptor 2 while the command runs are held
    and printed after it (or after the output), except for :data:`LIVE_STDERR` groups."""
    args = sys.argv[1:] if argv is None else list(argv)
    if sys.stderr is None:  # started with stderr closed (2>&-)
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115  (lives as long as the process)
    held: list[str] = []
    held_fd: list[bytes] = []
    with contextlib.ExitStack() as stack:
        if not (args and args[0] in LIVE_STDERR):
            held = stack.enter_context(held_diagnostics())
            held_fd = stack.enter_context(_held_stderr_fd())
        code, message = _invoke(command, args, user_errors)
    if message is not None:
        sys.stderr.write(message)
    if held:
        sys.stderr.write("\n".join(held) + "\n")
    sys.stderr.flush()
    if held_fd and held_fd[0]:
        os.write(2, held_fd[0])
    return code


def _invoke(command: Callable[..., Any], args: list[str],
            user_errors: tuple[type[BaseException], ...]) -> tuple[int, str | None]:
    """The exit code and what to print on stderr (None: nothing)."""
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
    from typer.exceptions import Abort

    try:
        rv = command(args=args, prog_name="edgecraft", standalone_mode=False)
        return (rv if isinstance(rv, int) else 0), None
    except SystemExit as e:
        return (e.code if isinstance(e.code, int) else (0 if e.code is None else 1)), None
    except NoArgsIsHelpError as e:  # a bare `edgecraft`: the help, as a usage error
        return 2, (e.ctx.get_help() if e.ctx is not None else e.format_message()) + "\n"
    except ClickException as e:
        return _error(e.format_message(), 2 if isinstance(e, UsageError) else 1)
    except (Abort, KeyboardInterrupt):
        return _error("interrupted", 130)
    except user_errors as e:
        return _error(str(e) or type(e).__name__, 2)
    except MemoryError:
        return _error("out of memory; the input is too large for this machine", 2)
    except Exception as e:
        return _error(f"internal error: {type(e).__name__}: {e} (please report this)", 1)


def _error(message: str, code: int) -> tuple[int, str]:
    return code, f"error: {' '.join(str(message).split(chr(10))[0].split())}\n"


_RAM_LABELS = {"arena": "RAM arena (activations, I/O tensors, kernel scratch)",
               "scratch": "RAM kernel scratch outside the arena", "persistent": "RAM persistent state",
               "stack": "RAM peak stack", "io_buffers": "RAM input/output buffers"}


def add_ram_rows(table: Table, ram: dict[str, Any]) -> None:
    """One (what, bytes) row per part of an itemized ``ram`` object, then the total."""
    for key, label in _RAM_LABELS.items():
        basis = str(ram.get("basis", {}).get(key, ""))
        value = "not measured" if basis.startswith("not measured") else f"{ram[key]:,}"
        table.add_row(label, value)
    table.add_row("RAM total", f"{ram['total']:,}")
