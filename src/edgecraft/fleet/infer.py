"""The cascade's server side (``POST /api/infer``) and a device's client for it.

The operator registers the cloud model when starting the server
(``edgecraft fleet serve --cloud-model M``): any ``.tflite`` or int8 ``.onnx`` edgecraft runs
(read by :func:`edgecraft.formats.read_model`), or
``MODEL.py:FACTORY`` (a float PyTorch model, ``--cloud-weights`` for its state dict). A device
whose confidence is too low (:mod:`edgecraft.device.cascade`) posts what it decided to send,
authenticated with its own token::

    {"shape": [N, ...], "dtype": "int8" | "int16" | "float32", "scale": s, "zero_point": z,
     "data": "<base64 of the N samples, C order>"}

The server dequantizes (``(q - z) * s``), feeds the cloud model (its own input quantization for
a model file, float for PyTorch) and answers ``{"classes": [...], "probabilities": [[...]],
"server_ms": ...}``. What is sent must be what the model takes: features for a model on the
device's front end, an embedding for a model trained on the edge model's embeddings, raw
samples for a model that holds its own front end. Limits: 1 MiB per request (the server's
body limit), ``MAX_SAMPLES`` samples, and a token bucket per device (``rate`` requests per
second, bursts of ``2 * rate``): over it the answer is 429 with ``Retry-After``.

:class:`DeviceCascade` is the device's half: it escalates the rows its policy picks in one
request bounded by ``deadline_s`` and, when the server is unreachable, slow, refusing or
rate-limiting, answers those rows locally and counts them (``fallbacks``): no hang and no
lost event.
"""

from __future__ import annotations

import base64
import binascii
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgecraft.device.cascade import CascadeError, Policy, as_probabilities
from edgecraft.fleet.records import BadRequest

MAX_SAMPLES = 256
DTYPES = {"int8": np.int8, "int16": np.int16, "float32": np.float32}


