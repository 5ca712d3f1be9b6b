"""The admin client the CLI and tests use: the fleet server's JSON API over HTTP.

``FleetClient.from_state(dir)`` finds a local server through the state directory that
``edgecraft fleet serve`` writes: ``server.json`` (its URL) and ``admin.token`` (mode 0600).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import httpx

DEFAULT_STATE_DIR = Path("edgecraft-fleet")


class FleetError(Exception):
    """The server refused a request (4xx) or cannot be reached; the message says why. The CLI
    reports it as a user error (exit code 2)."""


class FleetServerError(Exception):
    """The server failed (5xx) on a request: an internal error, not the user's."""


class FleetClient:
    """Admin calls against one server URL."""

    def __init__(self, url: str, token: str, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(
            base_url=self.url, timeout=timeout, headers={"authorization": f"Bearer {token}"}
        )

    @classmethod
    def from_state(
        cls, state_dir: Path = DEFAULT_STATE_DIR, url: str | None = None, token: str | None = None
    ) -> FleetClient:
        """A client for the server that keeps its state in ``state_dir`` (URL and token overridable)."""
        token = token or os.environ.get("EDGECRAFT_FLEET_TOKEN")
        if token is None:
            path = Path(state_dir) / "admin.token"
            if not path.exists():
                raise FleetError(
                    f"no admin token at {path}; start `edgecraft fleet serve` there, pass "
                    "--state-dir, or set EDGECRAFT_FLEET_TOKEN"
                )
            token = path.read_text().strip()
        if url is None:
            info = Path(state_dir) / "server.json"
            if not info.exists():
                raise FleetError(
                    f"no server found ({info} is missing); start `edgecraft fleet serve` or pass --server"
                )
            url = json.loads(info.read_text())["url"]
        return cls(url, token)

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        try:
            r = self.http.request(method, path, **kw)
        except httpx.TransportError as e:
            raise FleetError(
                f"cannot reach the fleet server at {self.url} ({type(e).__name__}); is it running?"
            ) from None
        if r.status_code >= 400:
            try:
                detail = str(r.json().get("detail", r.text))
            except (ValueError, AttributeError):
                detail = r.text
            error = FleetServerError if r.status_code >= 500 else FleetError
            raise error(f"server said {r.status_code}: {detail.splitlines()[0] if detail else ''}")
        data: dict[str, Any] = r.json()
        return data

    def provision(
        self,
        count: int = 1,
        prefix: str = "dev",
        board: str = "",
        group: str = "default",
        tags: list[str] | None = None,
        start: int = 0,
    ) -> dict[str, Any]:
        """Create ``count`` devices; the answer holds their tokens (shown once) and the broker address."""
        return self._call(
            "POST",
            "/api/devices",
            json={
                "count": count,
                "prefix": prefix,
                "board": board,
                "group": group,
                "tags": tags or [],
                "start": start,
            },
        )

    def provision_specs(self, specs: list[dict[str, Any]]) -> dict[str, Any]:
        return self._call("POST", "/api/devices", json={"devices": specs})

    def devices(self, group: str | None = None) -> list[dict[str, Any]]:
        params = {"group": group} if group else {}
        devices: list[dict[str, Any]] = self._call("GET", "/api/devices", params=params)["devices"]
        return devices

    def publish(
        self,
        model: bytes,
        version: str,
        boards: list[str] | None = None,
        metrics: dict[str, Any] | None = None,
        firmware_dir: Path | None = None,
        firmware_files: dict[str, bytes] | None = None,
    ) -> dict[str, Any]:
        """Publish a model version; firmware files (a directory, or name -> bytes) travel with it."""
        firmware = {k: base64.b64encode(v).decode() for k, v in (firmware_files or {}).items()}
        if firmware_dir is not None:
            for p in sorted(Path(firmware_dir).rglob("*")):
                if p.is_file():
                    firmware[p.relative_to(firmware_dir).as_posix()] = base64.b64encode(
                        p.read_bytes()
                    ).decode()
        body = {
            "model": base64.b64encode(model).decode(),
            "version": version,
            "boards": boards or [],
            "metrics": metrics or {},
            "firmware": firmware,
        }
        return self._call("POST", "/api/models", json=body)

    def models(self) -> list[dict[str, Any]]:
        models: list[dict[str, Any]] = self._call("GET", "/api/models")["models"]
        return models

    def deploy(
        self,
        version: str,
        group: str = "all",
        canary: str = "",
        stages: str = "100",
        gate: str = "",
        max_install_failures: float = 0.05,
    ) -> dict[str, Any]:
        return self._call(
            "POST",
            "/api/rollouts",
            json={
                "version": version,
                "group": group,
                "canary": canary,
                "stages": stages,
                "gate": gate,
                "max_install_failures": max_install_failures,
            },
        )

    def rollouts(self) -> list[dict[str, Any]]:
        rollouts: list[dict[str, Any]] = self._call("GET", "/api/rollouts")["rollouts"]
        return rollouts

    def rollout(self, rollout_id: int) -> dict[str, Any]:
        return self._call("GET", f"/api/rollouts/{rollout_id}")

    def rollback(self, rollout_id: int) -> dict[str, Any]:
        return self._call("POST", f"/api/rollouts/{rollout_id}/rollback")

    def dashboard(self) -> dict[str, Any]:
        return self._call("GET", "/api/dashboard")

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/api/stats")
