"""The device agent: plays one device against the fleet server; many run in one asyncio loop.

This module holds the device's life cycle and its broker connection; what it does lives in
:mod:`edgecraft.fleet.ota` (commands and updates) and :mod:`edgecraft.fleet.telemetry` (runs of
the active model and what is reported about them). Faults are injected by the simulator
(:mod:`edgecraft.fleet.sim`), which hands an agent faulty storage or a tampering network.

An agent logs in to the broker with its id and token, listens on its own command topic, and
publishes telemetry, anomaly events and reports with QoS 1. Messages carry ``msg_id`` = boot
number * 10^6 + a counter, so the server stores a resent message once. The broker's
acknowledgement is not enough (a broker killed with SIGKILL forgets what it took in since its
last save), so every message stays in the agent's :class:`Outbox` until the server says it is
stored (a message on the device's ``ack`` topic): unconfirmed messages are sent again after each
reconnect (those the broker had acknowledged; paho resends the others) and whenever one has
waited ``ack_timeout_s``. The outbox holds ``outbox_size`` messages: when full, the oldest
telemetry or anomaly message is dropped (and counted in ``Agent.dropped``; while a server outage
lasts, the newest measurements matter more); reports are never dropped, so an outbox of reports
alone may exceed its size. The agent reconnects on its own
after a broker restart, and downloads retry while the server is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from edgecraft.device.cascade import Policy
from edgecraft.fleet.infer import DeviceCascade
from edgecraft.fleet.mqtt import ack_topic, cmd_topic, up_topic
from edgecraft.fleet.ota import Fetch, Ota
from edgecraft.fleet.slots import Slots
from edgecraft.fleet.telemetry import DataSource, ModelCache, Telemetry


class Halt(BaseException):
    """The device stops at once, as when its power fails: no clean-up, nothing more is sent.

    Raised by simulated hardware (see :class:`edgecraft.fleet.sim.PowerLoss`); a BaseException so
    that no handler in the update path mistakes it for an error to report.
    """


@dataclass
class AgentConfig:
    """Who the device is and where it reports to."""

    device_id: str
    token: str
    root: Path
    server_urls: list[str]
    mqtt_host: str
    mqtt_port: int
    public_key: str
    board: str = "sim"
    firmware: str = "1.0.0"
    runtime: str = "edgecraft-0.1"
    telemetry_s: float = 1.0
    model_budget_bytes: int = 1 << 20
    low_confidence: float = 0.35
    ack_timeout_s: float = 20.0
    outbox_size: int = 1000
    #: the edge-cloud cascade: ``{"threshold": 0.6, "confidence": "top", "deadline_s": 1.0}`` (None: off)
    cascade: dict[str, Any] | None = None


@dataclass
class Pending:
    """A message the server has not confirmed yet: where it goes, what it says, how it is doing."""

    topic: str
    payload: str
    kind: str
    sent_at: float | None = None  # monotonic time of the last send; None: never sent
    broker_acked: bool = False  # the broker acknowledged the last send (it may still lose it)
    sends: int = 0


class Outbox:
    """Messages by id, oldest first, until the server confirms them (see the module docstring)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: dict[int, Pending] = {}
        self.dropped: dict[str, int] = {"telemetry": 0, "anomaly": 0}

    def __len__(self) -> int:
        return len(self.items)

    def add(self, msg_id: int, item: Pending) -> None:
        """Keep ``item``; over the bound, drop the oldest telemetry or anomaly message (``item``
        itself when all others are reports; a report is always kept)."""
        self.items[msg_id] = item
        if len(self.items) > self.size:
            old = next((k for k, v in self.items.items() if v.kind != "report"), None)
            if old is not None:
                self.dropped[self.items.pop(old).kind] += 1

    def confirm(self, runs: Any) -> None:
        """Forget the messages in ``runs`` (``[[first, last], ...]`` from the server)."""
        for run in runs if isinstance(runs, list) else []:
            if not (isinstance(run, list) and len(run) == 2 and all(isinstance(x, int) for x in run)):
                continue
            lo, hi = run
            if hi - lo < len(self.items):
                for i in range(lo, hi + 1):
                    self.items.pop(i, None)
            else:
                for i in [k for k in self.items if lo <= k <= hi]:
                    del self.items[i]

    def due(self, now: float, timeout: float, reconnect: bool = False) -> list[tuple[int, Pending]]:
        """Messages to send again: unsent ones, timed-out ones (the wait doubles with each send,
        up to 8 ``timeout``: a server that is down for long gets no flood of copies), and after a
        reconnect those the broker acknowledged (paho itself resends those it did not)."""
        return [
            (k, v)
            for k, v in self.items.items()
            if v.sent_at is None
            or v.sent_at < now - timeout * 2 ** min(v.sends - 1, 3)
            or (reconnect and v.broker_acked)
        ]


