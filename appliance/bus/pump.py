"""The bus driven from a daemon's own thread: the master's way.

Every other unit lets paho run a network thread of its own
(:meth:`BusClient.start`), and its handlers hand work to the daemon's threads.
The master's worker thread instead drives the connection itself
(``BusClient.start(thread=False)``, then :meth:`Pump.pump` between batches):
it reads what the broker sent (the handlers run here, filing commands in the
inbox), applies a batch in one transaction, and sends every answer and
state of the batch in one write.

Measured with eight clients each waiting for its answer (docs/load.md), the
hand-off cost the master more than its commands: each command crossed from
paho's thread to the worker and each answer back, and both threads fought
for Python's GIL.  Driven from one thread, the master's CPU per ticket went
from 0.82–0.90 to 0.45–0.55 ms, and durable tickets per second from about
950 to 1,800–2,000 (2,200–2,300 with the later changes docs/load.md lists).
The price is that a worker busy for seconds (an etcd request of a standby
master, at most ``ha.request_timeout_s``) reads and pings nothing meanwhile;
the kernel keeps what arrives, and the broker waits 1.5 keepalives
(``broker.keepalive_s``, 15 s by default) before it gives up on the master.

Reconnection follows paho's own loop: at once at start, then after 1 s,
doubling up to 5 s; a failed connection moves on to the next broker
(:mod:`appliance.bus.failover`), and going back to the first broker is done
here, on the driving thread, when the probe asks for it.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

log = logging.getLogger(__name__)

#: Seconds before the first reconnection after a loss, and at most between two.
MIN_DELAY_S, MAX_DELAY_S = 1.0, 5.0

#: Reads of the socket in one pump at most (each takes what paho's loop_read
#: takes): a flood cannot keep the worker from its batch.
MAX_READS = 16


class Pump:
    """One paho client's network loop, run by whoever calls :meth:`pump`.

    ``reconnect_failed`` is called when a connection attempt fails (the
    client moves on to the next broker there); ``go_back(flush)`` leaves a
    later broker for the first one, sending its goodbye with ``flush``
    (called here when :meth:`ask_go_back` was).
    """

    def __init__(
        self,
        client: mqtt.Client,
        *,
        reconnect_failed: Callable[[], None],
        go_back: Callable[[Callable[[], None]], None],
    ) -> None:
        self.client = client
        self.reconnect_failed = reconnect_failed
        self.go_back = go_back
        self.closed = False
        self._retry_at = 0.0  # monotonic; 0: try at once
        self._delay = MIN_DELAY_S
        self._was_up = False
        self._go_back = threading.Event()
        # Publishes wait in paho's queue until the next pump writes them all.
        client.on_socket_register_write = _queued

    def ask_go_back(self) -> None:
        """From the fail-back probe's thread: go back at the next pump."""
        self._go_back.set()

    def pump(self, timeout: float) -> None:
        """Wait up to ``timeout`` s for the broker, read what came (the
        subscription handlers run here), send what is queued, keep the
        connection alive, reconnect when it is lost."""
        if self.closed:
            time.sleep(timeout)
            return
        if self._go_back.is_set():
            self._go_back.clear()
            self.go_back(self.flush)
            self._retry_at = 0.0
        c = self.client
        sock = c.socket()
        if sock is None:
            self._reconnect(timeout)
            return
        if _pending(sock):
            timeout = 0.0
        writing = [sock] if c.want_write() else []
        try:
            readable, _, _ = select.select([sock], writing, [], timeout)
        except (OSError, ValueError):  # closed under us: loop_read finds out
            readable = [sock]
        reads = 0
        while (readable or _pending(sock)) and reads < MAX_READS:
            reads += 1
            if c.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS or c.socket() is not sock:
                break
            readable, _, _ = select.select([sock], [], [], 0)
        self.flush()
        if c.socket() is not None:
            c.loop_misc()  # keepalive: PINGREQ due, or the broker silent too long
        if c.is_connected():
            self._was_up = True
            self._delay = MIN_DELAY_S
        elif c.socket() is None and self._was_up:
            self._was_up = False  # lost: the first retry after MIN_DELAY_S, as paho's
            self._retry_at = time.monotonic() + self._delay

    def flush(self) -> None:
        """Send every queued packet, corked into as few segments as the
        kernel can (one write per packet otherwise)."""
        c = self.client
        sock = c.socket()
        if sock is None or not c.want_write():
            return
        with _corked(sock):
            c.loop_write()

    def _reconnect(self, timeout: float) -> None:
        now = time.monotonic()
        if now < self._retry_at:
            time.sleep(min(timeout, self._retry_at - now))
            return
        # The next attempt waits longer, unless this one gets as far as a
        # CONNACK that lets us in (a refused password is retried slowly too).
        self._retry_at = now + self._delay
        self._delay = min(self._delay * 2, MAX_DELAY_S)
        try:
            self.client.reconnect()
        except OSError as exc:
            log.debug("connection attempt failed: %s", exc)
            self.reconnect_failed()
            return
        self.flush()  # CONNECT

    def wait_published(self, info: mqtt.MQTTMessageInfo, timeout: float) -> None:
        """Pump until the broker has ``info``'s message, ``timeout`` s at most."""
        deadline = time.monotonic() + timeout
        while not info.is_published() and time.monotonic() < deadline:
            self.pump(0.05)

    def close(self) -> None:
        """After the client's disconnect(): send it, and pump no more."""
        self.flush()
        self.closed = True


def _queued(client: mqtt.Client, userdata: object, sock: object) -> None:
    """paho's "socket has data to write" hook: the next pump writes it."""


def _pending(sock: object) -> bool:
    """Bytes a TLS socket already decrypted (select does not see them)."""
    pending = getattr(sock, "pending", None)
    return bool(pending and pending())


@contextlib.contextmanager
def _corked(sock: Any) -> Iterator[None]:
    cork = getattr(socket, "TCP_CORK", None)  # Linux
    if cork is None:
        yield
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, cork, 1)
    except OSError:
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, cork, 0)
