"""The fleet HTTP API (FastAPI) and the dashboard, over one :class:`FleetService`.

Handlers parse the request and call the service; they never touch the store. Admin routes need
``Authorization: Bearer <admin token>``; device routes need the device's own token. Tokens
travel only in headers, never in URLs, and are never logged. The dashboard is a static page
that reads ``/api/dashboard``, the same JSON the CLI gets.

Every request is checked before its body is read: a body larger than the route's limit gets
413, an admin route without the admin token 401/403. Every bad body or parameter gets a 4xx
with a one-line ``detail``, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response

from edgecraft.fleet import names
from edgecraft.fleet.infer import Cloud
from edgecraft.fleet.records import BadRequest, Conflict, Device, NotFound
from edgecraft.fleet.service import MAX_ID, FleetService

DASHBOARD_DIR = Path(__file__).parent / "dashboard"
MAX_BODY = 1 << 20  # 1 MiB for every route but publishing
MAX_PUBLISH_BODY = 64 << 20  # a base64 model and its firmware files
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_OPEN = ("/api/health", "/api/device/", "/api/artifacts/", "/api/deltas/", "/api/infer")


def _bearer(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        raise HTTPException(401, "missing bearer token")
    return auth[7:].strip()


async def _device(request: Request) -> Device:
    """The device whose token the request carries (403 for any other token)."""
    service: FleetService = request.app.state.service
    d = service.device_for_token(_bearer(request))
    if d is None:
        raise HTTPException(403, "unknown device token")
    return d


DeviceDep = Annotated[Device, Depends(_device)]


class Guard:
    """ASGI middleware: refuse oversized bodies and unauthorized admin calls before reading."""

    def __init__(self, app: Any, service: FleetService) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = MAX_PUBLISH_BODY if path == "/api/models" else MAX_BODY
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length", "0")
        if not length.isdigit() or int(length) > limit:
            await _answer(send, 413, f"request body over {limit} bytes")
            return
        if path.startswith("/api/") and not path.startswith(_OPEN):
            auth = headers.get("authorization", "")
            if not auth.lower().startswith("bearer "):
                await _answer(send, 401, "missing bearer token")
                return
            if not self.service.is_admin(auth[7:].strip()):
                await _answer(send, 403, "admin token required")
                return
        # Read the body here, counting (a chunked body states no length), then hand it on.
        chunks, seen, more = [], 0, True
        while more:
            msg = await receive()
            if msg["type"] != "http.request":
                return  # the client went away
            chunks.append(msg.get("body", b""))
            seen += len(chunks[-1])
            more = msg.get("more_body", False)
            if seen > limit:
                await _answer(send, 413, f"request body over {limit} bytes")
                return
        body, sent = b"".join(chunks), False

        async def replay() -> MutableMapping[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# request fields: each raises BadRequest (400) with the field's name --------------------------
def _str(body: dict[str, Any], key: str, default: str | None = None, limit: int = 256) -> str:
    v = body.get(key, default)
    if not isinstance(v, str) or len(v) > limit:
        raise BadRequest(f"{key} must be a string of at most {limit} characters")
    return v


def _int(body: dict[str, Any], key: str, default: int) -> int:
    v = body.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or not -MAX_ID <= v <= MAX_ID:
        raise BadRequest(f"{key} must be an integer")
    return v


def _float(body: dict[str, Any], key: str, default: float) -> float:
    v = body.get(key, default)
    if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
        raise BadRequest(f"{key} must be a finite number")
    return float(v)


def _list(body: dict[str, Any], key: str) -> list[Any]:
    v = body.get(key) or []
    if not isinstance(v, list):
        raise BadRequest(f"{key} must be a list")
    return v


def _b64(value: Any, what: str) -> bytes:
    try:
        if not isinstance(value, str):
            raise ValueError
        return base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raise BadRequest(f"{what} must be base64 text") from None


def _rollout_id(value: int) -> int:
    if not 0 < value <= MAX_ID:
        raise NotFound(f"no rollout {value}")
    return value


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
    app.add_middleware(Guard, service=service)

    def admin(request: Request) -> None:
        if not service.is_admin(_bearer(request)):
            raise HTTPException(403, "admin token required")

    @app.exception_handler(BadRequest)
    async def _bad_request(_r: Request, e: Exception) -> JSONResponse:
        status = 404 if isinstance(e, NotFound) else 409 if isinstance(e, Conflict) else 400
        return JSONResponse({"detail": str(e).split("\n")[0]}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, e: RequestValidationError) -> JSONResponse:
        errs = e.errors()
        where = ".".join(str(x) for x in errs[0].get("loc", ())) if errs else "request"
        msg = errs[0].get("msg", "invalid") if errs else "invalid"
        return JSONResponse({"detail": f"bad request: {where}: {msg}"[:300]}, status_code=422)

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
    def health() -> JSONResponse:
        h = service.health()
        return JSONResponse(h, status_code=200 if h["ok"] else 503)

    # admin ---------------------------------------------------------------------------------
    @app.post("/api/devices", dependencies=[Depends(admin)])
    def provision(body: dict[str, Any]) -> dict[str, Any]:
        if "devices" in body:
            specs = _list(body, "devices")
            if not all(isinstance(s, dict) for s in specs):
                raise BadRequest("devices must be a list of objects {id, board, group, tags}")
            return service.provision(specs)
        return service.provision_range(
            _int(body, "count", 1),
            _str(body, "prefix", "dev", 40),
            _int(body, "start", 0),
            _str(body, "board", "", 64),
            _str(body, "group", "default", 64),
            _list(body, "tags"),
        )

    @app.get("/api/devices", dependencies=[Depends(admin)])
    def list_devices(group: str | None = None) -> dict[str, Any]:
        return {"devices": service.devices(group)}

    @app.post("/api/models", dependencies=[Depends(admin)])
    def publish(body: dict[str, Any]) -> dict[str, Any]:
        if "model" not in body:
            raise BadRequest("body needs model (base64 .tflite) and optional firmware files")
        firmware = body.get("firmware") or {}
        metrics = body.get("metrics") or {}
        if not isinstance(firmware, dict) or not isinstance(metrics, dict):
            raise BadRequest("firmware and metrics must be JSON objects")
        return service.publish(
            _b64(body["model"], "model"),
            names.version(body.get("version")),
            [str(b) for b in _list(body, "boards")],
            metrics,
            {str(k): _b64(v, f"firmware file {str(k)[:40]!r}") for k, v in firmware.items()},
        )

    @app.get("/api/models", dependencies=[Depends(admin)])
    def list_models() -> dict[str, Any]:
        return {"models": service.models()}

    @app.post("/api/rollouts", dependencies=[Depends(admin)])
    def deploy(body: dict[str, Any]) -> dict[str, Any]:
        return service.deploy(
            names.version(body.get("version")),
            _str(body, "group", "all", 64),
            _str(body, "canary", ""),
            _str(body, "stages", "100"),
            _str(body, "gate", "", 1024),
            _float(body, "max_install_failures", 0.05),
        )

    @app.get("/api/rollouts", dependencies=[Depends(admin)])
    def list_rollouts() -> dict[str, Any]:
        return {"rollouts": service.rollouts()}

    @app.get("/api/rollouts/{rollout_id}", dependencies=[Depends(admin)])
    def get_rollout(rollout_id: int) -> dict[str, Any]:
        return service.rollout(_rollout_id(rollout_id))

    @app.post("/api/rollouts/{rollout_id}/rollback", dependencies=[Depends(admin)])
    def rollback(rollout_id: int) -> dict[str, Any]:
        return service.rollback(_rollout_id(rollout_id))

    @app.get("/api/dashboard", dependencies=[Depends(admin)])
    def dashboard() -> dict[str, Any]:
        return service.dashboard()

    @app.get("/api/stats", dependencies=[Depends(admin)])
    def stats() -> dict[str, Any]:
        return service.stats()

    # devices -------------------------------------------------------------------------------
    @app.post("/api/device/register")
    def register(body: dict[str, Any], d: DeviceDep) -> dict[str, Any]:
        return service.register(
            d, _str(body, "board", d.board, 64), _str(body, "firmware", "", 64), _str(body, "runtime", "", 64)
        )

    @app.get("/api/artifacts/{version}")
    async def artifact(version: str, _d: DeviceDep) -> Response:
        data = service.artifact(names.version(version))
        if data is None:
            raise NotFound(f"no artifact {version}")
        return Response(data, media_type="application/zip")

    @app.get("/api/deltas/{base}/{target}")
    async def delta(base: str, target: str, _d: DeviceDep) -> Response:
        data = service.delta(names.version(base), names.version(target))
        if data is None:
            raise NotFound(f"no delta {base} -> {target}")
        return Response(data, media_type="application/zip")

    cfg = service.cfg
    cloud = Cloud.from_config(cfg.cloud_model, cfg.cloud_weights, cfg.infer_rate)

    @app.post("/api/infer")
    def infer(body: dict[str, Any], d: DeviceDep) -> JSONResponse:
        """The cascade: the registered cloud model answers a device (see ``fleet/infer.py``)."""
        status, out, headers = cloud.answer(d.id, body)
        return JSONResponse(out, status_code=status, headers=headers)

    return app


def run(service: FleetService, host: str = "127.0.0.1", port: int = 0, on_ready: Any = None) -> None:
    """Serve ``service`` with uvicorn until interrupted; ``on_ready(url)`` once it listens."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    url = f"http://{host}:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        create_app(service, (lambda: on_ready(url)) if on_ready else None),
        log_level="warning",
        access_log=False,
    )
    uvicorn.Server(config).run(sockets=[sock])
