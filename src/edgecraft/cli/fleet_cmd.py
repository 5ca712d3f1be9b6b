"""``edgecraft fleet ...``: run the fleet server and operate it (publish, deploy, status, rollback).

Every command but ``serve`` talks to a running server through its JSON API; by default the one
whose state directory (``./edgecraft-fleet``) holds ``server.json`` and ``admin.token``.
Device tokens are written to a file (mode 0600), never printed. Names are checked here with
the server's own grammar (:mod:`edgecraft.fleet.names`) before anything is sent; the server's
refusals (:class:`~edgecraft.fleet.client.FleetError`) are user errors like any other: one
``error:`` line, exit code 2.

This module is the group: it lists the commands in their help order. They live by topic in
:mod:`~edgecraft.cli.fleet_serve_cmd` (the server), :mod:`~edgecraft.cli.fleet_release_cmd`
(publish, deploy, status, rollback) and :mod:`~edgecraft.cli.fleet_devices_cmd` (provision,
devices, simulate, example-models), sharing :mod:`~edgecraft.cli.fleet_common`.
"""

from __future__ import annotations

import typer

from edgecraft.cli.fleet_devices_cmd import devices, example_models, provision, simulate
from edgecraft.cli.fleet_release_cmd import deploy, publish, rollback, status
from edgecraft.cli.fleet_serve_cmd import serve

app = typer.Typer(
    name="fleet",
    help="Operate a fleet: serve, publish, deploy, status, rollback, devices.",
    no_args_is_help=True,
)

# in this order in `edgecraft fleet --help`
for name, command in (
    ("serve", serve),
    ("provision", provision),
    ("publish", publish),
    ("deploy", deploy),
    ("status", status),
    ("rollback", rollback),
    ("devices", devices),
    ("simulate", simulate),
    ("example-models", example_models),
):
    app.command(name)(command)
