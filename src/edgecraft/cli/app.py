"""The ``edgecraft`` command: every command group is wired here, in one place."""

from __future__ import annotations

import contextlib
import faulthandler
import os
import sys

import typer

from edgecraft.cli import (
    app_cmd,
    boards_cmd,
    build_cmd,
    cascade_cmd,
    check_cmd,
    emulate_cmd,
    export_cmd,
    fl_cmd,
    fleet_cmd,
    inspect_cmd,
    ops_cmd,
    plan_cmd,
    profile_cmd,
    quantize_cmd,
    run_cmd,
    search_cmd,
    stream_cmd,
    train_cmd,
)
from edgecraft.cli.common import UserError, run_cli

app = typer.Typer(
    name="edgecraft",
    help="Machine learning on microcontrollers: inspect, run, plan, profile, build, emulate, "
    "quantize, stream and operate fleets. Offline, bit-exact with TensorFlow Lite Micro.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command("inspect")(inspect_cmd.inspect)
app.command("run")(run_cmd.run)
app.command("stream")(stream_cmd.stream)
app.add_typer(fleet_cmd.app, name="fleet")
app.add_typer(fl_cmd.app, name="fl")
app.command("plan")(plan_cmd.plan)
app.command("profile")(profile_cmd.profile)
app.command("boards")(boards_cmd.boards)
app.command("ops")(ops_cmd.ops)
app.command("quantize")(quantize_cmd.quantize)
app.command("check")(check_cmd.check)
app.command("build")(build_cmd.build)
app.command("emulate")(emulate_cmd.emulate_cmd)
app.command("export")(export_cmd.export)
app.add_typer(app_cmd.app, name="app")
app.command("train")(train_cmd.train)
app.command("evaluate")(train_cmd.evaluate)
app.add_typer(cascade_cmd.app, name="cascade")
app.command("search")(search_cmd.search)


def _user_errors() -> tuple[type[BaseException], ...]:
    from edgecraft.files import OutputError
    from edgecraft.fleet.client import FleetError
    from edgecraft.fleet.records import BadRequest
    from edgecraft.formats import ModelFormatError
    from edgecraft.ir.validate import GraphError
    from edgecraft.ops.base import OpError
    from edgecraft.runtime import InputError

    return (
        UserError,
        OutputError,
        ModelFormatError,
        GraphError,
        OpError,
        InputError,
        FileNotFoundError,
        FleetError,
        BadRequest,
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the app on ``argv`` (default: the command line) and exits with its
    code; every error is one ``error:`` line on stderr (see :func:`edgecraft.cli.common.run_cli`)."""
    raise SystemExit(run_cli(app, argv, _user_errors()))


def program() -> None:
    """The ``edgecraft`` program (the console script, ``python -m edgecraft``): :func:`main` on
    the command line, in a process of its own. A fatal signal prints Python's traceback on
    stderr; a process that ran a Ray driver (``search``) leaves without interpreter teardown
    once its output is flushed: Ray's gRPC and GCS client threads outlive ``ray.shutdown()``
    and would run on while the interpreter is torn down, which Ray's own workers avoid by the
    same exit. (Never in a process that goes on, such as a test calling :func:`main`.)"""
    if not faulthandler.is_enabled():
        faulthandler.enable(all_threads=True)
    code = run_cli(app, None, _user_errors())
    if "ray" in sys.modules:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    raise SystemExit(code)


if __name__ == "__main__":
    program()
