"""The fleet's records and the store's interface: what the server keeps, as typed values.

Every store implementation (:class:`edgecraft.fleet.store.SqlStore` on SQLite or PostgreSQL)
takes and returns these dataclasses, never column-name dictionaries; the HTTP layer turns them
into JSON with :func:`to_json`. Errors a caller can act on are :class:`BadRequest` (400),
:class:`NotFound` (404) and :class:`Conflict` (409).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class BadRequest(ValueError):
    """A request that cannot be carried out as asked; the message says why, in one line."""


class NotFound(BadRequest):
    """The request names something the fleet does not have."""


class Conflict(BadRequest):
    """The request clashes with what exists (a device id or version taken already)."""


@dataclass(frozen=True)
class NewDevice:
    """A device to provision: its id, where it belongs, and its credentials (hashed only)."""

    id: str
    token_hash: str
    mqtt_hash: str
    board: str = ""
    group: str = "default"
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Device:
    """A device as the server knows it (no credentials)."""

    id: str
    board: str
    firmware: str
    runtime: str
    group: str
    tags: list[str]
    slot_a: str | None
    slot_b: str | None
    active_slot: str | None
    model_version: str | None
    health: str
    state_seq: int
    last_seen: float | None
    created: float


@dataclass(frozen=True)
class DeviceState:
    """What a device reports about itself: its slots, active version and health."""

    slot_a: str | None = None
    slot_b: str | None = None
    active_slot: str | None = None
    version: str | None = None
    health: str = "ok"
    board: str = ""
    firmware: str = ""
    runtime: str = ""


@dataclass(frozen=True)
class Delta:
    """A signed weights-only update from ``base`` to ``target``."""

    base: str
    target: str
    sha256: str
    signature: str
    size: int
    artifact: bytes = b""


@dataclass(frozen=True)
class ModelVersion:
    """A published version. ``seq`` is its publish number (monotonic, given by the store);
    ``manifest`` and ``artifact`` are empty unless asked for."""

    version: str
    sha256: str
    model_sha256: str
    signature: str
    size: int
    boards: list[str]
    metrics: dict[str, Any]
    structure: str
    seq: int = 0
    created: float = 0.0
    manifest: dict[str, Any] = field(default_factory=dict)
    artifact: bytes = b""


@dataclass(frozen=True)
class Rollout:
    """A staged rollout. ``rev`` guards concurrent updates (see :meth:`FleetStore.save_rollout`)."""

    id: int
    version: str
    group: str
    stages: list[float]  # cumulative fractions, e.g. [0.05, 0.25, 0.5, 1.0]
    gate: dict[str, float]  # metric -> bound: metric < bound must hold
    max_install_failures: float
    stage: int = 0
    state: str = "running"  # running, rolling_back, completed, rolled_back
    reason: str = ""
    stage_results: list[dict[str, Any]] = field(default_factory=list)
    rev: int = 0
    stage_started: float = 0.0
    created: float = 0.0
    updated: float = 0.0


@dataclass(frozen=True)
class Member:
    """One device's place in a rollout."""

    rollout_id: int
    device_id: str
    stage: int
    status: str = "pending"  # pending, sent, installed, failed, rolling_back, rolled_back
    prev_version: str | None = None
    sent_at: float | None = None
    installed_at: float | None = None
    attempts: int = 0
    detail: str = ""


@dataclass(frozen=True)
class Telemetry:
    """One telemetry message: a window of inferences on one device."""

    device_id: str
    msg_id: int
    ts: float
    version: str | None
    n: int
    errors: int
    latency_mean_ms: float
    latency_p95_ms: float
    confidence: float
    labeled: int
    correct: int
    histogram: list[int]
    battery: float | None = None
    escalated: int = 0  # inferences sent to the cloud model (the cascade)
    fallbacks: int = 0  # of those, answered on the device because the cloud did not answer