class CloudModel:
    """The registered cloud model: ``predict(x)`` -> probabilities ``(N, K)`` for float ``x``."""

    def __init__(self, spec: str, weights: Path | None = None) -> None:
        self.spec = spec
        self.graph: Any = None
        self.torch: Any = None
        self._lock = threading.Lock()
        if Path(spec).suffix.lower() in (".tflite", ".onnx"):
            from edgecraft.formats import ModelFormatError, read_model
            from edgecraft.runtime import Interpreter

            if not Path(spec).is_file():
                raise CascadeError(f"cloud model {spec}: no such file")
            try:
                self.graph = read_model(spec)
            except ModelFormatError as e:
                raise CascadeError(f"cloud model {e}") from None
            self.interp = Interpreter(self.graph)
        elif ".py:" in spec:
            from edgecraft.optimize.loader import load_factory

            try:
                self.torch, _ = load_factory(spec, weights)
            except ValueError as e:
                raise CascadeError(f"cloud model {spec}: {e}") from None
        else:
            raise CascadeError(f"cloud model {spec!r}: give a .tflite or int8 .onnx file or MODEL.py:FACTORY")

    def sample_shape(self) -> tuple[int, ...] | None:
        """The shape of one input sample, when the model declares it (a model file does)."""
        return None if self.graph is None else tuple(self.graph.input_tensors()[0].shape[1:])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probabilities for each float sample of ``x`` (``(N, ...)``)."""
        if self.torch is not None:
            import torch

            with self._lock, torch.no_grad():
                y = self.torch(torch.from_numpy(np.ascontiguousarray(x, np.float32))).numpy()
            return as_probabilities(np.asarray(y).reshape(len(x), -1))
        t_in, t_out = self.graph.input_tensors()[0], self.graph.output_tensors()[0]
        batch = int(t_in.shape[0])
        x = x.reshape(len(x), *t_in.shape[1:])
        rows = []
        for i in range(0, len(x), batch):
            chunk = np.zeros(tuple(t_in.shape), np.float32)
            part = x[i : i + batch]
            chunk[: len(part)] = part
            q = (
                chunk
                if t_in.dtype == "float32"
                else _quantize(chunk, t_in.scale, t_in.zero_point, t_in.np_dtype)
            )
            y = self.interp.run([q])[0].reshape(batch, -1)[: len(part)].astype(np.float64)
            rows.append(y if t_out.dtype == "float32" else (y - t_out.zero_point) * t_out.scale)
        return as_probabilities(np.concatenate(rows))


def _quantize(x: np.ndarray, scale: float, zero_point: int, dtype: Any) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero_point, info.min, info.max).astype(dtype)


class RateLimiter:
    """A token bucket per device: ``rate`` requests per second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate, self.burst = rate, burst if burst is not None else max(1.0, 2 * rate)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """0.0 when ``key`` may go now (a token is taken), else the seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


def decode(body: Any, shape_of_sample: tuple[int, ...] | None) -> np.ndarray:
    """The float samples a request carries; :class:`BadRequest` naming the field otherwise."""
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object {shape, dtype, scale, zero_point, data}")
    shape, dtype = body.get("shape"), body.get("dtype", "int8")
    if not isinstance(shape, list) or not shape or not all(isinstance(v, int) and v > 0 for v in shape):
        raise BadRequest("shape must be a list of positive integers [N, ...]")
    if dtype not in DTYPES:
        raise BadRequest(f"dtype must be one of {', '.join(DTYPES)}")
    if shape[0] > MAX_SAMPLES:
        raise BadRequest(f"at most {MAX_SAMPLES} samples per request, got {shape[0]}")
    scale, zp = body.get("scale", 1.0), body.get("zero_point", 0)
    if (
        not isinstance(scale, int | float)
        or isinstance(scale, bool)
        or not math.isfinite(scale)
        or scale <= 0
    ):
        raise BadRequest("scale must be a finite number > 0")
    if not isinstance(zp, int) or isinstance(zp, bool) or abs(zp) > 1 << 16:
        raise BadRequest("zero_point must be an integer")
    try:
        raw = base64.b64decode(body.get("data") or "", validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise BadRequest("data must be base64 text") from None
    want = math.prod(shape) * np.dtype(DTYPES[dtype]).itemsize
    if len(raw) != want:
        raise BadRequest(f"data holds {len(raw)} bytes; shape {shape} of {dtype} needs {want}")
    x = np.frombuffer(raw, DTYPES[dtype]).reshape(shape)
    if dtype == "float32" and not np.isfinite(x).all():
        raise BadRequest("data holds NaN or infinity")
    if shape_of_sample is not None and math.prod(shape[1:]) != math.prod(shape_of_sample):
        raise BadRequest(f"the cloud model takes samples of shape {list(shape_of_sample)}; got {shape[1:]}")
    return (x.astype(np.float32) - np.float32(zp)) * np.float32(scale)


class Cloud:
    """What ``/api/infer`` serves: the registered model (or none) and the per-device limit."""

    def __init__(self, model: CloudModel | None, rate: float = 20.0) -> None:
        self.model, self.limiter = model, RateLimiter(rate)
        self.answered = self.refused = 0

    @classmethod
    def from_config(cls, spec: str, weights: str = "", rate: float = 20.0) -> Cloud:
        """The cloud of a server started with ``--cloud-model spec`` (none for ``""``)."""
        return cls(CloudModel(spec, Path(weights) if weights else None) if spec else None, rate)

    def answer(self, device_id: str, body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Status, JSON body and headers for one request of ``device_id``."""
        if self.model is None:
            return 503, {"detail": "no cloud model registered: start the server with --cloud-model"}, {}
        wait = self.limiter.take(device_id)
        if wait > 0:
            self.refused += 1
            return (
                429,
                {"detail": f"rate limit: retry in {wait:.2f} s"},
                {"Retry-After": str(math.ceil(wait))},
            )
        x = decode(body, self.model.sample_shape())
        t0 = time.perf_counter()
        try:
            p = self.model.predict(x)
        except (RuntimeError, ValueError, TypeError) as e:
            first = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
            raise BadRequest(f"the cloud model cannot take this input: {first}") from None
        self.answered += 1
        return (
            200,
            {
                "classes": p.argmax(axis=1).tolist(),
                "probabilities": np.round(p, 6).tolist(),
                "server_ms": round((time.perf_counter() - t0) * 1000, 3),
            },
            {},
        )


