"""Signed commands: what the server sends a device, bound to that device and a counter.

Every install or rollback command travels as an *envelope*::

    {"device": "<device id>", "seq": <int>, "body": {...}, "sig": "<base64 Ed25519 signature>"}

The signature covers the canonical JSON (sorted keys, no spaces, ASCII) of ``device``, ``seq``
and ``body``, made with the server's artifact-signing key (:class:`edgecraft.fleet.artifacts.Signer`),
whose public key every device already holds. The body says what to do:

- ``cmd``: ``"install"`` or ``"rollback"``;
- ``rollout_id`` (int), ``version`` (str) and ``version_seq`` (int: the server's monotonic publish
  number of that version);
- for a rollback also ``to`` / ``to_seq``: the version the device returns to and its publish
  number (both ``None`` when the device had no earlier version);
- an install also carries what the device needs to fetch it (``url``, ``sha256``, ``signature``,
  ``size``, ``delta``); any further keys are signed like the rest.

A device opens each envelope with :func:`open_command` and keeps ``last_seq``, the highest ``seq``
it accepted: a command with ``seq <= last_seq`` is a replay and is refused. So the server gives
every message it sends to a device a new, larger ``seq`` (a resend of the same command is a new
envelope), kept per device in its database.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

COMMANDS = ("install", "rollback")
_ENVELOPE_KEYS = {"device", "seq", "body", "sig"}
_MAX_INT = 2**63 - 1


class CommandError(ValueError):
    """A command that a device must not carry out: malformed, unsigned, forged, for another
    device, or replayed. The message says which, in one line."""


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= _MAX_INT


def check_body(body: Any) -> dict[str, Any]:
    """``body`` if it is a well-formed command body; raises :class:`CommandError` otherwise."""
    if not isinstance(body, dict):
        raise CommandError("command body is not an object")
    if body.get("cmd") not in COMMANDS:
        raise CommandError(f"unknown command {str(body.get('cmd'))[:40]!r}; expected install or rollback")
    if not _is_count(body.get("rollout_id")):
        raise CommandError("command has no valid rollout_id")
    if not isinstance(body.get("version"), str) or not body["version"]:
        raise CommandError("command has no valid version")
    if not _is_count(body.get("version_seq")):
        raise CommandError("command has no valid version_seq")
    if body["cmd"] == "rollback":
        if "to" not in body or "to_seq" not in body:
            raise CommandError("rollback command lacks to / to_seq")
        to, to_seq = body["to"], body["to_seq"]
        if (to is None) != (to_seq is None):
            raise CommandError("rollback command must give both to and to_seq, or neither")
        if to is not None and (not isinstance(to, str) or not to or not _is_count(to_seq)):
            raise CommandError("rollback command has an invalid to / to_seq")
    return body


def canonical(device_id: str, seq: int, body: dict[str, Any]) -> bytes:
    """The bytes that are signed: canonical JSON of device, seq and body."""
    try:
        text = json.dumps(
            {"device": device_id, "seq": seq, "body": body},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=True,
            allow_nan=False,
        )
    except (TypeError, ValueError) as e:
        raise CommandError(f"command is not plain JSON: {e}") from None
    return text.encode()


def _check_address(device_id: Any, seq: Any) -> None:
    if not isinstance(device_id, str) or not device_id:
        raise CommandError("command names no device")
    if not _is_count(seq) or seq < 1:
        raise CommandError("command has no valid seq (an integer >= 1)")


def sign(key: Ed25519PrivateKey, device_id: str, seq: int, body: dict[str, Any]) -> dict[str, Any]:
    """The signed envelope of ``body`` for ``device_id`` with counter ``seq`` (>= 1)."""
    _check_address(device_id, seq)
    check_body(body)
    sig = key.sign(canonical(device_id, seq, body))
    return {"device": device_id, "seq": seq, "body": body, "sig": base64.b64encode(sig).decode()}


def load_public_key(key: Ed25519PublicKey | str | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from a key object, its raw 32 bytes, or their hex (as devices hold it)."""
    if isinstance(key, Ed25519PublicKey):
        return key
    try:
        raw = bytes.fromhex(key) if isinstance(key, str) else bytes(key)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise CommandError("the server public key is not a valid Ed25519 key") from None


def open_command(
    public_key: Ed25519PublicKey | str | bytes, envelope: Any, device_id: str, last_seq: int
) -> dict[str, Any]:
    """The body of ``envelope`` if the server signed it for ``device_id`` with a ``seq`` above
    ``last_seq``; raises :class:`CommandError` (malformed, unsigned, forged, another device's,
    replayed) otherwise. The caller records the envelope's ``seq`` as its new ``last_seq``."""
    if not isinstance(envelope, dict):
        raise CommandError("command is not a signed envelope")
    if "sig" not in envelope:
        raise CommandError("command is unsigned")
    if set(envelope) != _ENVELOPE_KEYS:
        keys = sorted(map(str, envelope))[:8]
        raise CommandError(f"command envelope has keys {keys}, expected {sorted(_ENVELOPE_KEYS)}")
    device, seq, body, sig = envelope["device"], envelope["seq"], envelope["body"], envelope["sig"]
    _check_address(device, seq)
    if not isinstance(body, dict):
        raise CommandError("command body is not an object")
    try:
        if not isinstance(sig, str):
            raise ValueError
        signature = base64.b64decode(sig, validate=True)
        load_public_key(public_key).verify(signature, canonical(device, seq, body))
    except (InvalidSignature, ValueError, binascii.Error):
        raise CommandError("command signature is invalid (not signed by this fleet's server)") from None
    if device != device_id:
        raise CommandError(f"command is for device {device[:64]!r}, not {device_id!r}")
    if seq <= last_seq:
        raise CommandError(f"command seq {seq} is not above the last accepted {last_seq} (replay)")
    return check_body(body)
