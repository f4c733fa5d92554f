"""A kiosk daemon in this process on MockFactory pins, with a fake clock."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from appliance.drivers.buttons import pin_factory, reset_mock_factory
from appliance.drivers.printer.simulated import SimulatedPrinter
from appliance.kiosk.config import KioskButton, KioskUnit, PrinterSettings
from appliance.kiosk.daemon import KioskDaemon
from appliance.sim.harness.broker import Mosquitto
from appliance.sim.harness.procs import wait_until
from tests.support import Branch, Watcher, running_branch

PIN_BUILDING, PIN_RECONCILE, PIN_PRIORITY_BUILDING, PIN_PRIORITY = 17, 27, 22, 25
LED_OK, LED_FAULT, BUZZER = 5, 6, 13


class FakeClock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def kiosk_unit(**changes: Any) -> KioskUnit:
    unit = KioskUnit(
        unit="k1",
        buttons=[
            KioskButton(pin=PIN_BUILDING, service="building"),
            KioskButton(pin=PIN_RECONCILE, service="B"),
            KioskButton(pin=PIN_PRIORITY_BUILDING, service="building", priority=True),
            KioskButton(pin=PIN_PRIORITY, priority=True),
        ],
        printer=PrinterSettings(backend="simulated"),
        pin_factory="mock",
        status_led_pin=LED_OK,
        fault_led_pin=LED_FAULT,
        buzzer_pin=BUZZER,
        cooldown_s=2.0,
        request_timeout_s=1.0,
        request_attempts=2,
        status_poll_s=0.1,
    )
    return replace(unit, **changes)


class Rig:
    """A running kiosk and what the test needs around it."""

    def __init__(self, branch: Branch, unit: KioskUnit) -> None:
        reset_mock_factory()
        self.branch = branch
        self.factory = pin_factory("mock", environ={})
        self.printer = SimulatedPrinter("POS-5890")
        self.clock = FakeClock()
        self.kiosk = KioskDaemon(
            branch.config,
            unit,
            broker_url=branch.broker_url,
            printer=self.printer,
            factory=self.factory,
            clock=self.clock,
        )
        topics = branch.config_topics()
        self.status_topic = topics.status("kiosk", unit.unit)
        self.watch = Watcher(branch.config, self.status_topic)
        self.kiosk.start()
        self.wait_status("online")

    def press(self, pin: int, hold: float = 0.2) -> None:
        """A clean press: contact closed for ``hold`` seconds, then open."""
        self.factory.pin(pin).drive_low()
        self.clock.advance(hold)
        self.factory.pin(pin).drive_high()
        self.clock.advance(0.1)

    def wait_status(self, state: str, fault: str | None = None) -> dict[str, Any]:
        def match() -> bool:
            body = self.watch.latest(self.status_topic) or {}
            codes = [f["code"] for f in body.get("faults", [])]
            return body.get("state") == state and (fault is None or fault in codes)

        assert wait_until(match, 15), self.watch.latest(self.status_topic)
        return self.watch.latest(self.status_topic) or {}

    def wait_printed(self, count: int, timeout: float) -> bool:
        """Until the kiosk has printed ``count`` tickets (and recorded them)."""
        return wait_until(lambda: len(self.kiosk.counts.history) >= count, timeout)

    def led(self, pin: int) -> bool:
        return bool(self.factory.pin(pin).state)

    def close(self) -> None:
        self.kiosk.stop()
        self.watch.close()
        reset_mock_factory()


@contextmanager
def rig(tmp_path: Path, broker: Mosquitto, **changes: Any) -> Iterator[Rig]:
    with running_branch(tmp_path, broker.url) as branch:
        r = Rig(branch, kiosk_unit(**changes))
        try:
            yield r
        finally:
            r.close()


def tickets(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT label, state FROM tickets"))
