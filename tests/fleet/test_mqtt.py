"""Per-device credentials and topic ACLs, enforced by a real mosquitto with the files we write."""

from __future__ import annotations

import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fleet_support import wait_for

from edgecraft.fleet.mqtt import (
    SERVER_USER,
    Broker,
    ack_body,
    ack_topic,
    cmd_topic,
    mosquitto_hash,
    server_user,
    up_topic,
    write_auth_files,
)

pytestmark = pytest.mark.broker


class Peer:
    """A paho client on its own network thread that records what it receives."""

    def __init__(self, broker: Broker, user: str, password: str) -> None:
        self.got: list[tuple[str, bytes]] = []
        self.rc: Any = None
        self.ready = threading.Event()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{user}-{time.time_ns()}")
        self.c.username_pw_set(user, password)
        self.c.on_connect = self._on_connect
        self.c.on_message = lambda _c, _u, m: self.got.append((m.topic, m.payload))
        self.c.connect("127.0.0.1", broker.port)
        self.c.loop_start()
        self.ready.wait(30)

    def _on_connect(self, _c: Any, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        self.rc = rc
        self.ready.set()

    def sub(self, topic: str) -> None:
        done = threading.Event()
        self.c.on_subscribe = lambda *_a: done.set()
        self.c.subscribe(topic, qos=1)
        done.wait(30)

    def pub(self, topic: str, payload: bytes) -> None:
        self.c.publish(topic, payload, qos=1).wait_for_publish(30)

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture
def fleet_broker(broker: Broker) -> Broker:
    write_auth_files(
        broker.directory,
        [("d1", mosquitto_hash("pw-one")), ("d2", mosquitto_hash("pw-two"))],
        mosquitto_hash("server-pw"),
    )
    broker.reload()
    return broker


def test_passwords_are_checked_by_the_broker(fleet_broker: Broker) -> None:
    good = Peer(fleet_broker, "d1", "pw-one")
    assert good.rc is not None and not good.rc.is_failure
    for user, pw in (("d1", "pw-two"), ("nobody", "pw-one"), ("d2", "")):
        bad = Peer(fleet_broker, user, pw)
        assert bad.rc is not None and bad.rc.is_failure, user
        bad.close()
    good.close()
    assert "pw-one" not in (fleet_broker.directory / "passwords").read_text()


def test_devices_reach_only_their_own_topics(fleet_broker: Broker) -> None:
    server = Peer(fleet_broker, SERVER_USER, "server-pw")
    d1, d2 = Peer(fleet_broker, "d1", "pw-one"), Peer(fleet_broker, "d2", "pw-two")
    server.sub("edgecraft/dev/+/up/#")
    d1.sub(cmd_topic("d1"))
    d1.sub(ack_topic("d1"))
    d1.sub(cmd_topic("d2"))  # not allowed: d1 must never see d2's commands
    d1.sub(ack_topic("d2"))  # nor what of d2's messages the server stored
    d1.sub("edgecraft/#")  # nor anything else
    d2.sub(cmd_topic("d2"))
    d2.sub(ack_topic("d2"))

    d1.pub(up_topic("d1", "telemetry"), b"mine")
    d1.pub(up_topic("d2", "telemetry"), b"forged")  # publishing as d2: dropped by the broker
    d1.pub(cmd_topic("d2"), b"forged-command")  # devices cannot send commands
    d1.pub(ack_topic("d2"), b"forged-ack")  # nor tell another device its messages are stored
    d1.pub(ack_topic("d1"), b"self-ack")  # nor themselves
    # The broker routes a message before it acknowledges it, so once the server's last message
    # arrived, every forged one has been routed (or dropped) already.
    server.pub(cmd_topic("d1"), b"for-d1")
    server.pub(cmd_topic("d2"), b"for-d2")
    server.pub(ack_topic("d1"), ack_body([7, 5, 6]).encode())
    server.pub(ack_topic("d2"), b"ack-d2")
    wait_for(lambda: len(d1.got) >= 2 and len(d2.got) >= 2, 30, "the server's messages")

    assert server.got == [(up_topic("d1", "telemetry"), b"mine")]
    assert d1.got == [(cmd_topic("d1"), b"for-d1"), (ack_topic("d1"), b'{"ids": [[5, 7]]}')]
    assert d2.got == [(cmd_topic("d2"), b"for-d2"), (ack_topic("d2"), b"ack-d2")]
    for p in (server, d1, d2):
        p.close()


def test_reload_picks_up_new_devices(fleet_broker: Broker) -> None:
    assert Peer(fleet_broker, "d3", "pw-three").rc.is_failure
    write_auth_files(
        fleet_broker.directory, [("d3", mosquitto_hash("pw-three"))], mosquitto_hash("server-pw")
    )
    fleet_broker.reload()
    p = Peer(fleet_broker, "d3", "pw-three")
    assert not p.rc.is_failure
    p.close()


class Watched(Peer):
    """A peer that counts how often the broker dropped it."""

    def __init__(self, broker: Broker, user: str, password: str, client_id: str | None = None) -> None:
        self.drops = 0
        super().__init__(broker, user, password)
        if client_id is not None:  # reconnect under a chosen client id (an attacker's choice)
            self.close()
            self.ready.clear()
            self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
            self.c.username_pw_set(user, password)
            self.c.on_connect = self._on_connect
            self.c.on_message = lambda _c, _u, m: self.got.append((m.topic, m.payload))
            self.c.connect("127.0.0.1", broker.port)
            self.c.loop_start()
            self.ready.wait(30)
        self.c.on_disconnect = lambda *_a: setattr(self, "drops", self.drops + 1)


def test_nobody_can_take_the_server_identity_or_kick_a_client(broker: Broker) -> None:
    server = server_user("a")
    write_auth_files(
        broker.directory,
        # A device credential under a server user name (as a provisioning bug might write):
        # left out of the password file, so it can never replace the server's line.
        [
            ("d1", mosquitto_hash("pw-one")),
            ("d2", mosquitto_hash("pw-two")),
            (server, mosquitto_hash("pw-one")),
        ],
        mosquitto_hash("server-pw"),
        ["a"],
    )
    broker.reload()
    assert "pw-one" not in (broker.directory / "passwords").read_text()
    # Both use their user name as client id, as the server bridge and the agents do.
    real_server = Watched(broker, server, "server-pw", client_id=server)
    victim = Watched(broker, "d2", "pw-two", client_id="d2")
    assert not real_server.rc.is_failure and not victim.rc.is_failure
    for user in (SERVER_USER, server):  # a device's password under the server's names: refused
        assert Peer(broker, user, "pw-one").rc.is_failure
    # d1 connects with its own credentials under the server's and d2's client ids: the broker uses
    # the user name as client id, so the attacker is just d1 and nobody is knocked off.
    attackers = [Watched(broker, "d1", "pw-one", client_id=cid) for cid in (server, "d2", f"{SERVER_USER}-b")]
    assert all(a.ready.is_set() for a in attackers)  # each got its CONNACK: the broker took them
    real_server.sub("edgecraft/dev/+/up/#")
    victim.pub(up_topic("d2", "telemetry"), b"still here")
    wait_for(lambda: real_server.got, 30, "the victim's message")
    assert (real_server.drops, victim.drops) == (0, 0)
    assert real_server.got == [(up_topic("d2", "telemetry"), b"still here")]
    for p in (real_server, victim, *attackers):
        p.close()
