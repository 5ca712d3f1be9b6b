"""``python -m edgecraft`` is the ``edgecraft`` command."""

from edgecraft.cli.app import program

program()
