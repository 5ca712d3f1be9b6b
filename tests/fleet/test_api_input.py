"""The HTTP API against hostile input, on a real server process: names, limits, 4xx (never
500), no secret material in logs, private state files, nothing about the server's identity in
the unauthenticated health check; and a bounded fuzz of every body."""

from __future__ import annotations

import base64
import json
import socket
import stat
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgecraft.fleet.sim import classifier_model, task_weights

pytestmark = [pytest.mark.broker, pytest.mark.slow]  # tests/conftest.py runs slow modules first

BAD_VERSIONS: list[Any] = [
    "../../x",
    "a/b",
    "x?y=1",
    "",
    "v\n1",
    "v\x001",
    ["1.0"],
    "a" * 65,
    ".hidden",
    "1..2",
    7,
]
BAD_IDS: list[Any] = ["d" * 10_000, "a/b", "", "x y", "d\n", "edgecraft-server", "EdgeCraft-x", "#", "+", 5]


def _admin(server: Any) -> httpx.Client:
    token = (server.state_dir / "admin.token").read_text().strip()
    return httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {token}"}, timeout=30)


def test_hostile_requests_get_clear_4xx(tmp_path: Path, server_factory) -> None:  # type: ignore[no-untyped-def]
    server = server_factory(tmp_path / "state", "--port", "0")
    model = base64.b64encode(classifier_model(task_weights())).decode()
    with _admin(server) as h:
        for v in BAD_VERSIONS:
            r = h.post("/api/models", json={"model": model, "version": v})
            assert r.status_code == 400 and "bad version" in r.json()["detail"], (v, r.text)
            r = h.post("/api/rollouts", json={"version": v})
            assert r.status_code == 400, (v, r.text)
        for d in BAD_IDS:
            r = h.post("/api/devices", json={"devices": [{"id": d}]})
            assert r.status_code == 400, (d, r.text)
            assert len(r.json()["detail"]) < 200 and "\n" not in r.json()["detail"]
        assert "reserved" in h.post("/api/devices", json={"devices": [{"id": "edgecraft-server"}]}).text
        assert h.post("/api/devices", json={"count": 1, "group": "all"}).status_code == 400
        assert h.post("/api/devices", json={"count": 1, "prefix": "a/b"}).status_code == 400
        assert h.get("/api/devices").json()["devices"] == []  # nothing was created on the way

        assert h.post("/api/models", json={"model": model, "version": "1.0.0"}).status_code == 200
        ok = h.post("/api/devices", json={"devices": [{"id": "d1"}, {"id": "d2", "group": "lab"}]})
        assert ok.status_code == 200
        cases: list[tuple[str, str, Any]] = [
            ("POST", "/api/rollouts", {}),  # empty rollout body
            ("POST", "/api/rollouts", {"version": "1.0.0", "max_install_failures": "lots"}),
            ("POST", "/api/rollouts", {"version": "1.0.0", "max_install_failures": 2}),
            ("POST", "/api/rollouts", {"version": "1.0.0", "stages": 50}),
            ("POST", "/api/rollouts", {"version": "1.0.0", "gate": "error_rate<1e."}),
            ("POST", "/api/rollouts", {"version": "1.0.0", "group": ["lab"]}),
            ("POST", "/api/devices", {"count": "ten"}),
            ("POST", "/api/devices", {"count": 2**64}),
            ("POST", "/api/devices", {"count": -1}),
            ("POST", "/api/devices", {"count": 3, "start": 2**63}),
            ("POST", "/api/devices", {"devices": [{"id": "d9"}, {"id": "d9"}]}),  # duplicate ids
            ("POST", "/api/devices", {"devices": [{"id": "d1"}]}),  # taken
            ("POST", "/api/devices", {"devices": "d1"}),
            ("POST", "/api/devices", {"devices": [{"id": "d8", "tags": "x"}]}),
            ("POST", "/api/models", {"model": model, "version": "1.0.1", "metrics": [1, 2]}),  # metrics list
            ("POST", "/api/models", {"model": model, "version": "1.0.1", "boards": "esp32"}),
            ("POST", "/api/models", {"model": "not base64!", "version": "1.0.1"}),
            ("POST", "/api/models", {"model": base64.b64encode(b"junk").decode(), "version": "1.0.1"}),
            ("POST", "/api/models", {"model": model, "version": "1.0.1", "firmware": {"../x": "AAAA"}}),
            ("POST", "/api/models", {"model": model, "version": "1.0.0"}),  # exists
            ("POST", "/api/models", {"version": "1.0.1"}),
            ("GET", f"/api/rollouts/{2**63}", None),  # ids beyond 2^63
            ("GET", f"/api/rollouts/{2**70}", None),
            ("GET", "/api/rollouts/-1", None),
            ("GET", "/api/rollouts/abc", None),
            ("POST", f"/api/rollouts/{2**64}/rollback", None),
            ("GET", "/api/devices?group=a%2Fb", None),
        ]
        for method, path, body in cases:
            r = h.request(method, path, json=body)
            assert 400 <= r.status_code < 500, (path, body, r.status_code, r.text)
            assert "\n" not in r.json()["detail"]
        for raw in (b"", b"[1, 2]", b"{not json", b"null", b'"x"'):
            r = h.post("/api/rollouts", content=raw, headers={"content-type": "application/json"})
            assert 400 <= r.status_code < 500, raw
        assert [m["version"] for m in h.get("/api/models").json()["models"]] == ["1.0.0"]

        # Size limits: refused from the header, before a byte of the body is read.
        admin = (server.state_dir / "admin.token").read_text().strip()
        assert _declare(server.url, "/api/rollouts", 150 << 20, admin) == 413
        assert _declare(server.url, "/api/models", 150 << 20, admin) == 413

        def chunks() -> Any:  # no length given: counted while read
            for _ in range(40):
                yield b" " * 65536

        assert h.post("/api/rollouts", content=chunks()).status_code == 413
    with httpx.Client(base_url=server.url, timeout=30) as anon:
        assert _declare(server.url, "/api/models", 30 << 20, None) == 401  # before the body is read
        health = anon.get("/api/health")
        assert health.status_code == 200 and health.json() == {"ok": True, "broker": "up", "database": "up"}
    log = server.stop()
    state = server.state_dir
    # No secret material in any log, not even hashes.
    from edgecraft.fleet.store import Store

    store = Store(f"sqlite:///{state / 'fleet.db'}")
    from sqlalchemy import select

    from edgecraft.fleet.schema import devices

    with store.engine.connect() as c:
        hashes = [x for r in c.execute(select(devices.c.token_hash, devices.c.mqtt_hash)) for x in r]
    store.close()
    logs = log + (state / "mosquitto" / "mosquitto.log").read_text()
    secrets = hashes + [(state / name).read_text().strip() for name in ("admin.token", "mqtt-server.secret")]
    assert hashes and not [s for s in secrets if s in logs]
    assert "Traceback" not in logs
    # Private state: directories 0700, files 0600.
    for p in [state, *state.rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), (p, oct(mode))


