"""A device's persistent state on disk: its A/B model slots, command counter and version floor.

``root/state.json`` names the active slot and what each slot holds (version, SHA-256, the
version's publish number); the models live in ``root/a/model.tflite`` and ``root/b/model.tflite``.
An install writes only the inactive slot, and the switch is one atomic rename of ``state.json``
after the self-test; so a power loss at any point leaves the old slot active and intact. At boot
the active slot's hash is checked; a damaged active slot falls back to the other one when that
one is intact.

``state.json`` also keeps ``last_seq``, the highest command counter the device accepted (see
:mod:`edgecraft.fleet.commands`), and ``floor``, the publish number of the version it runs: an
install raises it, only a signed rollback lowers it. Both change with the same atomic rename.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Slots:
    """The two slots of one device and the record of which is active."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.state: dict[str, Any] = {
            "active": None,
            "a": None,
            "b": None,
            "boot": 0,
            "last_seq": 0,
            "floor": 0,
        }
        if (self.root / "state.json").exists():
            self.state = json.loads((self.root / "state.json").read_text())

    @classmethod
    def factory(cls, root: Path, version: str, model: bytes) -> Slots:
        """A new device with ``model`` in slot A, as it leaves the factory."""
        s = cls(root)
        s._put("a", model)
        s.state = {
            "active": "a",
            "a": {"version": version, "sha256": hashlib.sha256(model).hexdigest()},
            "b": None,
            "boot": 0,
            "last_seq": 0,
            "floor": 0,
        }
        s._save()
        return s

    def _save(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.root / "state.json", json.dumps(self.state).encode())

    def _put(self, slot: str, model: bytes) -> None:
        (self.root / slot).mkdir(parents=True, exist_ok=True)
        _write_atomic(self.root / slot / "model.tflite", model)

    def boot(self) -> int:
        """Count a boot; fall back to the other slot if the active one is damaged. Returns the boot number."""
        active = self.state["active"]
        if active and not self.intact(active):
            other = self.other(active)
            self.state["active"] = other if self.intact(other) else None
        self.state["boot"] = int(self.state.get("boot", 0)) + 1
        self._save()
        return int(self.state["boot"])

    @staticmethod
    def other(slot: str) -> str:
        return "b" if slot == "a" else "a"

    def intact(self, slot: str) -> bool:
        """True when ``slot`` holds a model whose bytes match its recorded hash."""
        info = self.state.get(slot)
        path = self.root / slot / "model.tflite"
        if not info or not path.exists():
            return False
        return hashlib.sha256(path.read_bytes()).hexdigest() == info["sha256"]

    @property
    def active(self) -> str | None:
        return self.state["active"]

    @property
    def inactive(self) -> str:
        return self.other(self.active or "b")

    def version(self, slot: str | None) -> str | None:
        info = self.state.get(slot) if slot else None
        return info["version"] if info else None

    def sha256(self, slot: str | None) -> str | None:
        info = self.state.get(slot) if slot else None
        return info["sha256"] if info else None

    @property
    def last_seq(self) -> int:
        """The highest command counter this device accepted (0: none yet)."""
        return int(self.state.get("last_seq", 0))

    @property
    def floor(self) -> int:
        """The publish number below which an install is refused (0: no floor yet)."""
        return int(self.state.get("floor", 0))

    def accept(self, seq: int) -> None:
        """Record ``seq`` as the last accepted command counter (before the command runs)."""
        self.state["last_seq"] = max(self.last_seq, seq)
        self._save()

    def model(self, slot: str | None = None) -> bytes | None:
        slot = slot or self.active
        if not slot or not self.state.get(slot):
            return None
        return (self.root / slot / "model.tflite").read_bytes()

    def clear_inactive(self) -> str:
        """Forget what the inactive slot holds (before writing it); returns the slot name.

        So a half-written slot is never taken for a good one.
        """
        slot = self.inactive
        self.state[slot] = None
        self._save()
        return slot

    def write_inactive(self, model: bytes) -> str:
        """Write ``model`` into the inactive slot (not yet active); returns the slot name."""
        slot = self.clear_inactive()
        self._put(slot, model)
        return slot

    def commit(self, slot: str, version: str, model: bytes, version_seq: int = 0) -> None:
        """Make ``slot`` (already written and self-tested) the active one and raise the floor to
        ``version_seq``: one atomic rename."""
        self.state[slot] = {
            "version": version,
            "sha256": hashlib.sha256(model).hexdigest(),
            "version_seq": version_seq,
        }
        self.state["active"] = slot
        self.state["floor"] = max(self.floor, version_seq)
        self._save()

    def switch_back(self, version: str | None = None, version_seq: int | None = None) -> bool:
        """Activate the other slot if it is intact (and holds ``version`` when given) and set the
        floor to ``version_seq`` (a signed rollback's target); False when there is nothing to go
        back to."""
        if self.active is None:
            return False
        other = self.other(self.active)
        if not self.intact(other) or (version is not None and self.version(other) != version):
            return False
        self.state["active"] = other
        if version_seq is not None:
            self.state["floor"] = version_seq
        self._save()
        return True

    def summary(self) -> dict[str, Any]:
        return {
            "slot_a": self.version("a"),
            "slot_b": self.version("b"),
            "active_slot": self.active,
            "version": self.version(self.active),
        }
