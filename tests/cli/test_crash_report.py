"""A command that crashes in native code is not silent: while the CLI holds file descriptor 2
back (so its error line comes first), Python's fault handler writes to the real stderr. The
program (console script, ``python -m edgecraft``) leaves by ``os._exit`` after a Ray driver,
its output flushed first; ``main()`` in a process that goes on never does."""

from __future__ import annotations

import faulthandler
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer

import edgecraft
from edgecraft.cli.app import main
from edgecraft.cli.common import run_cli

CRASHING_CLI = textwrap.dedent(
    """
    import ctypes, os, typer
    from edgecraft.cli.common import run_cli

    app = typer.Typer()

    @app.command()
    def crash() -> None:
        os.write(2, b"native output held back\\n")
        ctypes.string_at(0)  # reads address 0: SIGSEGV

    @app.command()
    def fine() -> None:
        pass

    raise SystemExit(run_cli(app, None, ()))
    """
)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    src = str(Path(edgecraft.__file__).parents[1])
    return subprocess.run(
        [sys.executable, "-c", CRASHING_CLI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"},
    )


def test_a_segfault_while_stderr_is_held_prints_a_traceback() -> None:
    proc = _run("crash")
    assert proc.returncode == -signal.SIGSEGV, proc.stderr
    assert "Fatal Python error: Segmentation fault" in proc.stderr, proc.stderr
    assert re.search(r'File "<string>", line \d+ in crash', proc.stderr), proc.stderr  # its own frame


def test_the_fault_handler_is_left_as_it_was() -> None:
    app = typer.Typer()
    app.command()(lambda: None)
    was = faulthandler.is_enabled()
    try:
        for state in (False, True):
            (faulthandler.enable if state else faulthandler.disable)()
            assert run_cli(app, [], ()) == 0
            assert faulthandler.is_enabled() is state
    finally:
        (faulthandler.enable if was else faulthandler.disable)()


def test_a_fine_command_still_exits_zero_with_nothing_on_stderr() -> None:
    proc = _run("fine")
    assert (proc.returncode, proc.stderr) == (0, "")


def test_the_program_flushes_its_output_before_leaving_after_ray() -> None:
    src = str(Path(edgecraft.__file__).parents[1])
    script = "import ray, sys; sys.argv = ['edgecraft', 'boards', '--format', 'json']; " \
             "from edgecraft.cli.app import program; program()"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("{") and proc.stdout.rstrip().endswith("}")  # all of it, flushed


def test_main_returns_to_a_process_that_goes_on_with_ray_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    import ray  # noqa: F401  (in sys.modules, as after a search test in this worker)

    monkeypatch.setattr(sys, "argv", ["edgecraft", "--help"])  # main() on the command line
    with pytest.raises(SystemExit) as e:
        main()
    assert e.value.code == 0  # raised here, not os._exit: this test process is still running
