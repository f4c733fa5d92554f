"""A branch with a real master process and in-process counter daemons on
MockFactory pins with simulated displays (the firmware on a pty)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gpiozero.pins.mock import MockFactory

from appliance.config.branch import load_config
from appliance.counter.daemon import CounterDaemon
from appliance.drivers.sign.simulated import SimulatedBoard
from tests.support import Branch, running_branch

NEXT, RECALL, PAUSE, TRANSFER = 5, 6, 19, 13
SATISFIED = 20

UNITS = """
[[counter_units]]
unit = "cu-w2"
counter = "w2"
pin_factory = "mock"
transfer_service = "inquiries"
next_guard_s = 3
hold_s = 1.5
buttons = [
  { pin = 5, press = "next" },
  { pin = 6, press = "recall", hold = "no_show" },
  { pin = 13, press = "transfer" },
  { pin = 19, press = "pause" },
]
feedback = { satisfied = 20, neutral = 21, unsatisfied = 26 }
display = { address = 1, digits = 4, check_s = 0.3, %s }
"""
LAST_COUNTER = 'services = ["inquiries", "utilities"]\n'


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def units_toml(display_extra: str) -> str:
    if "backend" not in display_extra:
        display_extra += ', backend = "simulated"'
    return UNITS % display_extra


@contextmanager
def counter_branch(
    tmp_path: Path, broker_url: str, display_extra: str = "timeout_ms = 1000"
) -> Iterator[tuple[Branch, CounterDaemon, FakeClock]]:
    replace = {LAST_COUNTER: LAST_COUNTER + units_toml(display_extra)}
    with running_branch(tmp_path, broker_url, replace=replace) as branch:
        clock = FakeClock()
        daemon = CounterDaemon(
            load_config(branch.config_path), "cu-w2", pin_factory=MockFactory(), clock=clock
        )
        daemon.start()
        try:
            yield branch, daemon, clock
        finally:
            daemon.stop()


def tap(daemon: CounterDaemon, pin: int) -> None:
    """A press of 0.1 s (longer than the debounce, shorter than a hold)."""
    p = daemon.pin_factory.pin(pin)
    clock: FakeClock = daemon.clock  # type: ignore[assignment]
    clock.advance(0.1)  # apart from the last edge: not contact bounce
    p.drive_low()
    clock.advance(0.1)
    p.drive_high()
    clock.advance(0.1)  # released for longer than the debounce: a settled press


def board(daemon: CounterDaemon) -> SimulatedBoard:
    display: Any = daemon.display
    return display.board  # type: ignore[no-any-return]
