"""The SMS gateway in the simulator (:class:`SmsSim`).

It runs the real gateway process with the simulated modem, which saves every
SMS it "sent" to ``<demo output>/sms.jsonl``, and a few citizens who leave
their mobile number at the counter: each takes a ticket, registers the
number, and once called, their request is received and later ready.
"""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING, Any

from ...bus.client import Message
from ...errors import QueueError
from ..demo.sim import Actor
from ..harness.procs import Daemon

if TYPE_CHECKING:
    from ..hooks import BenchContext, DemoContext

log = logging.getLogger(__name__)


class DemoSms:
    """What :meth:`SmsSim.demo` starts; ``stop()`` ends it all."""

    def __init__(self, ctx: DemoContext, every_min: float = 40.0) -> None:
        self.record = ctx.out / "sms.jsonl"
        self.gateway = gateway_daemon(ctx)
        self.citizens = _PhoneCitizens(ctx, every_min)
        self.citizens.start()

    @property
    def issued_without_paper(self) -> int:
        """Tickets taken for the SMS citizens at the counter: no kiosk, no paper."""
        return self.citizens.issued

    def stop(self) -> None:
        self.citizens.stop()
        self.citizens.join(5)
        self.gateway.stop()


def gateway_daemon(ctx: DemoContext) -> Daemon:
    """The real gateway process on the simulated modem; every SMS it sends is
    a JSON line in ``<out>/sms.jsonl`` (also used by the busy-day load run)."""
    return Daemon(
        ["sms-gateway", "--config", str(ctx.config_path), "--broker", ctx.broker_url,
         "--modem", "sim", "--sim-record", str(ctx.out / "sms.jsonl"),
         "--outbox", str(ctx.out / "sms-outbox.db")],
        ctx.out / "sms-gateway.log",
    ).start()  # fmt: skip


class SmsSim:
    """The SMS gateway in the simulator (:class:`~appliance.sim.hooks.RoleSim`)."""

    name = "sms"

    def demo(self, ctx: DemoContext) -> DemoSms | None:
        return DemoSms(ctx) if ctx.config.sms is not None else None

    def bench(self, ctx: BenchContext) -> dict[str, float]:
        from ..bench.sms import bench_sms_gateway

        return bench_sms_gateway(ctx)


class _PhoneCitizens(Actor):
    """Every ``every_min`` simulated minutes a citizen who wants SMS arrives."""

    def __init__(self, ctx: DemoContext, every_min: float) -> None:
        super().__init__(ctx.config, ctx.broker_url, "demo-sms", ctx.clock)
        self.every_s = every_min * 60
        self.rng = random.Random(ctx.options.seed)
        self.called: set[int] = set()
        self.waiting: dict[int, str] = {}  # ticket id → request reference
        self.received: list[str] = []
        self.issued = 0

    def _on_call(self, msg: Message) -> None:
        try:
            self.called.add(int(msg.json()["ticket_id"]))
        except (ValueError, KeyError, TypeError):
            return

    def run(self) -> None:
        t = self.bus.topics
        self.bus.subscribe(t.event("call"), self._on_call)
        self.bus.start()
        n = 0
        while self.sleep_sim(self.every_s):
            try:
                n += 1
                service = self.rng.choice(self.config.services)
                issued: Any = self.request(
                    t.ticket_cmd(self.bus.sender, "issue"), service=service.id
                )
                if issued:
                    self.issued += 1
                    ticket = issued["ticket"]
                    phone = f"+20100{self.rng.randrange(10**7):07d}"  # simulated citizens only
                    self.request(t.request_cmd(self.bus.sender, "register"), ticket=ticket["number"],
                                 phone=phone, ref=f"DEMO-{n:03d}")  # fmt: skip
                    self.waiting[ticket["id"]] = f"DEMO-{n:03d}"
                for tid in [tid for tid in self.waiting if tid in self.called]:
                    ref = self.waiting.pop(tid)
                    self.request(t.request_cmd(self.bus.sender, "stage"), ref=ref, stage="received")
                    self.received.append(ref)
                if len(self.received) > 1:
                    self.request(
                        t.request_cmd(self.bus.sender, "stage"),
                        ref=self.received.pop(0),
                        stage="ready",
                    )
            except QueueError as exc:  # the demo goes on; the log says why
                log.warning("demo SMS citizen refused: %s", exc)
        self.bus.stop()
