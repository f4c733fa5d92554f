"""appliance.systemd.Notifier against a real AF_UNIX datagram socket."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.systemd import Notifier


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    yield sock, path
    sock.close()


def pending(sock: socket.socket) -> list[str]:
    """Every datagram already queued, without waiting."""
    out = []
    sock.setblocking(False)
    try:
        while True:
            out.append(sock.recv(4096).decode())
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(5)
    return out


def test_ready_status_stopping_reach_the_socket(notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    n = Notifier({"NOTIFY_SOCKET": path})
    assert n.enabled
    assert n.ready("connected to\nbroker")
    assert sock.recv(4096).decode() == "READY=1\nSTATUS=connected to broker"
    assert n.status("printer: paper out")
    assert sock.recv(4096).decode() == "STATUS=printer: paper out"
    assert n.stopping()
    assert sock.recv(4096).decode() == "STOPPING=1"


def test_watchdog_pinged_at_half_the_interval(notify_socket: tuple[socket.socket, str]) -> None:
    sock, path = notify_socket
    clock = FakeClock()
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}
    n = Notifier(env, clock=clock)
    assert n.interval == 30.0
    n.ready()
    assert sock.recv(4096).decode() == "READY=1"
    clock.now += 14.9
    assert not n.alive()  # too early: the loop may call alive() on every iteration
    assert pending(sock) == []
    clock.now += 0.2
    assert n.alive()
    assert sock.recv(4096).decode() == "WATCHDOG=1"
    assert not n.alive()
    clock.now += 15.5
    assert n.alive()
    assert pending(sock) == ["WATCHDOG=1"]


def test_abstract_socket_address() -> None:
    name = f"nidaa-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).ready()
        assert sock.recv(4096) == b"READY=1"


def test_no_op_outside_systemd() -> None:
    n = Notifier({})
    assert not n.enabled
    assert n.interval is None
    assert not n.ready("x") and not n.alive() and not n.status("x") and not n.stopping()


def test_watchdog_meant_for_another_process_is_ignored(
    notify_socket: tuple[socket.socket, str],
) -> None:
    sock, path = notify_socket
    n = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"})
    assert n.interval is None
    assert not n.alive()
    assert pending(sock) == []


def test_vanished_socket_does_not_stop_the_daemon(tmp_path: Path) -> None:
    n = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone"), "WATCHDOG_USEC": "2000000"})
    assert n.ready() is False
    assert n.alive() is False
