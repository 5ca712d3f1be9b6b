"""The device agent: plays one device against the fleet server; many run in one asyncio loop.

This module holds the device's life cycle and its broker connection; what it does lives in
:mod:`edgecraft.fleet.ota` (commands and updates) and :mod:`edgecraft.fleet.telemetry` (runs of
the active model and what is reported about them). Faults are injected by the simulator
(:mod:`edgecraft.fleet.sim`), which hands an agent faulty storage or a tampering network.

An agent logs in to the broker with its id and token, listens on its own command topic, and
publishes telemetry, anomaly events and reports with QoS 1. Messages carry ``msg_id`` = boot
number * 10^6 + a counter, so the server stores a resent message once. paho keeps
unacknowledged messages and resends them after a reconnect; the agent reconnects on its own
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

from edgecraft.fleet.mqtt import cmd_topic, up_topic
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
        self.boot_no = 0
        self.seq = 0
        self.sent: dict[str, int] = {"telemetry": 0, "anomaly": 0, "report": 0}
        self.unacked: set[int] = set()
        self.received = 0
        self.connected = False
        self.auth_failed = False
        self.commands: asyncio.Queue[Any] = asyncio.Queue()
        self.tasks: list[asyncio.Task[Any]] = []
        self.dead: BaseException | None = None
        self._connecting: asyncio.Future[Any] | None = None
        self._held: list[tuple[str, str]] = []  # messages made while a connect is in flight
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=cfg.device_id, clean_session=False
        )
        self.client.username_pw_set(cfg.device_id, cfg.token)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish

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
                self._flush_held()
            await asyncio.sleep((1.0 if self.connected else delay) * (0.5 + random.random()))

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            self.auth_failed = True
            return
        self.connected = True
        self.online.set()
        client.subscribe(cmd_topic(self.cfg.device_id), qos=1)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, _rc: Any, _p: Any) -> None:
        self.connected = False

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, _rc: Any, _p: Any) -> None:
        self.unacked.discard(mid)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
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
        message = (up_topic(self.cfg.device_id, kind), json.dumps(body))
        if self._connecting is not None and not self._connecting.done():
            self._held.append(message)  # paho is between socket and CONNECT on another thread
            return
        info = self.client.publish(*message, qos=1)
        self.unacked.add(info.mid)

    def _flush_held(self) -> None:
        held, self._held = self._held, []
        for topic, payload in held:
            self.unacked.add(self.client.publish(topic, payload, qos=1).mid)

    @property
    def pending(self) -> int:
        """Messages made but not yet acknowledged by the broker."""
        return len(self.unacked) + len(self._held)

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
            self.telemetry_once()
            await asyncio.sleep(self.cfg.telemetry_s)

    def telemetry_once(self) -> None:
        """Run the active model on one batch from the data source and publish what happened."""
        for kind, body in self.telemetry.measure():
            self._publish(kind, body)

    async def _command_loop(self) -> None:
        while True:
            message = await self.commands.get()
            try:
                await self.ota.handle(message)
            except Halt as e:
                self._halt(e)
                return
