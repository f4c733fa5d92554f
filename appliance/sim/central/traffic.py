"""A branch's simulated kiosk and clerks: tickets issued, called, recalled,
served, rated, sent away as no-shows and transferred, over its own broker."""

from __future__ import annotations

import random
import threading

from ...bus.client import BusClient, new_command_id
from ...config.branch import Config
from ...errors import BusError, QueueError


class Traffic(threading.Thread):
    """One ticket every ``every_s`` seconds and a clerk's press as often."""

    def __init__(self, config: Config, broker_url: str, every_s: float, seed: int) -> None:
        super().__init__(name=f"traffic-{config.branch.id}", daemon=True)
        self.config = config
        self.every_s = every_s
        self.rng = random.Random(seed)
        self.halt = threading.Event()
        unit = new_command_id(f"sim-{config.branch.id}")
        self.bus = BusClient(config, role="sim", unit=unit, client_id=unit, presence=False,
                             broker_url=broker_url)  # fmt: skip
        self.t = self.bus.topics
        self.issued = 0
        self.presses = 0

    def _ask(self, topic: str, **body: object) -> dict[str, object] | None:
        payload = {"id": new_command_id("sim"), **body}
        try:
            return self.bus.request(topic, payload, timeout=3.0, attempts=3)
        except (BusError, QueueError):
            return None

    def _press(self, counter: str, action: str, **body: object) -> dict[str, object] | None:
        return self._ask(self.t.counter_cmd(self.bus.sender, counter, action), **body)

    def run(self) -> None:
        self.bus.start()
        self.bus.wait_connected(10)
        services = [s.id for s in self.config.services]
        counters = [c.id for c in self.config.counters]
        try:
            while not self.halt.wait(self.rng.uniform(0.5, 1.5) * self.every_s):
                issue = self.t.ticket_cmd(self.bus.sender, "issue")
                if self._ask(issue, service=self.rng.choice(services),
                             priority=self.rng.random() < 0.1):  # fmt: skip
                    self.issued += 1
                self._clerk(self.rng.choice(counters))
        finally:
            self.bus.stop()

    def _clerk(self, counter: str) -> None:
        answer = self._press(counter, "call-next")
        self.presses += 1
        ticket = answer.get("ticket") if answer else None
        if not isinstance(ticket, dict):
            return
        roll = self.rng.random()
        if roll < 0.15:
            self._press(counter, "recall")
        elif roll < 0.25:
            self._press(counter, "no-show")
        elif roll < 0.3:
            self._press(counter, "transfer", service="inquiries")
        elif roll < 0.6:
            self._press(counter, "done")
            rating = self.rng.choice(["satisfied", "neutral", "unsatisfied"])
            self._press(counter, "feedback", ticket_id=ticket["id"], rating=rating)

    def stop(self) -> None:
        self.halt.set()
        self.join(10)
