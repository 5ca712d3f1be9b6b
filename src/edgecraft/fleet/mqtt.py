"""MQTT: topics, the broker's password and ACL files, a local mosquitto, and the server's bridge.

Each device logs in to the broker with its id as user name and its token as password; each
server instance as ``edgecraft-server-<instance>`` (device ids may not start with ``edgecraft``).
The broker takes the user name as the client id (``use_username_as_clientid``), so a client can
only ever connect as itself: nobody can knock another client off by reusing its client id. The
ACL file lets a device read only ``edgecraft/dev/<its id>/cmd`` and ``.../ack`` and publish only under
``edgecraft/dev/<its id>/up/``; the server users may use every ``edgecraft/`` topic.

A local broker belongs to the server that holds the lock on its directory. Its port is state
(saved, reused by every restart); a broker left running by a killed server is found through its
pid file and stopped before the new owner starts one on the same port, so two brokers never share
a persistence file. mosquitto saves its persistence every 5 s (saving after every change stalled
a 1,000-device broker), so a broker killed with SIGKILL forgets what it took in since its last
save. Nothing is lost even then: a device keeps every message in its outbox until the server
says it is stored (an acknowledgement on ``edgecraft/dev/<id>/ack``, sent after the batch is
committed) and resends what is unconfirmed after a reconnect or a timeout.

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

SERVER_USER = "edgecraft-server"  # server instances log in as edgecraft-server-<instance>
UP_KINDS = ("telemetry", "anomaly", "report")


def cmd_topic(device_id: str) -> str:
    return f"edgecraft/dev/{device_id}/cmd"


def up_topic(device_id: str, kind: str) -> str:
    return f"edgecraft/dev/{device_id}/up/{kind}"


def ack_topic(device_id: str) -> str:
    """Where the server tells a device which of its messages are stored (QoS 0, ``ack_body``)."""
    return f"edgecraft/dev/{device_id}/ack"


def ack_body(msg_ids: Sequence[int]) -> str:
    """``{"ids": [[first, last], ...]}``: the stored message ids as inclusive runs."""
    runs: list[list[int]] = []
    for i in sorted(set(msg_ids)):
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return json.dumps({"ids": runs})


def mosquitto_hash(password: str, iterations: int = 101) -> str:
    """A mosquitto password-file hash (``$7$``: PBKDF2-HMAC-SHA512, 12-byte salt)."""
    salt = secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def server_user(instance: str) -> str:
    """The broker user (and so the client id) of server instance ``instance``."""
    return f"{SERVER_USER}-{instance}"


ACL_DEVICES = """
pattern read edgecraft/dev/%u/cmd
pattern read edgecraft/dev/%u/ack
pattern write edgecraft/dev/%u/up/#
"""


def write_auth_files(
    directory: Path,
    credentials: Sequence[tuple[str, str]],
    server_hash: str,
    instances: Sequence[str] = (),
) -> None:
    """Write ``passwords`` and ``acl`` for mosquitto (atomically; readable by the owner only).

    Server users (``edgecraft-server`` and ``edgecraft-server-<instance>``) share ``server_hash``;
    a device credential with a reserved user name is left out, so it can never replace theirs.
    """
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    servers = [SERVER_USER, *(server_user(i) for i in instances)]
    lines = [f"{u}:{server_hash}" for u in servers]
    lines += [f"{user}:{h}" for user, h in credentials if not user.lower().startswith("edgecraft")]
    acl = "# written by edgecraft fleet; devices: user name = device id\n"
    acl += "".join(f"user {u}\ntopic readwrite edgecraft/#\n" for u in servers) + ACL_DEVICES
    for name, text in (("passwords", "\n".join(lines) + "\n"), ("acl", acl)):
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


class BrokerBusy(RuntimeError):
    """Another live process (a server instance sharing the state directory) runs this broker."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (dead, not yet reaped) holds no port
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1] != "Z"
    except OSError:
        return False


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class Broker:
    """A local mosquitto on 127.0.0.1 using the server's password and ACL files in ``directory``.

    The process that starts it holds a lock on ``directory`` for as long as it lives; ``start``
    raises :class:`BrokerBusy` when another live process holds it. ``port`` 0 means the saved
    port (or a free one the first time).
    """

    def __init__(self, directory: Path, port: int = 0) -> None:
        self.directory = Path(directory).resolve()
        self.requested_port = port
        saved = self.directory / "port"
        self.port = port or (int(saved.read_text()) if saved.exists() else 0)
        self.proc: subprocess.Popen[bytes] | None = None
        self._lock_fd: int | None = None
        self.stale_stopped = 0  # brokers of dead owners stopped by this one
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
            "use_username_as_clientid true",
            f"password_file {d / 'passwords'}",
            f"acl_file {d / 'acl'}",
            "persistence true",
            f"persistence_location {d}/",
            "autosave_interval 5",  # seconds; and on SIGTERM everything is saved before exit
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
        _write_private(path, "\n".join(conf) + "\n")
        return path

    def _lock(self) -> None:
        import fcntl

        if self._lock_fd is not None:
            return
        fd = os.open(self.directory / "broker.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise BrokerBusy(f"another live process runs the broker in {self.directory}") from None
        self._lock_fd = fd

    def _stop_stale(self) -> None:
        """Stop a broker whose owner died (we hold the lock now): SIGTERM, it saves and exits."""
        pid_file = self.directory / "broker.pid"
        try:
            pid = int(pid_file.read_text())
        except (OSError, ValueError):
            return
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            cmdline = []
        if _pid_alive(pid) and str(self.directory / "mosquitto.conf").encode() in cmdline:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
            self.stale_stopped += 1
        pid_file.unlink(missing_ok=True)

    def start(self) -> None:
        """Start mosquitto on the saved port (stopping a stale broker of a dead owner first)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.directory, 0o700)
        self._lock()
        self._stop_stale()
        self.port = self.port or free_port()
        deadline = time.monotonic() + 5
        while not _port_free(self.port):
            if time.monotonic() > deadline:
                raise OSError(
                    f"the broker's port {self.port} (saved in {self.directory / 'port'}) is taken by "
                    "another program; stop it, or delete that file to pick a new port"
                )
            time.sleep(0.1)
        if not (self.directory / "passwords").exists():
            write_auth_files(self.directory, [], mosquitto_hash(secrets.token_urlsafe(24)))
        conf = self._config()
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _write_private(self.directory / "broker.pid", str(self.proc.pid))
        _write_private(self.directory / "port", str(self.port))
        wait_port("127.0.0.1", self.port)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def reload(self) -> None:
        """Make mosquitto re-read its password and ACL files (SIGHUP)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGHUP)
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop mosquitto (it saves its persistence file on SIGTERM) and release the directory."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            (self.directory / "broker.pid").unlink(missing_ok=True)
        self.proc = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

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
    when it returns; only then are the messages acknowledged to the broker (at-least-once), and
    each device that sent some is told their ids (one message per device per batch, QoS 0: a lost
    acknowledgement only makes the device resend, and a resend is stored once).
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
        user = server_user(instance)
        self.client = new_client(user, user, password)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.host, self.port = host, port
        self.connected = threading.Event()
        self.stopping = threading.Event()
        self.ingested = 0
        self.rejected = 0
        self.confirmed = 0  # message ids acknowledged to their devices
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

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, _rc: Any, _p: Any = None) -> None:
        self.connected.clear()

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
            self._confirm(batch)
            for mid, qos, _t, _p in items:
                if qos > 0:
                    self.client.ack(mid, qos)

    def _confirm(self, batch: list[tuple[str, str, Any]]) -> None:
        """Tell each device which of its messages are stored (or were malformed: never stored)."""
        stored: dict[str, list[int]] = {}
        for device_id, _kind, payload in batch:
            msg_id = payload.get("msg_id") if isinstance(payload, dict) else None
            if isinstance(msg_id, int) and not isinstance(msg_id, bool):
                stored.setdefault(device_id, []).append(msg_id)
        for device_id, ids in stored.items():
            self.client.publish(ack_topic(device_id), ack_body(ids), qos=0)
        self.confirmed += sum(len(ids) for ids in stored.values())

    def send(self, device_id: str, envelope: dict[str, Any]) -> None:
        """Publish a signed command envelope to the device's command topic (QoS 1; the broker
        queues it in the device's persistent session)."""
        self.client.publish(cmd_topic(device_id), json.dumps(envelope), qos=1)
