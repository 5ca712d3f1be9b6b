"""The fleet HTTP API (FastAPI) and the dashboard, over one :class:`FleetService`.

Admin routes need ``Authorization: Bearer <admin token>``; device routes need the device's own
token. Tokens travel only in headers, never in URLs, and are never logged. The dashboard is a
static page that reads ``/api/dashboard``, the same JSON the CLI gets.
"""

from __future__ import annotations

import base64
import binascii
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from edgecraft.fleet import rollouts
from edgecraft.fleet.service import FleetService, token_hash

DASHBOARD_DIR = Path(__file__).parent / "dashboard"


def _bearer(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        raise HTTPException(401, "missing bearer token")
    return auth[7:].strip()


async def _device(request: Request) -> dict[str, Any]:
    """The device whose token the request carries (403 for any other token)."""
    service: FleetService = request.app.state.service
    d = service.device_for_token(token_hash(_bearer(request)))
    if d is None:
        raise HTTPException(403, "unknown device token")
    return d


Device = Annotated[dict[str, Any], Depends(_device)]


def create_app(service: FleetService, on_ready: Callable[[], None] | None = None) -> FastAPI:
    """The FastAPI app for ``service``; the app starts and stops the service (and calls
    ``on_ready`` once it runs) in its lifespan, so a SIGTERM still stops the broker it started."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        service.start()
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            service.stop()

    app = FastAPI(title="edgecraft fleet", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.service = service

    def admin(request: Request) -> None:
        if not service.is_admin(_bearer(request)):
            raise HTTPException(403, "admin token required")

    @app.exception_handler(rollouts.RolloutError)
    async def _bad_request(_r: Request, e: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=400)

    @app.get("/")
    def index() -> FileResponse:
        return FileResponse(DASHBOARD_DIR / "index.html")

    @app.get("/static/{name}")
    def static(name: str) -> FileResponse:
        path = DASHBOARD_DIR / name
        if "/" in name or not path.is_file():
            raise HTTPException(404, "no such file")
        return FileResponse(path)

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "instance": service.instance}

    # admin ---------------------------------------------------------------------------------
    @app.post("/api/devices", dependencies=[Depends(admin)])
    def provision(body: dict[str, Any]) -> dict[str, Any]:
        specs = body.get("devices")
        if specs is None:
            n, prefix = int(body.get("count", 1)), str(body.get("prefix", "dev"))
            specs = [
                {
                    "id": f"{prefix}-{i:05d}",
                    "board": body.get("board", ""),
                    "group": body.get("group", "default"),
                    "tags": body.get("tags", []),
                }
                for i in range(int(body.get("start", 0)), int(body.get("start", 0)) + n)
            ]
        for s in specs:
            if not isinstance(s.get("id"), str) or not s["id"].replace("-", "").replace("_", "").isalnum():
                raise HTTPException(400, f"bad device id {s.get('id')!r}: use letters, digits, - and _")
        known = {d["id"] for d in service.store.devices()}
        clash = [s["id"] for s in specs if s["id"] in known]
        if clash:
            raise HTTPException(409, f"device {clash[0]} exists already")
        return {"devices": service.provision(specs), **service.device_config()}

    @app.get("/api/devices", dependencies=[Depends(admin)])
    def list_devices(group: str | None = None) -> dict[str, Any]:
        return {"devices": service.store.devices(group)}

    @app.post("/api/models", dependencies=[Depends(admin)])
    def publish(body: dict[str, Any]) -> dict[str, Any]:
        try:
            model = base64.b64decode(body["model"], validate=True)
            firmware = {
                k: base64.b64decode(v, validate=True) for k, v in (body.get("firmware") or {}).items()
            }
        except (KeyError, binascii.Error):
            raise HTTPException(
                400, "body needs model (base64 .tflite) and optional firmware files"
            ) from None
        try:
            return service.publish(
                model,
                str(body["version"]),
                list(body.get("boards") or []),
                dict(body.get("metrics") or {}),
                firmware,
            )
        except ValueError as e:
            raise HTTPException(400, str(e).split("\n")[0]) from None

    @app.get("/api/models", dependencies=[Depends(admin)])
    def list_models() -> dict[str, Any]:
        return {"models": service.store.models()}

    @app.post("/api/rollouts", dependencies=[Depends(admin)])
    def deploy(body: dict[str, Any]) -> dict[str, Any]:
        stages = rollouts.parse_stages(str(body.get("canary", "")), str(body.get("stages", "100")))
        gate = rollouts.parse_gate(str(body.get("gate", "")))
        rid = rollouts.create(
            service.store,
            str(body["version"]),
            str(body.get("group", "all")),
            stages,
            gate,
            float(body.get("max_install_failures", 0.05)),
        )
        r = service.store.rollout(rid)
        assert r is not None
        return rollouts.summary(service.store, r)

    @app.get("/api/rollouts", dependencies=[Depends(admin)])
    def list_rollouts() -> dict[str, Any]:
        return {"rollouts": [rollouts.summary(service.store, r) for r in service.store.rollouts()]}

    @app.get("/api/rollouts/{rollout_id}", dependencies=[Depends(admin)])
    def get_rollout(rollout_id: int) -> dict[str, Any]:
        r = service.store.rollout(rollout_id)
        if r is None:
            raise HTTPException(404, f"no rollout {rollout_id}")
        return rollouts.summary(service.store, r)

    @app.post("/api/rollouts/{rollout_id}/rollback", dependencies=[Depends(admin)])
    def rollback(rollout_id: int) -> dict[str, Any]:
        started = rollouts.request_rollback(service.store, rollout_id)
        r = service.store.rollout(rollout_id)
        assert r is not None
        return {"rollback_started": started, **rollouts.summary(service.store, r)}

    @app.get("/api/dashboard", dependencies=[Depends(admin)])
    def dashboard() -> dict[str, Any]:
        return service.dashboard()

    @app.get("/api/stats", dependencies=[Depends(admin)])
    def stats() -> dict[str, Any]:
        assert service.bridge is not None
        return {
            "counts": service.store.counts(),
            "ingested": service.bridge.ingested,
            "rejected": service.rejected + service.bridge.rejected,
            "instance": service.instance,
        }

    # devices -------------------------------------------------------------------------------
    @app.post("/api/device/register")
    def register(body: dict[str, Any], d: Device) -> dict[str, Any]:
        service.store.update_device(
            d["id"],
            board=str(body.get("board", d["board"]))[:64],
            firmware=str(body.get("firmware", ""))[:64],
            runtime=str(body.get("runtime", ""))[:64],
        )
        return {"id": d["id"], **service.device_config()}

    @app.get("/api/artifacts/{version}")
    async def artifact(version: str, _d: Device) -> Response:
        data = service.artifact(version)
        if data is None:
            raise HTTPException(404, f"no artifact {version}")
        return Response(data, media_type="application/zip")

    @app.get("/api/deltas/{base}/{target}")
    async def delta(base: str, target: str, _d: Device) -> Response:
        data = service.delta(base, target)
        if data is None:
            raise HTTPException(404, f"no delta {base} -> {target}")
        return Response(data, media_type="application/zip")

    return app


def run(service: FleetService, host: str = "127.0.0.1", port: int = 0, on_ready: Any = None) -> None:
    """Serve ``service`` with uvicorn until interrupted; ``on_ready(url)`` once it listens."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    url = f"http://{host}:{sock.getsockname()[1]}"
    if not service.cfg.instance:
        # Stable across restarts on the same port: the broker keeps this instance's queued messages.
        service.instance = f"{socket.gethostname()}-{sock.getsockname()[1]}"
    config = uvicorn.Config(
        create_app(service, (lambda: on_ready(url)) if on_ready else None),
        log_level="warning",
        access_log=False,
    )
    uvicorn.Server(config).run(sockets=[sock])
