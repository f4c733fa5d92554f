"""Brokers in order of preference: a unit moves to the next when its broker is
unreachable, and back to the first once that answers again.

A branch with a standby master runs Mosquitto on both master candidates'
Pis (docs/standby.md): ``broker.url`` is the first, ``broker.fallback_urls``
the others.  Every unit connects to the first broker it can reach; one
connected to a later broker looks at the first every ``FAIL_BACK_S`` seconds
and goes back as soon as it answers, so the whole branch meets on one broker
again within that time after the first comes back.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from ..config import parse_broker_url

log = logging.getLogger(__name__)

#: Seconds between two looks at the preferred broker while on another.
FAIL_BACK_S = 5.0

#: Leaving a broker on purpose still says goodbye there: the broker publishes
#: the unit's Last Will (its retained ``offline``), so a later move to that
#: broker never finds the unit "online" from a stay long over.
LEAVE = ReasonCode(PacketTypes.DISCONNECT, "Disconnect with will message")


class BrokerList:
    """The brokers of a unit, the one in use, and the way back to the first."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = list(urls)
        self.addresses = [parse_broker_url(u)[:2] for u in self.urls]
        self.index = 0
        self._probe: threading.Thread | None = None
        self._stop = threading.Event()
        self._moving = False

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def should_move(self) -> bool:
        """Whether a failed or lost connection goes on to the next broker."""
        return self.several and not self._moving and not self.closed

    @contextmanager
    def moving(self) -> Iterator[None]:
        """A disconnection of our own (going back to the first): no advance."""
        self._moving = True
        try:
            yield
        finally:
            self._moving = False

    @property
    def several(self) -> bool:
        return len(self.urls) > 1

    @property
    def current(self) -> tuple[str, int]:
        return self.addresses[self.index]

    def failed(self, connect: Callable[[str, int], None]) -> None:
        """The connection failed or was lost: ``connect`` to the next broker, if any."""
        if self.should_move():
            connect(*self.advance())

    def advance(self) -> tuple[str, int]:
        """The next broker to try after the current one failed."""
        self.index = (self.index + 1) % len(self.urls)
        return self.current

    def first_answers(self, timeout: float = 1.0) -> bool:
        try:
            with socket.create_connection(self.addresses[0], timeout=timeout):
                return True
        except OSError:
            return False

    def watch_first(self, go_back: Callable[[], None]) -> None:
        """While on a later broker: call ``go_back`` once the first answers."""
        if self.index == 0 or (self._probe is not None and self._probe.is_alive()):
            return

        def probe() -> None:
            while not self._stop.wait(FAIL_BACK_S):
                if self.index == 0:
                    return
                if self.first_answers():
                    log.warning("broker %s answers again: going back to it", self.urls[0])
                    self.index = 0
                    go_back()
                    return

        self._probe = threading.Thread(target=probe, name="broker-fail-back", daemon=True)
        self._probe.start()

    def go_back(
        self,
        client: mqtt.Client,
        connect: Callable[[str, int], None],
        flush: Callable[[], None] | None = None,
    ) -> None:
        """Leave a later broker for the first one: on the probe's thread,
        stopping paho's network thread and starting it again; or with
        ``flush``, on the thread that drives the client (appliance/bus/pump.py),
        which sends the goodbye and connects again at its next pump."""
        with self.moving():
            client.disconnect(reasoncode=LEAVE)
            if flush is None:
                client.loop_stop()
            else:
                flush()
        if not self.closed:
            connect(*self.current)
            if flush is None:
                client.loop_start()

    def close(self) -> None:
        self._stop.set()
