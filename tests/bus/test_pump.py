"""A bus client driven from its owner's thread (the master's way,
appliance/bus/pump.py), against a real Mosquitto: it reads and sends only
when pumped, on the pumping thread; it keeps an idle connection alive,
comes back after a broker restart, spaces its attempts while the broker
refuses it, and says goodbye when stopped."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance.bus.client import BusClient, Message, new_command_id
from appliance.config.branch import Config, load_config
from appliance.sim.harness.broker import Mosquitto
from tests.support import Watcher, write_config


def driven(config: Config, *, presence: bool = False) -> BusClient:
    uid = new_command_id("driven")
    return BusClient(
        config, role="tool", unit=uid, client_id=uid, presence=presence, persistent=True
    )


def pump_until(bus: BusClient, done: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        bus.pump(0.05)
    return True


def test_messages_are_read_and_sent_on_the_pumping_thread(
    broker: Mosquitto, tmp_path: Path
) -> None:
    config = load_config(write_config(tmp_path, broker.url))
    bus = driven(config)
    got: list[tuple[bytes, int]] = []
    bus.subscribe("pump-test/in", lambda m: got.append((m.payload, threading.get_ident())))
    watch = Watcher(config, "pump-test/out")
    bus.start(thread=False)
    try:
        assert pump_until(bus, lambda: bus.connected)
        pump_until(bus, lambda: False, 0.3)  # the subscription's SUBACK
        watch.bus.publish("pump-test/in", b"hello").wait_for_publish(5)
        assert pump_until(bus, lambda: bool(got))
        assert got == [(b"hello", threading.get_ident())]

        for i in range(5):
            bus.publish("pump-test/out", f"{i}".encode())
        time.sleep(0.3)
        assert not [m for m in watch.messages if m.topic == "pump-test/out"], "sent unpumped"
        bus.pump(0)
        out = [watch.wait_for(lambda m, i=i: m.payload == f"{i}".encode()) for i in range(5)]
        assert [m.payload for m in out] == [b"0", b"1", b"2", b"3", b"4"]
        with pytest.raises(RuntimeError, match="thread=False"):
            bus.request("pump-test/cmd", {"id": "x"})
    finally:
        bus.stop()
        watch.close()


def test_an_idle_connection_is_kept_alive_by_the_pump(broker: Mosquitto, tmp_path: Path) -> None:
    # Keepalive 5 s: Mosquitto drops a client that never pings after 1.5
    # keepalives, seen here 8 to 12 s after the last packet.
    path = write_config(tmp_path, broker.url, replace={"[broker]\n": "[broker]\nkeepalive_s = 5\n"})
    bus = driven(load_config(path))
    connects: list[float] = []
    bus.on_connect(lambda: connects.append(time.monotonic()))
    bus.start(thread=False)
    try:
        assert pump_until(bus, lambda: bus.connected)
        pump_until(bus, lambda: False, 14.0)
        assert bus.connected and len(connects) == 1, [c - connects[0] for c in connects]
    finally:
        bus.stop()


def test_the_pump_comes_back_after_a_broker_restart(tmp_path: Path) -> None:
    with Mosquitto(tmp_path / "own") as own:
        config = load_config(write_config(tmp_path, own.url))
        bus = driven(config)
        got: list[bytes] = []
        bus.subscribe("pump-test/in", lambda m: got.append(m.payload))
        bus.start(thread=False)
        try:
            assert pump_until(bus, lambda: bus.connected)
            own.stop(kill=True)
            assert pump_until(bus, lambda: not bus.connected)
            own.start()
            assert pump_until(bus, lambda: bus.connected, 15)
            pump_until(bus, lambda: False, 0.3)  # subscribed again
            sender = BusClient(config, role="tool", unit="sender", presence=False)
            sender.start()
            assert sender.wait_connected(10)
            sender.publish("pump-test/in", b"after").wait_for_publish(5)
            sender.stop()
            assert pump_until(bus, lambda: got == [b"after"])
        finally:
            bus.stop()


def test_a_refused_login_is_tried_again_slowly(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("wrong\n")
    with Mosquitto(tmp_path / "closed", anonymous=False) as closed:
        path = write_config(
            tmp_path,
            closed.url,
            replace={
                "[broker]\n": f'[broker]\nusername = "nobody"\npassword_file = "{password}"\n'
            },
        )
        bus = driven(load_config(path))
        attempts: list[float] = []
        reconnect = bus._client.reconnect

        def counted() -> object:
            attempts.append(time.monotonic())
            return reconnect()

        bus._client.reconnect = counted  # type: ignore[method-assign]
        bus.start(thread=False)
        try:
            pump_until(bus, lambda: False, 3.5)
        finally:
            bus.stop()
    assert not bus.connected and "authori" in bus.refused.lower()
    # At once, then after 1 s and 2 s more: never a retry storm.
    assert 2 <= len(attempts) <= 3, attempts
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(attempts))


def test_stopping_says_offline(broker: Mosquitto, tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, broker.url))
    bus = driven(config, presence=True)
    topic = bus.topics.status("tool", bus.unit)
    watch = Watcher(config, topic)
    bus.start(thread=False)
    try:
        assert pump_until(bus, lambda: bus.connected)
        watch.wait_for(lambda m: m.topic == topic and b'"online"' in m.payload)
    finally:
        bus.stop()
    offline = watch.wait_for(lambda m: m.topic == topic and b'"offline"' in m.payload)
    assert isinstance(offline, Message)
    watch.close()