class Agent:
    """One device. Use :meth:`start` inside a running asyncio loop; :meth:`stop` to power off.

    ``fetch`` downloads from the server (an :class:`~edgecraft.fleet.ota.Downloader`, shared by
    the agents of one loop); ``cache`` shares interpreters between agents (one is made when not
    given); ``slots`` is the device's storage (its root in ``cfg.root`` when not given).
    """

    def __init__(
        self,
        cfg: AgentConfig,
        source: DataSource,
        fetch: Fetch,
        cache: ModelCache | None = None,
        slots: Slots | None = None,
    ) -> None:
        self.cfg, self.source = cfg, source
        self.slots = slots if slots is not None else Slots(cfg.root)
        cache = cache if cache is not None else ModelCache()
        self.telemetry = Telemetry(self.slots, source, cache, cfg.low_confidence)
        self.ota = Ota(
            cfg.device_id,
            cfg.token,
            cfg.public_key,
            cfg.server_urls,
            self.slots,
            fetch,
            cache,
            source,
            self.report,
            cfg.model_budget_bytes,
        )
        self.cascade = None
        if cfg.cascade is not None:
            c = cfg.cascade
            policy = Policy(float(c["threshold"]), c.get("confidence", "top"), "features")
            self.cascade = DeviceCascade(policy, float(c.get("deadline_s", 1.0)))
        self._http = getattr(fetch, "http", None)  # the cascade's HTTP client: the downloads' one
        self.boot_no = 0
        self.seq = 0
        self.sent: dict[str, int] = {"telemetry": 0, "anomaly": 0, "report": 0}
        self.outbox = Outbox(cfg.outbox_size)
        self._mids: dict[int, int] = {}  # paho message id -> msg_id, until the broker's PUBACK
        self.received = 0
        self.connected = False
        self.subscribed = False  # the broker confirmed the command and ack subscriptions
        self.auth_failed = False
        self.commands: asyncio.Queue[Any] = asyncio.Queue()
        self.tasks: list[asyncio.Task[Any]] = []
        self.dead: BaseException | None = None
        self._connecting: asyncio.Future[Any] | None = None
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=cfg.device_id, clean_session=False
        )
        self.client.username_pw_set(cfg.device_id, cfg.token)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = lambda *_a: setattr(self, "subscribed", True)

    # life cycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Boot from the slots on disk and start connecting, taking commands and reporting."""
        self.boot_no = self.slots.boot()
        self._attach_to_loop(asyncio.get_running_loop())
        self.online = asyncio.Event()
        self.report("boot", None, "", None)
        self.tasks = [
            asyncio.create_task(t)
            for t in (self._connect_loop(), self._command_loop(), self._telemetry_loop())
        ]

    async def stop(self) -> None:
        """Power off: stop the tasks and drop the connection (buffered messages are lost)."""
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self._connecting is not None:  # a connect in flight finishes before the socket goes
            await asyncio.gather(self._connecting, return_exceptions=True)
        if self.client.socket() is not None:
            self.client.disconnect()

    def quiet(self) -> None:
        """Stop sending telemetry (the device stays connected and still takes commands)."""
        self.tasks[2].cancel()

    def misc(self) -> None:
        """Keep-alive and timeouts; the owner of the loop calls this about once a second."""
        if self.connected:
            self.client.loop_misc()
            self._send_due()

    def _halt(self, why: BaseException) -> None:
        self.dead = why
        self.client.disconnect()
        for t in self.tasks:
            if t is not asyncio.current_task():
                t.cancel()

    # connection ----------------------------------------------------------------------------
    def _attach_to_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Drive paho from ``loop``: it says when its socket needs reading or writing.

        paho may call these from the thread that connects (see :meth:`_connect_loop`), so each
        registration is handed to the loop thread-safely.
        """
        c, loop_thread = self.client, threading.get_ident()

        def soon(fn: Any, *args: Any) -> None:
            if threading.get_ident() == loop_thread:
                fn(*args)
                return

            def call() -> None:
                with contextlib.suppress(ValueError, OSError):  # the socket closed meanwhile
                    fn(*args)

            loop.call_soon_threadsafe(call)

        c.on_socket_open = lambda _c, _u, s: soon(loop.add_reader, s, c.loop_read)
        c.on_socket_close = lambda _c, _u, s: soon(loop.remove_reader, s)
        c.on_socket_register_write = lambda _c, _u, s: soon(loop.add_writer, s, c.loop_write)
        c.on_socket_unregister_write = lambda _c, _u, s: soon(loop.remove_writer, s)

    async def _connect_loop(self) -> None:
        # paho's connect blocks while the TCP connection opens: run it on a worker thread, as
        # paho's own loop_start() would, so a slow or unreachable broker never stalls the loop.
        loop, delay = asyncio.get_running_loop(), 0.2
        self.client.connect_timeout = 5.0
        while True:
            if not self.connected and self.client.socket() is None:
                self._connecting = loop.run_in_executor(
                    None, self.client.connect, self.cfg.mqtt_host, self.cfg.mqtt_port, 15
                )
                try:
                    await asyncio.shield(self._connecting)
                    delay = 0.2
                except (TimeoutError, OSError):
                    delay = min(delay * 2, 2.0)
            await asyncio.sleep((1.0 if self.connected else delay) * (0.5 + random.random()))

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            self.auth_failed = True
            return
        self.connected = True
        self.online.set()
        client.subscribe([(cmd_topic(self.cfg.device_id), 1), (ack_topic(self.cfg.device_id), 0)])
        self._send_due(reconnect=True)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, _rc: Any, _p: Any) -> None:
        self.connected = self.subscribed = False

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, _rc: Any, _p: Any) -> None:
        item = self.outbox.items.get(self._mids.pop(mid, -1))
        if item is not None:
            item.broker_acked = True

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic.endswith("/ack"):
            with contextlib.suppress(ValueError, AttributeError):
                self.outbox.confirm(json.loads(msg.payload).get("ids"))
            return
        self.received += 1
        try:
            self.commands.put_nowait(json.loads(msg.payload))
        except ValueError:
            self.report("command_refused", None, "command is not JSON", None)

    # messages ------------------------------------------------------------------------------
    def _publish(self, kind: str, body: dict[str, Any]) -> None:
        self.seq += 1
        body = {"msg_id": self.boot_no * 1_000_000 + self.seq, "ts": time.time(), **body}
        self.sent[kind] += 1
        item = Pending(up_topic(self.cfg.device_id, kind), json.dumps(body), kind)
        self.outbox.add(body["msg_id"], item)
        if self.connected:  # else it goes out when the connection is up (see _on_connect)
            self._send(body["msg_id"], item)

    def _send(self, msg_id: int, item: Pending) -> None:
        item.sent_at, item.broker_acked = time.monotonic(), False
        item.sends += 1
        self._mids[self.client.publish(item.topic, item.payload, qos=1).mid] = msg_id

    def _send_due(self, reconnect: bool = False) -> None:
        for msg_id, item in self.outbox.due(time.monotonic(), self.cfg.ack_timeout_s, reconnect):
            self._send(msg_id, item)

    @property
    def pending(self) -> int:
        """Messages made and kept, not yet confirmed stored by the server."""
        return len(self.outbox)

    @property
    def dropped(self) -> dict[str, int]:
        """Messages dropped from a full outbox, by kind (telemetry and anomalies only)."""
        return self.outbox.dropped

    def state(self) -> dict[str, Any]:
        """What the device reports about itself: slots, health, board, firmware, runtime."""
        health = "ok" if self.slots.active and self.slots.intact(self.slots.active) else "no-model"
        return {
            **self.slots.summary(),
            "health": health,
            "board": self.cfg.board,
            "firmware": self.cfg.firmware,
            "runtime": self.cfg.runtime,
        }

    def report(self, kind: str, rollout_id: int | None, detail: str, version: str | None) -> None:
        """Publish a report (``version`` defaults to the active one)."""
        self._publish(
            "report",
            {
                "type": kind,
                "rollout_id": rollout_id,
                "detail": detail,
                "version": version or self.slots.version(self.slots.active),
                "state": self.state(),
            },
        )

    # the device's work ---------------------------------------------------------------------
    async def _telemetry_loop(self) -> None:
        await self.online.wait()  # from then on, messages are buffered across disconnections
        await asyncio.sleep(random.random() * self.cfg.telemetry_s)
        while True:
            if self.cascade is None:
                self.telemetry_once()
            else:
                await self.cascade_once()
            await asyncio.sleep(self.cfg.telemetry_s)

    def telemetry_once(self) -> None:
        """Run the active model on one batch from the data source and publish what happened."""
        for kind, body in self.telemetry.measure():
            self._publish(kind, body)

    async def cascade_once(self) -> None:
        """As :meth:`telemetry_once`, with the cascade (:meth:`DeviceCascade.measure`): unsure
        rows go to the server's ``/api/infer`` within the deadline, locally answered and counted
        when it fails; the telemetry says how many were ``escalated`` and how many fell back."""
        assert self.cascade is not None
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(timeout=30)
        urls, token = self.cfg.server_urls, self.cfg.token
        for kind, body in await self.cascade.measure(self.telemetry, self._http, urls, token):
            self._publish(kind, body)

    async def _command_loop(self) -> None:
        while True:
            message = await self.commands.get()
            try:
                await self.ota.handle(message)
            except Halt as e:
                self._halt(e)
                return
