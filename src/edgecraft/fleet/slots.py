"""A device's A/B model slots on disk.

``root/state.json`` names the active slot and what each slot holds (version, SHA-256); the
models live in ``root/a/model.tflite`` and ``root/b/model.tflite``. An install writes only the
inactive slot, and the switch is one atomic rename of ``state.json`` after the self-test; so a
power loss at any point leaves the old slot active and intact. At boot the active slot's hash is
checked; a damaged active slot falls back to the other one when that one is intact.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


class PowerLoss(BaseException):
    """Raised by fault injection to stop a simulated device mid-operation, with no clean-up."""


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
        self.state: dict[str, Any] = {"active": None, "a": None, "b": None, "boot": 0}
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

    def model(self, slot: str | None = None) -> bytes | None:
        slot = slot or self.active
        if not slot or not self.state.get(slot):
            return None
        return (self.root / slot / "model.tflite").read_bytes()

    def write_inactive(self, model: bytes, power_loss: bool = False) -> str:
        """Write ``model`` into the inactive slot (not yet active); returns the slot name.

        The slot's record is cleared first, so a half-written slot is never taken for a good one.
        With ``power_loss`` the write stops halfway, as when the power fails.
        """
        slot = self.inactive
        self.state[slot] = None
        self._save()
        if power_loss:
            (self.root / slot).mkdir(parents=True, exist_ok=True)
            with open(self.root / slot / "model.tflite", "wb") as f:
                f.write(model[: len(model) // 2])
            raise PowerLoss(f"power lost writing slot {slot}")
        self._put(slot, model)
        return slot

    def commit(self, slot: str, version: str, model: bytes) -> None:
        """Make ``slot`` (already written and self-tested) the active one: one atomic rename."""
        self.state[slot] = {"version": version, "sha256": hashlib.sha256(model).hexdigest()}
        self.state["active"] = slot
        self._save()

    def switch_back(self) -> bool:
        """Activate the other slot if it is intact; False when there is nothing to go back to."""
        if self.active is None or not self.intact(self.other(self.active)):
            return False
        self.state["active"] = self.other(self.active)
        self._save()
        return True

    def summary(self) -> dict[str, Any]:
        return {
            "slot_a": self.version("a"),
            "slot_b": self.version("b"),
            "active_slot": self.active,
            "version": self.version(self.active),
        }
