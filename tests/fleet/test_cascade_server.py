"""``POST /api/infer`` on a real server (``edgecraft fleet serve --cloud-model``): per-device
auth, exact answers of the registered model, size and shape limits, the per-device rate limit
(429 with Retry-After), and one-line 4xx for every bad body."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from edgecraft.fleet.infer import Cloud, CloudModel, RateLimiter, decode, encode
from edgecraft.fleet.records import BadRequest
from edgecraft.fleet.sim import IN_SCALE, classifier_model, task_weights
from edgecraft.formats import read_tflite_bytes
from edgecraft.runtime import Interpreter

pytestmark = pytest.mark.broker


def _expected(model: bytes, q: np.ndarray) -> list[int]:
    """The cloud model's classes for int8 rows ``q``, run one by one in edgecraft's runtime."""
    g = read_tflite_bytes(model)
    interp = Interpreter(g)
    return [int(interp.run([row[None]])[0].reshape(-1).argmax()) for row in q]


def test_infer_api_on_a_real_server(server_factory: Callable[..., Any], tmp_path: Path) -> None:
    cloud = classifier_model(task_weights(), batch=1, hidden=32)
    path = tmp_path / "cloud.tflite"
    path.write_bytes(cloud)
    server = server_factory(
        tmp_path / "state", "--port", "0", "--cloud-model", str(path), "--infer-rate", "1"
    )
    devs = server.client.provision(count=9)["devices"]
    q = np.random.default_rng(3).integers(-127, 128, (5, 16)).astype(np.int8)
    body = encode(q, IN_SCALE, 0)
    url = server.url + "/api/infer"

    def post(token: str | None, json: Any = None, **kw: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.post(url, json=json, headers=headers, timeout=30, **kw)

    assert post(None, body).status_code == 401
    assert post("not-a-device", body).status_code == 403
    admin = (tmp_path / "state" / "admin.token").read_text().strip()
    assert post(admin, body).status_code == 403  # the admin is no device
    r = post(devs[0]["token"], body)
    assert r.status_code == 200, r.text
    out = r.json()
    # the same int8 inputs requantized to the cloud's input scale (equal here): exact classes
    assert out["classes"] == _expected(cloud, q)
    assert np.allclose(np.sum(out["probabilities"], axis=1), 1.0, atol=1e-5) and out["server_ms"] >= 0
    bad = [
        ({**body, "data": "***"}, "base64"),
        ({**body, "shape": [5, 15]}, "needs"),
        ({**body, "shape": [1, 80], "data": base64.b64encode(bytes(80)).decode()}, "shape [16]"),
        ({**body, "dtype": "float64"}, "dtype"),
        ({**body, "scale": -1}, "scale"),
        ({**body, "shape": [300, 16], "data": base64.b64encode(bytes(4800)).decode()}, "at most"),
    ]
    other = devs[8]["token"]
    for i, (b, fragment) in enumerate(bad):  # one device each: a refused body spends a token too
        r = post(devs[2 + i]["token"], b)
        assert r.status_code == 400 and fragment in r.json()["detail"], (b.keys(), r.text)
        assert "\n" not in r.json()["detail"]
    assert post(other, content=b"[1, 2]", json=None).status_code == 422
    big = {**body, "data": "A" * (2 << 20)}
    assert post(other, big).status_code == 413
    # rate limit: 1 per second, bursts of 2, per device (the first device has spent one token)
    codes = []
    while len(codes) < 50 and 429 not in [c.status_code for c in codes]:
        codes.append(post(devs[0]["token"], body))
    refused = codes[-1]
    assert refused.status_code == 429 and len(codes) <= 10, [c.status_code for c in codes]
    assert post(devs[1]["token"], body).status_code == 200  # another device is not held back
    assert int(refused.headers["retry-after"]) >= 1 and "rate limit" in refused.json()["detail"]


def test_no_registered_model_and_limiter_by_hand() -> None:
    status, out, _ = Cloud(None).answer("dev-0", {})
    assert status == 503 and "--cloud-model" in out["detail"]
    lim = RateLimiter(rate=2.0)  # bursts of 4
    assert [lim.take("a", now=0.0) for _ in range(5)] == [0.0, 0.0, 0.0, 0.0, 0.5]
    assert lim.take("b", now=0.0) == 0.0  # per device
    assert lim.take("a", now=0.5) == 0.0 and lim.take("a", now=0.5) == 0.5
    with pytest.raises(BadRequest, match="NaN"):
        decode(encode(np.array([[np.nan]], np.float32), 1.0, 0), None)
    with pytest.raises(Exception, match="no such file"):
        CloudModel("missing.tflite")


def test_a_server_that_never_answers_costs_the_deadline_only() -> None:
    """A server that accepts the connection and then says nothing (hung, or a black hole on
    the way): the device answers locally once its deadline passes, and counts it."""
    import asyncio
    import time

    from edgecraft.device.cascade import Policy
    from edgecraft.fleet.infer import DeviceCascade

    async def scenario() -> tuple[list[int], int, int, float]:
        async def hold(_r: asyncio.StreamReader, _w: asyncio.StreamWriter) -> None:
            await asyncio.sleep(60)

        srv = await asyncio.start_server(hold, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        c = DeviceCascade(Policy(0.9), deadline_s=0.5)
        probs = np.array([[0.4, 0.6], [1.0, 0.0]])
        async with httpx.AsyncClient(timeout=30) as http:
            t0 = time.monotonic()
            x = np.zeros((2, 16), np.int8)
            pred, up, fell = await c.resolve(http, [f"http://127.0.0.1:{port}"], "t", x, 0.1, 0, probs)
            took = time.monotonic() - t0
        srv.close()
        assert c.counts == {"escalated": 1, "remote": 0, "fallbacks": 1}
        return pred.tolist(), up, fell, took

    pred, up, fell, took = asyncio.run(scenario())
    assert (pred, up, fell) == ([1, 0], 1, 1) and took < 2.0, took


def test_a_float_tflite_cloud_takes_dequantized_samples(tmp_path: Path) -> None:
    """A float .tflite as the cloud model: fed the dequantized samples, its logits' argmax."""
    from edgecraft.formats import write_tflite
    from edgecraft.ir import GraphBuilder

    w = task_weights().astype(np.float32)
    b = GraphBuilder("float_cloud")
    x = b.tensor("x", [2, 16], "float32")
    y = b.tensor("y", [2, 4], "float32")
    b.op(
        "FULLY_CONNECTED",
        [x, b.const("w", w), b.const("b", np.zeros(4, np.float32))],
        [y],
        fused_activation_function="NONE",
        keep_num_dims=False,
    )
    path = tmp_path / "float.tflite"
    path.write_bytes(write_tflite(b.build([x], [y])))
    q = np.random.default_rng(5).integers(-127, 128, (5, 16)).astype(np.int8)
    status, out, _ = Cloud(CloudModel(str(path))).answer("dev-0", encode(q, IN_SCALE, 3))
    want = ((q.astype(np.float32) - 3) * np.float32(IN_SCALE)) @ w.T
    assert status == 200 and out["classes"] == want.argmax(axis=1).tolist()
