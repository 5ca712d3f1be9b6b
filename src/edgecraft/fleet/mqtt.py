"""MQTT: topics, the broker's password and ACL files, a local mosquitto, and the server's bridge.

Each device logs in to the broker with its id as user name and its token as password. The ACL
file the server writes lets a device read only ``edgecraft/dev/<its id>/cmd`` and publish only
under ``edgecraft/dev/<its id>/up/``; the server's own user may use every ``edgecraft/`` topic.
Every server instance subscribes to every device message with a persistent session and
acknowledges a message only after it is committed to the database; the database stores each
message once however many instances see it. (A shared subscription, ``$share/...``, would split
the work, but mosquitto 2.0 drops messages queued for shared subscribers across a broker
restart: measured here, a third of the messages sent around a restart were lost.)
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

SERVER_USER = "edgecraft-server"
UP_KINDS = ("telemetry", "anomaly", "report")


def cmd_topic(device_id: str) -> str:
    return f"edgecraft/dev/{device_id}/cmd"


def up_topic(device_id: str, kind: str) -> str:
    return f"edgecraft/dev/{device_id}/up/{kind}"


def mosquitto_hash(password: str, iterations: int = 101) -> str:
    """A mosquitto password-file hash (``$7$``: PBKDF2-HMAC-SHA512, 12-byte salt)."""
    salt = secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


ACL = """# written by edgecraft fleet; devices: user name = device id
user {server}
topic readwrite edgecraft/#

pattern read edgecraft/dev/%u/cmd
pattern write edgecraft/dev/%u/up/#
"""


def write_auth_files(directory: Path, credentials: Sequence[tuple[str, str]], server_hash: str) -> None:
    """Write ``passwords`` and ``acl`` for mosquitto (atomically; readable by the owner only)."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = [f"{SERVER_USER}:{server_hash}"] + [f"{user}:{h}" for user, h in credentials]
    for name, text in (("passwords", "\n".join(lines) + "\n"), ("acl", ACL.format(server=SERVER_USER))):
        tmp = directory / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, directory / name)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as mosquitto does: TIME_WAIT is fine
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_port(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f} s") from None
            time.sleep(0.05)


def find_mosquitto() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.path.exists(p)), None
    )


class Broker:
    """A local mosquitto on 127.0.0.1 using the server's password and ACL files in ``directory``."""

    def __init__(self, directory: Path, port: int = 0) -> None:
        self.directory = Path(directory).resolve()
        saved = self.directory / "port"
        # Keep the port devices already know across restarts, unless it is taken now.
        if not port and saved.exists() and _port_free(int(saved.read_text())):
            port = int(saved.read_text())
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        binary = find_mosquitto()
        if binary is None:
            raise FileNotFoundError(
                "mosquitto is not installed; install it with: sudo apt-get install mosquitto"
            )
        self.binary = binary

    def _config(self) -> Path:
        d = self.directory
        conf = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous false",
            f"password_file {d / 'passwords'}",
            f"acl_file {d / 'acl'}",
            "persistence true",
            f"persistence_location {d}/",
            "max_inflight_messages 0",
            "max_queued_messages 100000",
            f"log_dest file {d / 'mosquitto.log'}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "connection_messages false",
        ]
        if os.geteuid() == 0:
            conf.append("user root")  # keep access to the 0600 auth files in our state directory
        path = d / "mosquitto.conf"
        path.write_text("\n".join(conf) + "\n")
        return path

    def start(self) -> None:
        if not (self.directory / "passwords").exists():
            write_auth_files(self.directory, [], mosquitto_hash(secrets.token_urlsafe(24)))
        conf = self._config()
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_port("127.0.0.1", self.port)
        (self.directory / "port").write_text(str(self.port))
        (self.directory / "broker.pid").write_text(str(self.proc.pid))

    def reload(self) -> None:
        """Make mosquitto re-read its password and ACL files (SIGHUP)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGHUP)
            time.sleep(0.2)

    def stop(self) -> None:
        (self.directory / "broker.pid").unlink(missing_ok=True)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # mosquitto saves its persistence file on SIGTERM
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


def new_client(client_id: str, username: str, password: str, clean: bool = False) -> mqtt.Client:
    c = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean, manual_ack=True
    )
    c.username_pw_set(username, password)
    c.reconnect_delay_set(1, 2)
    return c


class ServerBridge:
    """The server's MQTT side: ingests device messages into ``handle`` in batches, sends commands.

    ``handle(batch)`` gets a list of ``(device_id, kind, payload dict)`` and must have stored them
    when it returns; only then are the messages acknowledged to the broker (at-least-once).
    """

    def __init__(
        self,
        host: str,
        port: int,
        password: str,
        instance: str,
        handle: Callable[[list[tuple[str, str, dict[str, Any]]]], None],
    ) -> None:
        self.handle = handle
        self.inbox: queue.Queue[tuple[int, int, str, bytes | bytearray]] = queue.Queue()
        self.client = new_client(f"{SERVER_USER}-{instance}", SERVER_USER, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.host, self.port = host, port
        self.connected = threading.Event()
        self.stopping = threading.Event()
        self.ingested = 0
        self.rejected = 0
        self.worker = threading.Thread(target=self._work, name="fleet-ingest", daemon=True)

    def start(self) -> None:
        self.client.connect_async(self.host, self.port, keepalive=10)
        self.client.loop_start()
        self.worker.start()

    def stop(self) -> None:
        self.stopping.set()
        self.worker.join(5)
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
        if rc == 0:
            client.subscribe("edgecraft/dev/+/up/#", qos=1)
            self.connected.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self.inbox.put((msg.mid, msg.qos, msg.topic, msg.payload))

    def _work(self) -> None:
        while not self.stopping.is_set():
            try:
                first = self.inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            items = [first]
            while len(items) < 2000:
                try:
                    items.append(self.inbox.get_nowait())
                except queue.Empty:
                    break
            batch = []
            for _mid, _qos, topic, payload in items:
                parts = topic.split("/")
                try:
                    if len(parts) != 5 or parts[4] not in UP_KINDS:
                        raise ValueError(topic)
                    batch.append((parts[2], parts[4], json.loads(payload)))
                except ValueError:
                    self.rejected += 1
            while not self.stopping.is_set():
                try:
                    self.handle(batch)
                    break
                except Exception as e:
                    print(
                        f"fleet: storing {len(batch)} messages failed ({type(e).__name__}); retrying",
                        flush=True,
                    )
                    time.sleep(1.0)
            else:
                return
            self.ingested += len(batch)
            for mid, qos, _t, _p in items:
                if qos > 0:
                    self.client.ack(mid, qos)

    def send(self, device_id: str, command: dict[str, Any]) -> None:
        """Publish ``command`` to the device's command topic (QoS 1; queued by the broker)."""
        self.client.publish(cmd_topic(device_id), json.dumps(command), qos=1)
