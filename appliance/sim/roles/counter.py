"""Counter units in the virtual branch (``nidaa demo``).

:class:`CounterSim` runs the counters in ``nidaa demo`` and ``nidaa bench``.
:class:`CounterFleet` runs one real
:class:`~.daemon.CounterDaemon` per counter, in this process, on MockFactory
pins and a simulated display each (the firmware code on its own pty), on the
demo's compressed clock.  With ``clerks=True`` simulated clerks press the
buttons (next; a held recall for a no-show), so the demo's own bus clerks
must then be left out for those counters; with ``clerks=False`` the daemons
only mirror the calls onto their displays.  Every change of a display is
written to ``counter-displays.log`` in the demo's output folder.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ...counter.config import ButtonSpec, CounterUnit, DisplayConfig
from ...counter.daemon import CounterDaemon

if TYPE_CHECKING:
    from ..hooks import BenchContext, DemoContext

NEXT_PIN, RECALL_PIN, PAUSE_PIN = 5, 6, 19


def demo_units(config: Any) -> list[CounterUnit]:
    return [
        CounterUnit(
            unit=f"demo-counter-{c.id}",
            counter=c.id,
            pin_factory="mock",
            buttons=[
                ButtonSpec(pin=NEXT_PIN, press="next"),
                ButtonSpec(pin=RECALL_PIN, press="recall", hold="no_show"),
                ButtonSpec(pin=PAUSE_PIN, press="pause"),
            ],
            display=DisplayConfig(backend="simulated", digits=4, check_s=2.0),
        )
        for c in config.counters
    ]


class CounterFleet:
    def __init__(self, ctx: Any, *, clerks: bool = False, no_show_share: float = 0.05) -> None:
        self.ctx = ctx
        cfg = dataclasses.replace(ctx.config, counter_units=demo_units(ctx.config))
        from gpiozero.pins.mock import MockFactory

        # One MockFactory per unit: each stands for the GPIO of its own Pi.
        self.daemons = [
            CounterDaemon(
                cfg, u.unit, ctx.broker_url, clock=ctx.clock, pin_factory=MockFactory()
            ).start()
            for u in cfg.counter_units
        ]
        self.halt = threading.Event()
        #: (counter, text) of every view the displays acknowledged, in order.
        self.history: list[tuple[str, str]] = []
        self.threads = [threading.Thread(target=self._log_displays, daemon=True)]
        if clerks:
            rng = random.Random(ctx.options.seed + 7)
            minutes = {s.id: s.service_minutes for s in cfg.services}
            for d in self.daemons:
                args = (d, random.Random(rng.random()), minutes, no_show_share)
                self.threads.append(threading.Thread(target=self._clerk, args=args, daemon=True))
        for t in self.threads:
            t.start()

    def texts(self) -> dict[str, str]:
        """What each counter's display shows now (counter id → digits)."""
        return {d.counter: _board(d).text() for d in self.daemons}

    def _log_displays(self) -> None:
        # Every view a display acknowledged, from its keeper's record, so that
        # no short-lived number is missed between two looks.
        tz = ZoneInfo(self.ctx.config.branch.timezone)
        seen: dict[str, float] = {}
        with (self.ctx.out / "counter-displays.log").open("a", encoding="utf-8") as log:
            while True:
                stopping = self.halt.wait(0.2)  # one last pass once told to stop
                for d in self.daemons:
                    if d.keeper is None:
                        continue
                    for at, view in list(d.keeper.acked):
                        if at <= seen.get(d.counter, 0.0):
                            continue
                        seen[d.counter] = at
                        now = datetime.fromtimestamp(self.ctx.clock(), tz)
                        self.history.append((d.counter, view.text))
                        log.write(f"{now:%H:%M:%S} {d.counter}: {view.text or '(blank)'}\n")
                log.flush()
                if stopping:
                    return

    def _sleep(self, simulated: float) -> bool:
        return not self.halt.wait(self.ctx.clock.real_seconds(simulated))

    def _clerk(
        self, d: CounterDaemon, rng: random.Random, minutes: dict[str, float], no_shows: float
    ) -> None:
        pins = d.pin_factory
        while not self.halt.is_set():
            answered = d.answered
            pins.pin(NEXT_PIN).drive_low()
            pins.pin(NEXT_PIN).drive_high()
            if not d.wait_outcome(answered + 1, 10):
                continue
            result = d.outcomes[-1][1]
            ticket = result.get("ticket") if isinstance(result, dict) else None
            if not isinstance(ticket, dict):
                if not self._sleep(30):
                    return
                continue
            if rng.random() < no_shows:
                self._sleep(60)
                pins.pin(RECALL_PIN).drive_low()  # held: no-show
                # Long enough in simulated time for a hold, and in real time for
                # the button board's 50 ms look to see it still down.
                self._sleep(2 * d.unit.hold_s)
                self.halt.wait(0.15)
                pins.pin(RECALL_PIN).drive_high()
                d.wait_outcome(answered + 2, 10)
                continue
            mean = minutes.get(str(ticket.get("service")), 5.0) * 60
            if not self._sleep(max(d.unit.next_guard_s, rng.gammavariate(4, mean / 4))):
                return

    def stop(self) -> None:
        self.halt.set()
        for t in self.threads:
            t.join(5)
        for d in self.daemons:
            d.stop()


def _board(d: CounterDaemon) -> Any:
    return getattr(d.display, "board", None) or _NoBoard()


class _NoBoard:
    def text(self) -> str:
        return ""


class CounterSim:
    """The counters in the simulator (:class:`~appliance.sim.hooks.RoleSim`)."""

    name = "counter"

    def demo(self, ctx: DemoContext) -> CounterFleet:
        """Counter daemons whose buttons simulated clerks press."""
        return CounterFleet(ctx, clerks=True, no_show_share=ctx.options.no_show_share)

    def bench(self, ctx: BenchContext) -> dict[str, float]:
        from ..bench.counter import bench_counter

        return bench_counter(samples=max(40, min(ctx.samples, 200)), config=ctx.config_path)