def encode(x: np.ndarray, scale: float, zero_point: int) -> dict[str, Any]:
    """The request body for quantized samples ``x`` (``(N, ...)``)."""
    dtype = str(x.dtype)
    if dtype not in DTYPES:
        raise CascadeError(f"cannot send {dtype} samples; send int8, int16 or float32")
    return {
        "shape": list(x.shape),
        "dtype": dtype,
        "scale": float(scale),
        "zero_point": int(zero_point),
        "data": base64.b64encode(np.ascontiguousarray(x).tobytes()).decode(),
    }


@dataclass
class DeviceCascade:
    """A device's cascade: escalate what ``policy`` picks, within ``deadline_s``; counts."""

    policy: Policy
    deadline_s: float = 1.0
    counts: dict[str, int] = field(default_factory=lambda: {"escalated": 0, "remote": 0, "fallbacks": 0})

    async def resolve(
        self,
        http: Any,
        urls: list[str],
        token: str,
        x: np.ndarray,
        scale: float,
        zero_point: int,
        probs: np.ndarray,
    ) -> tuple[np.ndarray, int, int]:
        """Final classes for the rows of ``x`` (local ``probs``): the cloud's for escalated rows
        when it answers in time, else the local ones. Returns (classes, escalated, fallbacks)."""
        import asyncio

        pred = probs.argmax(axis=1)
        up = np.flatnonzero(self.policy.escalate(probs))
        if len(up) == 0:
            return pred, 0, 0
        # counted when the outcome is known: a device stopped mid-request sends and counts nothing
        body, headers = encode(x[up], scale, zero_point), {"authorization": f"Bearer {token}"}
        try:
            r = await asyncio.wait_for(
                http.post(urls[0] + "/api/infer", json=body, headers=headers), self.deadline_s
            )
            got = r.json().get("classes") if r.status_code == 200 else None
            if not (isinstance(got, list) and len(got) == len(up) and all(isinstance(c, int) for c in got)):
                raise ConnectionError(f"status {r.status_code}")
        except Exception:  # unreachable, slow, refusing, rate-limited or garbled: answer locally
            self.counts["escalated"] += len(up)
            self.counts["fallbacks"] += len(up)
            return pred, len(up), len(up)
        pred = pred.copy()
        pred[up] = got
        self.counts["escalated"] += len(up)
        self.counts["remote"] += len(up)
        return pred, len(up), 0

    async def measure(self, telemetry: Any, http: Any, urls: list[str], token: str) -> list[tuple[str, Any]]:
        """One :meth:`~edgecraft.fleet.telemetry.Telemetry.measure` with the cascade applied:
        the messages to publish, the telemetry one with the final answers' ``correct`` count,
        ``escalated`` and ``fallbacks``."""
        messages = telemetry.measure()
        last = telemetry.last
        if not messages or last is None or last[2]["errors"]:
            return list(messages)
        xs, labels, r, model, sha = last
        q = telemetry.cache.interpreter(model, sha).graph.input_tensors()[0]
        pred, up, fell = await self.resolve(http, urls, token, xs[0], q.scale, q.zero_point, r["probs"])
        out = []
        for kind, body in messages:
            if kind == "telemetry":
                body = {**body, "escalated": up, "fallbacks": fell}
                if labels is not None:
                    body["correct"] = int((pred == labels).sum())
            out.append((kind, body))
        return out
