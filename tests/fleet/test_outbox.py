"""A device's outbox: kept until the server confirms, bounded, telemetry dropped first, never reports."""

from __future__ import annotations

import json

from edgecraft.fleet.agent import Outbox, Pending
from edgecraft.fleet.mqtt import ack_body


def _item(kind: str) -> Pending:
    return Pending(f"edgecraft/dev/d/up/{kind}", "{}", kind)


def test_a_full_outbox_drops_the_oldest_telemetry_and_never_a_report() -> None:
    box = Outbox(size=3)
    box.add(1, _item("report"))
    box.add(2, _item("telemetry"))
    box.add(3, _item("anomaly"))
    box.add(4, _item("telemetry"))  # full: the oldest non-report (2) goes
    assert list(box.items) == [1, 3, 4] and box.dropped == {"telemetry": 1, "anomaly": 0}
    box.add(5, _item("telemetry"))  # then the anomaly (3)
    assert list(box.items) == [1, 4, 5] and box.dropped == {"telemetry": 1, "anomaly": 1}
    for i in (6, 7, 8):  # reports are kept beyond the bound, and push telemetry out
        box.add(i, _item("report"))
    assert list(box.items) == [1, 6, 7, 8] and box.dropped == {"telemetry": 3, "anomaly": 1}
    box.add(9, _item("telemetry"))  # only reports besides it: the new telemetry is the one dropped
    assert list(box.items) == [1, 6, 7, 8] and box.dropped == {"telemetry": 4, "anomaly": 1}


def test_confirmations_and_what_is_due_again() -> None:
    box = Outbox(size=100)
    for i in range(10, 20):
        box.add(i, _item("telemetry"))
    assert [k for k, _ in box.due(now=100.0, timeout=20.0)] == list(range(10, 20))  # never sent
    for k, v in box.items.items():
        v.sent_at, v.broker_acked, v.sends = 90.0, k % 2 == 0, 1
    assert box.due(now=100.0, timeout=20.0) == []
    assert [k for k, _ in box.due(now=100.0, timeout=20.0, reconnect=True)] == [10, 12, 14, 16, 18]
    assert [k for k, _ in box.due(now=111.0, timeout=20.0)] == list(range(10, 20))  # timed out
    box.items[10].sends, box.items[11].sends = 2, 9  # each send doubles the wait, up to 8 times
    assert [k for k, _ in box.due(now=125.0, timeout=20.0)] == list(range(12, 20))
    assert [k for k, _ in box.due(now=200.0, timeout=20.0)] == [10, *range(12, 20)]
    assert [k for k, _ in box.due(now=251.0, timeout=20.0)] == list(range(10, 20))
    box.confirm(json.loads(ack_body([11, 10, 12, 17, 99]))["ids"])
    assert list(box.items) == [13, 14, 15, 16, 18, 19]
    box.confirm([[0, 10**12]])  # a wide run: every kept id in it goes
    assert len(box) == 0
    box.add(1, _item("report"))
    box.confirm([["x", 1], [1], None, [1, 2, 3]])  # malformed runs change nothing
    box.confirm("nonsense")
    assert list(box.items) == [1]


def test_ack_body_is_inclusive_runs() -> None:
    assert json.loads(ack_body([5, 3, 4, 9, 9, 11, 10, 1])) == {"ids": [[1, 1], [3, 5], [9, 11]]}
    assert json.loads(ack_body([])) == {"ids": []}
