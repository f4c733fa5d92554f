"""Real kiosk daemons in the virtual branch (`nidaa demo`).

:class:`KioskSim` runs the kiosks in ``nidaa demo`` and ``nidaa bench``:
its demo starts one :class:`~appliance.kiosk.daemon.KioskDaemon` per ``[[kiosks]]``
entry (or one default kiosk with a button per service) on gpiozero mock pins
and a simulated printer that saves every printed ticket as PNG (and the exact
ESC/POS bytes as .bin) under ``<demo out>/tickets/<unit>/``.  Simulated
citizens arrive as a Poisson process on the demo's compressed clock and press
the button of their service (the priority button first for a share of them).
"""

from __future__ import annotations

import logging
import random
import threading
from typing import TYPE_CHECKING, Any

from ...kiosk.config import KioskUnit, default_kiosk, simulated

if TYPE_CHECKING:
    from ...kiosk.daemon import KioskDaemon
    from ..hooks import BenchContext, DemoContext

log = logging.getLogger(__name__)


class KioskDemo:
    """The kiosks of a virtual branch and the citizens pressing their buttons."""

    def __init__(
        self,
        ctx: DemoContext,
        *,
        per_hour: float | None = None,
        priority_share: float | None = None,
        seed: int | None = None,
        save_tickets: bool = True,
    ) -> None:
        from gpiozero.pins.mock import MockFactory

        from ...kiosk.daemon import KioskDaemon

        cfg = ctx.config
        self.ctx = ctx
        self.per_hour = ctx.options.per_hour if per_hour is None else per_hour
        self.priority_share = (
            ctx.options.priority_share if priority_share is None else priority_share
        )
        self.rng = random.Random(ctx.options.seed if seed is None else seed)
        units = list(cfg.kiosks) or [default_kiosk(cfg)]
        self.kiosks: list[tuple[KioskUnit, KioskDaemon, Any]] = []
        self._halt = threading.Event()
        for unit in units:
            # A busy day's 3,000 tickets would be 400 MB of files: it keeps none.
            sim = simulated(unit, str(ctx.out / "tickets" / unit.unit) if save_tickets else "")
            factory = MockFactory()  # each kiosk is its own Pi with its own pins
            # The demo's clock runs the day fast: cooldown and debounce are
            # measured on it, as everything else in the virtual branch.
            daemon = KioskDaemon(
                cfg, sim, broker_url=ctx.broker_url, factory=factory, clock=ctx.clock
            )
            daemon.start()
            self.kiosks.append((sim, daemon, factory))
        self._thread = threading.Thread(target=self._citizens, name="demo-citizens", daemon=True)
        if self.per_hour > 0:
            self._thread.start()

    def press(self, service: str, priority: bool = False, kiosk: int = 0) -> bool:
        """Press the button of ``service`` (id or prefix); False if the kiosk
        has no such button."""
        unit, _, factory = self.kiosks[kiosk]
        sid = self.ctx.config.service(service).id
        pins = [
            b.pin
            for b in unit.buttons
            if b.service and self.ctx.config.service(b.service).id == sid
        ]
        if not pins:
            return False
        if priority:
            marks = [b.pin for b in unit.buttons if b.priority and not b.service]
            if marks:
                self._tap(factory, marks[0])
        self._tap(factory, pins[0])
        return True

    def _tap(self, factory: Any, pin: int) -> None:
        factory.pin(pin).drive_low()
        # Held for a quarter of a simulated second: longer than the debounce.
        self._halt.wait(self.ctx.clock.real_seconds(0.25))
        factory.pin(pin).drive_high()

    def _citizens(self) -> None:
        services = self.ctx.config.services
        weights = [1 / s.service_minutes for s in services]
        while not self._halt.wait(
            self.ctx.clock.real_seconds(self.rng.expovariate(self.per_hour / 3600))
        ):
            service = self.rng.choices(services, weights)[0]
            kiosk = self.rng.randrange(len(self.kiosks))
            priority = self.rng.random() < self.priority_share
            try:
                self.press(service.id, priority, kiosk)
            except Exception:  # one odd press must not stop the arrivals
                log.exception("demo press failed")

    @property
    def printed(self) -> int:
        return sum(d.counts.printed for _, d, _ in self.kiosks)

    def stop(self) -> None:
        self._halt.set()
        if self._thread.is_alive():
            self._thread.join(5)
        for _, daemon, factory in self.kiosks:
            daemon.stop()
            factory.close()


class KioskSim:
    """The kiosks in the simulator (:class:`~appliance.sim.hooks.RoleSim`)."""

    name = "kiosk"

    def demo(self, ctx: DemoContext) -> KioskDemo:
        return KioskDemo(ctx)

    def bench(self, ctx: BenchContext) -> dict[str, float]:
        from ..bench.kiosk import bench_kiosk

        return bench_kiosk(ctx)
