"""Device messages off the wire: JSON payloads checked field by field into typed records.

Anything malformed (a missing field, a wrong type, a number out of range, NaN) raises
``ValueError``/``TypeError``/``KeyError``; the server counts it as rejected and stores nothing.
"""

from __future__ import annotations

import math
from typing import Any

from edgecraft.fleet.records import Anomaly, DeviceState, Message, Report, Telemetry

_MAX_INT = 2**63 - 1


def _num(p: dict[str, Any], key: str, default: float | None = None) -> float:
    v = p.get(key, default)
    if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
        raise ValueError(key)
    return float(v)


def _int(p: dict[str, Any], key: str, default: int | None = None) -> int:
    v = p.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= _MAX_INT:
        raise ValueError(key)
    return v


def _text(v: Any, limit: int) -> str | None:
    return None if v is None else str(v)[:limit]


def _state(s: Any) -> DeviceState | None:
    if not isinstance(s, dict):
        return None
    return DeviceState(
        slot_a=_text(s.get("slot_a"), 64),
        slot_b=_text(s.get("slot_b"), 64),
        active_slot=_text(s.get("active_slot"), 1),
        version=_text(s.get("version"), 64),
        health=_text(s.get("health"), 16) or "ok",
        board=_text(s.get("board"), 64) or "",
        firmware=_text(s.get("firmware"), 64) or "",
        runtime=_text(s.get("runtime"), 64) or "",
    )


def parse_message(kind: str, device_id: str, p: Any) -> Message:
    """The record for one message of ``kind`` (telemetry, anomaly, report) from ``device_id``."""
    if not isinstance(p, dict):
        raise TypeError("payload is not an object")
    msg_id, ts, version = _int(p, "msg_id"), _num(p, "ts"), _text(p.get("version"), 64)
    if kind == "telemetry":
        hist = p.get("histogram", [])
        if not isinstance(hist, list) or len(hist) > 1024:
            raise ValueError("histogram")
        return Telemetry(
            device_id,
            msg_id,
            ts,
            version,
            n=_int(p, "n"),
            errors=_int(p, "errors", 0),
            latency_mean_ms=_num(p, "latency_mean_ms"),
            latency_p95_ms=_num(p, "latency_p95_ms"),
            confidence=_num(p, "confidence"),
            labeled=_int(p, "labeled", 0),
            correct=_int(p, "correct", 0),
            histogram=[_int({"h": x}, "h") for x in hist],
            battery=_num(p, "battery", 0.0),
            escalated=_int(p, "escalated", 0),
            fallbacks=_int(p, "fallbacks", 0),
        )
    if kind == "anomaly":
        return Anomaly(
            device_id,
            msg_id,
            ts,
            version,
            str(p["type"])[:32],
            _num(p, "score", 0.0),
            str(p.get("detail", ""))[:500],
        )
    if kind == "report":
        rid = p.get("rollout_id")
        return Report(
            device_id,
            msg_id,
            ts,
            str(p["type"])[:32],
            version,
            None if rid is None else _int(p, "rollout_id"),
            str(p.get("detail", ""))[:500],
            _state(p.get("state")),
        )
    raise ValueError(kind)
