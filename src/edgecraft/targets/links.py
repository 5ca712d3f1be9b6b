"""Radio links for the edge-cloud cascade: ``links.json`` (data with a source for every figure)
as typed records, and what one exchange costs on a link.

One exchange sends ``payload`` bytes up and ``response`` bytes down. Each direction is cut into
frames of at most ``max_payload_bytes``, each carrying ``header_bytes`` of protocol overhead and
``frame_overhead_ms`` of fixed air time (a LoRa preamble)::

    frames(b)   = max(1, ceil(b / max_payload_bytes))
    air_up      = frames(payload) * frame_overhead_ms + 8 * (payload + frames * header) / uplink_bps
    air_down    = the same for the response at downlink_bps
    latency     = air_up + rtt_ms + air_down
    radio_mj    = tx_mw * air_up + rx_mw * (rtt_ms + air_down) + per_message_mj

The device keeps its receiver on while it waits for the answer (``rx_mw * rtt_ms``): the
pessimistic and usual case for a request that needs its answer now.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from typing import Any


class UnknownLinkError(ValueError):
    """A link slug that is not in ``links.json``; the message lists the valid ones."""


@dataclass(frozen=True)
class Link:
    """One radio link: rates, round trip, framing and the radio's power, each with a source."""

    slug: str
    name: str
    chip: str
    uplink_bps: float
    downlink_bps: float
    rtt_ms: float
    max_payload_bytes: int
    header_bytes: int
    tx_mw: float
    rx_mw: float
    per_message_mj: float
    frame_overhead_ms: float
    duty_cycle: float
    duty_cycle_source: str
    sources: dict[str, str] = field(default_factory=dict)

    def frames(self, nbytes: int) -> int:
        """Frames needed for ``nbytes`` of payload (at least one: an empty message still goes)."""
        return max(1, math.ceil(nbytes / self.max_payload_bytes))

    def wire_bytes(self, nbytes: int) -> int:
        """Bytes on the air for ``nbytes`` of payload: the payload plus each frame's header."""
        return nbytes + self.frames(nbytes) * self.header_bytes

    def air_ms(self, nbytes: int, bps: float) -> float:
        """Milliseconds on the air for ``nbytes`` of payload at ``bps``."""
        return self.frames(nbytes) * self.frame_overhead_ms + 8000.0 * self.wire_bytes(nbytes) / bps

    def exchange(self, payload: int, response: int) -> dict[str, float]:
        """Latency (ms), radio energy (mJ) and air time up (ms) of one request and its answer."""
        up = self.air_ms(payload, self.uplink_bps)
        down = self.air_ms(response, self.downlink_bps)
        energy = (self.tx_mw * up + self.rx_mw * (self.rtt_ms + down)) / 1000.0 + self.per_message_mj
        return {"latency_ms": up + self.rtt_ms + down, "radio_mj": energy, "air_up_ms": up}

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON-ready data."""
        return asdict(self)


@cache
def links() -> dict[str, Link]:
    """Every link in ``links.json``, by slug, in file order."""
    data = json.loads(resources.files("edgecraft.targets").joinpath("links.json").read_text())
    return {d["slug"]: Link(**d) for d in data["links"]}


def get_link(slug: str) -> Link:
    """The link named ``slug``; :class:`UnknownLinkError` listing the valid slugs otherwise."""
    try:
        return links()[slug]
    except KeyError:
        raise UnknownLinkError(f"unknown link {slug!r}; choose one of: {', '.join(links())}") from None
