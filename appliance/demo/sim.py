"""Simulated citizens and clerks: plain bus clients on a compressed clock.

Later unit issues swap these for the real kiosk and counter daemons on
simulated hardware; the arrival and service models stay here.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field

from ..bus.client import BusClient, new_command_id
from ..clock import ScaledClock
from ..config import Config
from ..errors import BusError, QueueError

log = logging.getLogger(__name__)


@dataclass
class Tally:
    """What the simulation did, for the live view and the summary."""

    issued: int = 0
    calls: int = 0
    no_shows: int = 0
    errors: int = 0
    recent: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, line: str) -> None:
        with self.lock:
            self.recent.append(line)
            del self.recent[:-8]


class Actor(threading.Thread):
    """A thread with its own bus client that stops when told."""

    def __init__(self, config: Config, broker_url: str, unit: str, clock: ScaledClock) -> None:
        super().__init__(name=unit, daemon=True)
        self.config = config
        self.clock = clock
        self.halt = threading.Event()
        self.bus = BusClient(config, role="sim", unit=unit, broker_url=broker_url, presence=False)

    def sleep_sim(self, simulated_s: float) -> bool:
        """Sleep simulated seconds; False when the demo is stopping."""
        return not self.halt.wait(self.clock.real_seconds(simulated_s))

    def request(self, topic: str, **payload: object) -> dict[str, object] | None:
        body = {"id": new_command_id(self.bus.unit), **payload}
        for _ in range(5):  # same id on every retry
            if self.halt.is_set():
                return None
            try:
                return self.bus.request(topic, body, timeout=2.0)
            except BusError:
                continue
        return None

    def stop(self) -> None:
        self.halt.set()


class Arrivals(Actor):
    """Citizens arriving as a Poisson process, pressing a kiosk button."""

    def __init__(
        self,
        config: Config,
        broker_url: str,
        clock: ScaledClock,
        tally: Tally,
        *,
        per_hour: float,
        priority_share: float,
        rng: random.Random,
    ) -> None:
        super().__init__(config, broker_url, "sim-kiosk", clock)
        self.tally = tally
        self.per_hour = per_hour
        self.priority_share = priority_share
        self.rng = rng
        weights = [1 / s.service_minutes for s in config.services]
        self.weights = [w / sum(weights) for w in weights]

    def run(self) -> None:
        self.bus.start()
        self.bus.wait_connected(10)
        topic = self.bus.topics.ticket_cmd("issue")
        while self.sleep_sim(self.rng.expovariate(self.per_hour / 3600)):
            service = self.rng.choices(self.config.services, self.weights)[0]
            priority = self.rng.random() < self.priority_share
            try:
                result = self.request(topic, service=service.id, priority=priority)
            except QueueError as exc:
                self.tally.errors += 1
                log.warning("ticket refused: %s", exc)
                continue
            if result is not None:
                self.tally.issued += 1
        self.bus.stop()


class Clerk(Actor):
    """A clerk at a counter: calls, serves for a random time, sometimes a no-show."""

    def __init__(
        self,
        config: Config,
        broker_url: str,
        clock: ScaledClock,
        tally: Tally,
        counter: str,
        *,
        no_show_share: float,
        rng: random.Random,
    ) -> None:
        super().__init__(config, broker_url, f"sim-clerk-{counter}", clock)
        self.counter = counter
        self.tally = tally
        self.no_show_share = no_show_share
        self.rng = rng
        self.minutes = {s.id: s.service_minutes for s in config.services}

    def run(self) -> None:
        self.bus.start()
        self.bus.wait_connected(10)
        t = self.bus.topics
        window = self.config.counter(self.counter).number
        while not self.halt.is_set():
            try:
                result = self.request(t.counter_cmd(self.counter, "call-next"))
            except QueueError:
                self.tally.errors += 1
                result = None
            ticket = result.get("ticket") if result else None
            if not isinstance(ticket, dict):
                if not self.sleep_sim(30):
                    break
                continue
            self.tally.calls += 1
            self.tally.note(f"{ticket['number']} → window {window}")
            if self.rng.random() < self.no_show_share:
                self.sleep_sim(60)
                try:
                    self.request(t.counter_cmd(self.counter, "no-show"))
                    self.tally.no_shows += 1
                except QueueError:
                    self.tally.errors += 1
                continue
            mean = self.minutes.get(str(ticket["service"]), 5.0) * 60
            if not self.sleep_sim(self.rng.gammavariate(4, mean / 4)):
                break
        self.bus.stop()