def _declare(url: str, path: str, length: int, token: str | None) -> int:
    """The status a server answers to a request that declares a ``length``-byte body and sends
    none of it: only a server that decides from the headers answers at all."""
    host, port = url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        auth = f"authorization: Bearer {token}\r\n" if token else ""
        s.sendall(
            f"POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n{auth}"
            f"content-length: {length}\r\n\r\n".encode()
        )
        return int(s.recv(4096).split(b" ")[1])


def _json_values() -> st.SearchStrategy[Any]:
    leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    return st.recursive(
        leaves,
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=10,
    )


KEYS = ["version", "group", "canary", "stages", "gate", "max_install_failures", "count", "prefix", "start",
        "board", "tags", "devices", "model", "metrics", "boards", "firmware", "id"]  # fmt: skip


def test_fuzzed_bodies_never_500(tmp_path: Path, server_factory) -> None:  # type: ignore[no-untyped-def]
    server = server_factory(tmp_path / "state", "--port", "0")
    h = _admin(server)
    body = st.dictionaries(st.sampled_from(KEYS), _json_values(), max_size=5) | _json_values()
    paths = st.sampled_from(["/api/rollouts", "/api/devices", "/api/models", "/api/rollouts/1/rollback"])

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(paths, body)
    def check(path: str, payload: Any) -> None:
        r = h.post(path, content=json.dumps(payload).encode(), headers={"content-type": "application/json"})
        assert r.status_code < 500, (path, payload, r.text)

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.text(min_size=1, max_size=30))
    def check_params(text: str) -> None:
        q = urllib.parse.quote(text, safe="")
        for path in (f"/api/rollouts/{q}", f"/api/devices?group={q}", f"/api/artifacts/{q}"):
            assert h.get(path).status_code < 500, path

    try:
        check()
        check_params()
    finally:
        h.close()
    assert "Traceback" not in server.stop()
