"""The grammar of the fleet's names: device ids, group names and tags, model versions.

Names travel in MQTT topics, the broker's password and ACL files, URLs and file names, so they
are kept to a strict grammar and checked at every entry point (HTTP API, CLI) with one clear
error. Names starting with ``edgecraft`` are reserved for the server's own identities on the
broker; ``all`` names every device, so it is not a group.
"""

from __future__ import annotations

import re
from typing import Any

from edgecraft.fleet.records import BadRequest

MAX_LEN = 64
RESERVED_PREFIX = "edgecraft"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
_RULES = {
    "device id": "1-64 letters, digits, '-' and '_', starting with a letter or digit",
    "group": "1-64 letters, digits, '-' and '_', starting with a letter or digit",
    "board": "1-64 letters, digits, '-' and '_', starting with a letter or digit",
    "version": "1-64 letters, digits, '.', '_', '+' and '-', starting with a letter or digit, no '..'",
}


def _shown(value: Any) -> str:
    text = (
        repr(value) if not isinstance(value, str) else repr(value[:40] + ("..." if len(value) > 40 else ""))
    )
    return text[:60]


def _check(kind: str, value: Any, pattern: re.Pattern[str]) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value) or ".." in value:
        raise BadRequest(f"bad {kind} {_shown(value)}: use {_RULES[kind]}")
    return value


def device_id(value: Any) -> str:
    """``value`` if it is a valid device id that no server identity uses; BadRequest otherwise."""
    _check("device id", value, _ID)
    if value.lower().startswith(RESERVED_PREFIX):
        raise BadRequest(
            f"device id {_shown(value)} is reserved: ids starting with {RESERVED_PREFIX!r} are the server's"
        )
    return str(value)


def group(value: Any) -> str:
    """``value`` if it is a valid group name or tag (not the reserved ``all``)."""
    _check("group", value, _ID)
    if value == "all":
        raise BadRequest("'all' is not a group name: it means every device")
    return str(value)


def target(value: Any) -> str:
    """A rollout target: a group, a tag, or ``all``."""
    return "all" if value == "all" else group(value)


def board(value: Any) -> str:
    """A board name (empty: any board)."""
    return "" if value == "" else _check("board", value, _ID)


def version(value: Any) -> str:
    """``value`` if it is a valid model version name."""
    return _check("version", value, _VERSION)


def instance(value: Any) -> str:
    """A server instance name (used in its broker user name ``edgecraft-server-<name>``)."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", value):
        raise BadRequest(f"bad instance name {_shown(value)}: use 1-32 letters, digits, '-' and '_'")
    return value
