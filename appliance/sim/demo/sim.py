"""Pieces the virtual branch's simulated people share.

Citizens arrive at the real kiosk daemons (appliance.sim.roles.kiosk) and clerks
press the real counters' buttons (appliance.sim.roles.counter); a simulated actor
with a bus client of its own is an :class:`Actor`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from ...bus.client import BusClient, new_command_id
from ...clock import ScaledClock
from ...config.branch import Config
from ...errors import BusError

log = logging.getLogger(__name__)


@dataclass
class Tally:
    """What the simulation did, for the live view and the summary."""

    issued: int = 0
    calls: int = 0
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
