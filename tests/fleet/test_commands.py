"""Signed command envelopes (fleet/commands.py): what opens, and everything that must not."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edgecraft.fleet.commands import CommandError, canonical, check_body, open_command, sign

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUB_HEX = KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
INSTALL: dict[str, Any] = {
    "cmd": "install",
    "rollout_id": 7,
    "version": "1.1.0",
    "version_seq": 2,
    "url": "/api/artifacts/1.1.0",
    "sha256": "ab" * 32,
    "signature": "cd" * 64,
    "size": 1234,
    "delta": None,
}
ROLLBACK: dict[str, Any] = {
    "cmd": "rollback",
    "rollout_id": 7,
    "version": "1.1.0",
    "version_seq": 2,
    "to": "1.0.0",
    "to_seq": 1,
}


def test_signed_commands_open_with_the_hex_or_the_key_object() -> None:
    env = sign(KEY, "dev-1", 5, INSTALL)
    assert set(env) == {"device", "seq", "body", "sig"} and env["seq"] == 5
    assert open_command(PUB_HEX, env, "dev-1", 4) == INSTALL
    assert open_command(KEY.public_key(), sign(KEY, "dev-1", 1, ROLLBACK), "dev-1", 0) == ROLLBACK
    first = {**ROLLBACK, "to": None, "to_seq": None}  # back to nothing: the device had no earlier version
    assert open_command(PUB_HEX, sign(KEY, "dev-1", 9, first), "dev-1", 8)["to"] is None


def test_canonical_bytes_do_not_depend_on_key_order() -> None:
    reordered = dict(reversed(list(INSTALL.items())))
    assert canonical("d", 1, INSTALL) == canonical("d", 1, reordered)
    assert canonical("d", 1, INSTALL).startswith(b'{"body":{"cmd":"install","delta":null,')


def _refused(env: Any, device: str = "dev-1", last_seq: int = 0) -> str:
    with pytest.raises(CommandError) as e:
        open_command(PUB_HEX, env, device, last_seq)
    return str(e.value)


def test_replay_forgery_other_device_and_unsigned_are_refused() -> None:
    env = sign(KEY, "dev-1", 5, INSTALL)
    assert "replay" in _refused(env, last_seq=5)
    assert "replay" in _refused(env, last_seq=9)
    assert "for device 'dev-1', not 'dev-2'" in _refused(env, device="dev-2")
    other = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    assert "signature is invalid" in _refused(sign(other, "dev-1", 5, INSTALL))
    for field, value in (("device", "dev-2"), ("seq", 6)):
        assert "signature is invalid" in _refused({**env, field: value})
    tampered = copy.deepcopy(env)
    tampered["body"]["version_seq"] = 99
    assert "signature is invalid" in _refused(tampered)
    sig = bytearray(base64.b64decode(env["sig"]))
    sig[0] ^= 1
    assert "signature is invalid" in _refused({**env, "sig": base64.b64encode(bytes(sig)).decode()})
    assert "signature is invalid" in _refused({**env, "sig": "not base64!"})
    assert "signature is invalid" in _refused({**env, "sig": 12})
    assert _refused(INSTALL) == "command is unsigned"  # the old, bare format
    assert "not a signed envelope" in _refused([env])
    assert "expected" in _refused({**env, "extra": 1})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cmd": "format"}, "unknown command"),
        ({"rollout_id": None}, "rollout_id"),
        ({"rollout_id": True}, "rollout_id"),
        ({"version": ""}, "version"),
        ({"version_seq": -1}, "version_seq"),
        ({"version_seq": 2**63}, "version_seq"),
        ({"version_seq": "3"}, "version_seq"),
    ],
)
def test_malformed_bodies_are_refused_before_signing_and_after(change: dict[str, Any], message: str) -> None:
    body = {**INSTALL, **change}
    with pytest.raises(CommandError, match=message):
        sign(KEY, "dev-1", 1, body)
    with pytest.raises(CommandError, match=message):
        check_body(body)
    # a server that signed it anyway (it cannot through sign()) still gets it refused
    env = {"device": "dev-1", "seq": 1, "body": body, "sig": ""}
    env["sig"] = base64.b64encode(KEY.sign(canonical("dev-1", 1, body))).decode()
    assert message in _refused(env)


def test_rollback_needs_its_target_and_addresses_are_checked() -> None:
    for body in (
        {k: v for k, v in ROLLBACK.items() if k != "to_seq"},
        {**ROLLBACK, "to_seq": None},
        {**ROLLBACK, "to": 3},
    ):
        with pytest.raises(CommandError, match="to"):
            check_body(body)
    with pytest.raises(CommandError, match="seq"):
        sign(KEY, "dev-1", 0, INSTALL)
    with pytest.raises(CommandError, match="no device"):
        sign(KEY, "", 1, INSTALL)
    with pytest.raises(CommandError, match="plain JSON"):
        sign(KEY, "dev-1", 1, {**INSTALL, "size": float("nan")})