@dataclass(frozen=True)
class Anomaly:
    """An anomaly a device noticed (saturated sensor, low confidence...)."""

    device_id: str
    msg_id: int
    ts: float
    version: str | None
    kind: str
    score: float
    detail: str


@dataclass(frozen=True)
class Report:
    """A device's report (boot, installed, refused, rolled_back...), with its state when sent."""

    device_id: str
    msg_id: int
    ts: float
    kind: str
    version: str | None
    rollout_id: int | None
    detail: str
    state: DeviceState | None = None


Message = Telemetry | Anomaly | Report


@dataclass(frozen=True)
class Totals:
    """Sums over telemetry rows; ``p95_latency_ms`` is the 95th percentile of the messages' p95s."""

    messages: int = 0
    inferences: int = 0
    errors: int = 0
    labeled: int = 0
    correct: int = 0
    p95_latency_ms: float = 0.0
    confidence: float = 0.0
    escalated: int = 0
    fallbacks: int = 0


def to_json(record: Any) -> dict[str, Any]:
    """A record as a JSON object (bytes fields left out)."""
    return {
        f.name: getattr(record, f.name)
        for f in dataclasses.fields(record)
        if not isinstance(getattr(record, f.name), bytes)
    }


class FleetStore(Protocol):
    """Everything the fleet keeps. One shared test class checks every implementation."""

    def close(self) -> None: ...

    # devices
    def add_devices(self, devices: Sequence[NewDevice]) -> None:
        """Insert devices; :class:`Conflict` (and nothing inserted) if an id is taken."""

    def device(self, device_id: str) -> Device | None: ...
    def device_by_token(self, token_hash: str) -> Device | None: ...
    def devices(self, group: str | None = None) -> list[Device]: ...
    def mqtt_credentials(self) -> list[tuple[str, str]]: ...
    def register_device(self, device_id: str, board: str, firmware: str, runtime: str) -> None: ...
    def next_command_seqs(self, device_ids: Sequence[str]) -> dict[str, int]:
        """One more command number per device (atomic, monotonic, shared by all instances)."""
        ...

    # models
    def add_model(self, model: ModelVersion, deltas: Sequence[Delta]) -> ModelVersion:
        """Insert a version and its deltas in one transaction; returns it with its ``seq``.
        :class:`Conflict` (and nothing inserted) if the version exists."""
        ...

    def model(self, version: str, artifact: bool = False) -> ModelVersion | None: ...
    def models(self) -> list[ModelVersion]: ...
    def delta(self, base: str, target: str) -> Delta | None: ...

    # rollouts
    def add_rollout(self, rollout: Rollout, members: Sequence[Member]) -> int: ...
    def rollout(self, rollout_id: int) -> Rollout | None: ...
    def rollouts(self, states: Iterable[str] | None = None) -> list[Rollout]: ...
    def save_rollout(self, rollout: Rollout) -> bool:
        """Write ``rollout`` if the stored one is still at ``rollout.rev``; False if another won."""
        ...

    def rollout_members(self, rollout_id: int) -> list[Member]: ...
    def note_sent(
        self, rollout_id: int, device_ids: Sequence[str], status: str, unless: Sequence[str] = ()
    ) -> None: ...

    # device messages
    def ingest(self, messages: Sequence[Message]) -> int:
        """Store messages once each (by device and msg_id); returns how many were new."""
        ...

    def devices_reporting(self, device_ids: Sequence[str], version: str, since: float) -> dict[str, int]: ...
    def telemetry_totals(
        self,
        device_ids: Sequence[str] | None = None,
        version: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> Totals: ...
    def telemetry_series(self, bucket_s: float, limit: int = 60) -> list[dict[str, Any]]: ...
    def anomalies(self, limit: int = 100) -> list[Anomaly]: ...
    def counts(self) -> dict[str, int]: ...
    def reports_for(self, device_id: str) -> list[Report]: ...
