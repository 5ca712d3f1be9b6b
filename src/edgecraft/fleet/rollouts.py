"""Staged rollouts with gates and automatic rollback; all state in the database.

A rollout orders its devices (a stable shuffle) and splits them into cumulative stages, e.g.
canary 5% then 25%, 50%, 100%. :func:`tick` moves every running rollout one step:

1. send the install command to devices of the current stage that have not had it (and resend
   to those that have not answered for a while: commands are idempotent on the device);
2. when too many installs failed (self-test, refused artifact, no answer by the stage timeout),
   or when every device of the stage has answered and sent telemetry on the new version and the
   gate does not hold, roll back: tell every device that installed to return to its previous slot;
3. when the gate holds, open the next stage, or finish.

Any server instance may call :func:`tick`; a transition is written only if the rollout is still
at the revision that instance read, so two instances never apply the same step twice. All state
is in the store, so a restarted server resumes every rollout where it was (also mid-rollback).
Command bodies carry the version's publish number (``version_seq``; a rollback also ``to`` and
``to_seq``): the service signs each one for its device (:mod:`edgecraft.fleet.commands`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from edgecraft.fleet.records import BadRequest, FleetStore, Member, NotFound, Rollout

GATE_METRICS = ("error_rate", "p95_latency_ms", "accuracy_drop", "escalation_rate")
#: Sends command bodies, one per device: ``send([(device_id, body), ...])``.
Send = Callable[[Sequence[tuple[str, dict[str, Any]]]], None]


class RolloutError(BadRequest):
    """A rollout request that cannot be carried out as asked."""


def parse_gate(text: str) -> dict[str, float]:
    """``"error_rate<0.02,p95_latency_ms<50"`` -> ``{"error_rate": 0.02, "p95_latency_ms": 50.0}``."""
    gate: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = re.fullmatch(r"([a-z0-9_]+)\s*<\s*([0-9.eE+-]+)", part)
        try:
            bound = float(m.group(2)) if m else math.nan
        except ValueError:
            bound = math.nan
        if not m or m.group(1) not in GATE_METRICS or not math.isfinite(bound):
            raise RolloutError(
                f"bad gate term {part[:60]!r}; write METRIC<NUMBER, METRIC one of {', '.join(GATE_METRICS)}"
            )
        gate[m.group(1)] = bound
    return gate


def parse_stages(canary: str, stages: str) -> list[float]:
    """``"5%"``, ``"25,50,100"`` -> ``[0.05, 0.25, 0.5, 1.0]`` (cumulative fractions of the group)."""
    try:
        fracs = [float(canary.rstrip("%")) / 100] if canary else []
        fracs += [float(s.strip().rstrip("%")) / 100 for s in stages.split(",") if s.strip()]
    except ValueError:
        raise RolloutError(
            f"bad stages {canary!r} / {stages!r}; use e.g. --canary 5% --stages 25,50,100"
        ) from None
    if not fracs or any(not 0 < f <= 1 for f in fracs) or fracs != sorted(set(fracs)):
        raise RolloutError("stages must be increasing percentages in (0, 100], e.g. 25,50,100")
    if fracs[-1] != 1.0:
        fracs.append(1.0)
    return fracs


def create(
    store: FleetStore,
    version: str,
    group: str,
    stages: list[float],
    gate: dict[str, float],
    max_install_failures: float = 0.05,
) -> int:
    """Create a rollout of ``version`` to ``group`` (a group name, a tag, or ``all``); returns its id."""
    model = store.model(version)
    if model is None:
        raise RolloutError(f"unknown model version {version!r}; publish it first (edgecraft fleet publish)")
    if not 0 <= max_install_failures <= 1:
        raise RolloutError(f"max_install_failures must be a fraction in [0, 1], got {max_install_failures}")
    if store.rollouts(states=("running", "rolling_back")):
        raise RolloutError("another rollout is still running; wait for it or roll it back first")
    members = [d for d in store.devices() if group in ("all", d.group) or group in d.tags]
    if model.boards:
        members = [d for d in members if d.board in model.boards]
    if not members:
        raise RolloutError(f"no device in group {group!r} can take {version} (boards {model.boards})")
    members.sort(key=lambda d: hashlib.sha256(f"{version}/{d.id}".encode()).hexdigest())
    bounds = [max(1, math.ceil(f * len(members))) for f in stages]
    rows = []
    for i, d in enumerate(members):
        stage = next(s for s, b in enumerate(bounds) if i < b)
        rows.append(Member(0, d.id, stage, prev_version=d.model_version))
    spec = Rollout(0, version, group, stages, gate, max_install_failures)
    return store.add_rollout(spec, rows)


def install_command(store: FleetStore, rollout: Rollout, prev_version: str | None) -> dict[str, Any]:
    """The install command body for one device; offers a weights-only delta from its version."""
    model = store.model(rollout.version)
    assert model is not None
    cmd: dict[str, Any] = {
        "cmd": "install",
        "rollout_id": rollout.id,
        "version": model.version,
        "version_seq": model.seq,
        "url": f"/api/artifacts/{model.version}",
        "sha256": model.sha256,
        "signature": model.signature,
        "size": model.size,
        "delta": None,
    }
    if prev_version:
        d = store.delta(prev_version, model.version)
        if d is not None:
            cmd["delta"] = {
                "base": prev_version,
                "url": f"/api/deltas/{prev_version}/{model.version}",
                "sha256": d.sha256,
                "signature": d.signature,
                "size": d.size,
            }
    return cmd


def rollback_command(store: FleetStore, rollout: Rollout, to: str | None) -> dict[str, Any]:
    """The rollback command body: leave ``rollout.version`` for ``to`` (the device's previous
    version; ``to_seq`` 0 when the server never published it, e.g. a factory image)."""
    model, prev = store.model(rollout.version), store.model(to) if to else None
    return {
        "cmd": "rollback",
        "rollout_id": rollout.id,
        "version": rollout.version,
        "version_seq": model.seq if model else 0,
        "to": to,
        "to_seq": None if to is None else prev.seq if prev else 0,
    }


def evaluate(store: FleetStore, rollout: Rollout, device_ids: list[str], since: float) -> dict[str, Any]:
    """Gate metrics for ``device_ids`` on the new version, and whether the gate holds."""
    new = store.telemetry_totals(device_ids, version=rollout.version, since=since)
    old = store.telemetry_totals(device_ids, until=rollout.created)
    acc_new = new.correct / new.labeled if new.labeled else None
    acc_old = old.correct / old.labeled if old.labeled else None
    metrics: dict[str, Any] = {
        "error_rate": new.errors / new.inferences if new.inferences else 0.0,
        "p95_latency_ms": new.p95_latency_ms,
        "accuracy_drop": (acc_old - acc_new) if acc_old is not None and acc_new is not None else 0.0,
        "accuracy": acc_new,
        "escalation_rate": new.escalated / new.inferences if new.inferences else 0.0,
        "messages": new.messages,
    }
    failing = [f"{k}={metrics[k]:.4g} (limit {v:g})" for k, v in rollout.gate.items() if not metrics[k] < v]
    return {"metrics": metrics, "holds": not failing, "failing": failing}


def tick(
    store: FleetStore,
    send: Send,
    resend_s: float = 5.0,
    stage_timeout_s: float = 300.0,
    min_messages: int = 1,
) -> None:
    """Advance every running or rolling-back rollout by at most one step."""
    for r in store.rollouts(states=("running", "rolling_back")):
        if r.state == "running":
            _tick_running(store, send, r, resend_s, stage_timeout_s, min_messages)
        else:
            _tick_rolling_back(store, send, r, resend_s)


def _tick_running(
    store: FleetStore, send: Send, r: Rollout, resend_s: float, stage_timeout_s: float, min_messages: int
) -> None:
    now = time.time()
    members = [m for m in store.rollout_members(r.id) if m.stage <= r.stage]
    due = [
        m
        for m in members
        if m.status == "pending" or (m.status == "sent" and (m.sent_at or 0) < now - resend_s)
    ]
    commands: dict[str | None, dict[str, Any]] = {}
    for m in due:
        if m.prev_version not in commands:
            commands[m.prev_version] = install_command(store, r, m.prev_version)
    send([(m.device_id, commands[m.prev_version]) for m in due])
    store.note_sent(r.id, [m.device_id for m in due], "sent", unless=("installed", "failed"))
    timed_out = now - r.stage_started > stage_timeout_s
    failed = [m for m in members if m.status == "failed" or (timed_out and m.status == "sent")]
    if len(failed) > r.max_install_failures * len(members):
        reason = f"stage {r.stage}: {len(failed)} of {len(members)} installs failed"
        store.save_rollout(dataclasses.replace(r, state="rolling_back", reason=reason))
        return
    installed = [m for m in members if m.status == "installed"]
    if not timed_out and len(installed) + len(failed) < len(members):
        return
    ids = [m.device_id for m in installed]
    if not timed_out and min_messages > 0:
        since = min(m.installed_at or now for m in installed) if installed else now
        reporting = store.devices_reporting(ids, r.version, since)
        if sum(1 for d in ids if reporting.get(d, 0) >= min_messages) < len(ids):
            return
    result = evaluate(store, r, ids, since=r.created)
    results = [*r.stage_results, {"stage": r.stage, "devices": len(members), **result}]
    if not result["holds"]:
        reason = f"gate failed at stage {r.stage}: {', '.join(result['failing'])}"
        store.save_rollout(dataclasses.replace(r, state="rolling_back", stage_results=results, reason=reason))
    elif r.stage + 1 >= len(r.stages):
        store.save_rollout(dataclasses.replace(r, state="completed", stage_results=results))
    else:
        store.save_rollout(
            dataclasses.replace(r, stage=r.stage + 1, stage_started=now, stage_results=results)
        )


def _tick_rolling_back(store: FleetStore, send: Send, r: Rollout, resend_s: float) -> None:
    now = time.time()
    members = store.rollout_members(r.id)
    # A device told to install may yet install (its command is queued): roll it back too.
    touched = [
        m
        for m in members
        if m.status in ("sent", "installed")
        or (m.status == "rolling_back" and (m.sent_at or 0) < now - resend_s)
    ]
    commands: dict[str | None, dict[str, Any]] = {}
    for m in touched:
        if m.prev_version not in commands:
            commands[m.prev_version] = rollback_command(store, r, m.prev_version)
    send([(m.device_id, commands[m.prev_version]) for m in touched])
    store.note_sent(r.id, [m.device_id for m in touched], "rolling_back", unless=("rolled_back", "failed"))
    if all(m.status in ("pending", "failed", "rolled_back") for m in members):
        store.save_rollout(dataclasses.replace(r, state="rolled_back"))


def request_rollback(store: FleetStore, rollout_id: int, reason: str = "rolled back by operator") -> bool:
    """Start rolling back a running rollout; False if it is not running."""
    r = store.rollout(rollout_id)
    if r is None:
        raise NotFound(f"no rollout {rollout_id}")
    if r.state != "running":
        return False
    return store.save_rollout(dataclasses.replace(r, state="rolling_back", reason=reason))


def summary(store: FleetStore, r: Rollout) -> dict[str, Any]:
    """A rollout with per-stage device counts by status (what status and the dashboard show)."""
    members = store.rollout_members(r.id)
    stages = []
    for s, frac in enumerate(r.stages):
        counts: dict[str, int] = {}
        for m in members:
            if m.stage == s:
                counts[m.status] = counts.get(m.status, 0) + 1
        done = s < r.stage or r.state == "completed"
        stages.append(
            {
                "stage": s,
                "percent": round(frac * 100, 2),
                "devices": sum(counts.values()),
                "status": counts,
                "state": "done" if done else "active" if s == r.stage else "waiting",
            }
        )
    keep = ["id", "version", "group", "gate", "state", "stage", "reason", "stage_results", "created"]
    keep.append("updated")
    return {**{k: getattr(r, k) for k in keep}, "devices": len(members), "stages": stages}
