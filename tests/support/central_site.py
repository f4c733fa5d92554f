"""A clerk at a branch of a central test site: a kiosk's and a counter's
commands on that branch's own broker (tests/central)."""

from __future__ import annotations

from appliance.bus.client import BusClient, new_command_id
from appliance.sim.central.site import CentralSite


class Clerk:
    """A kiosk's and a counter's commands on one branch's broker."""

    def __init__(self, site: CentralSite, bid: str) -> None:
        b = site.branches[bid]
        unit = new_command_id(f"tool-{bid}")
        self.bus = BusClient(b.config, role="tool", unit=unit, client_id=unit, presence=False,
                             broker_url=b.broker.url)  # fmt: skip
        self.bus.start()
        assert self.bus.wait_connected(10)
        self.t = self.bus.topics

    def issue(self, service: str = "A") -> dict[str, object]:
        body = {"id": new_command_id("k"), "service": service, "priority": False}
        topic = self.t.ticket_cmd(self.bus.sender, "issue")
        return self.bus.request(topic, body, timeout=5, attempts=3)

    def counter(self, counter: str, action: str, **kw: object) -> dict[str, object]:
        body = {"id": new_command_id("c"), **kw}
        topic = self.t.counter_cmd(self.bus.sender, counter, action)
        return self.bus.request(topic, body, timeout=5, attempts=3)

    def request(self, action: str, **kw: object) -> dict[str, object]:
        """An SMS request (``register``: a citizen's phone for a ticket)."""
        body = {"id": new_command_id("r"), **kw}
        return self.bus.request(self.t.request_cmd(self.bus.sender, action), body, timeout=5,
                                attempts=3)  # fmt: skip

    def close(self) -> None:
        self.bus.stop()
