"""The clerk's buttons and the feedback box, through gpiozero.

The kiosk's shared buttons driver was not on a branch this unit could merge
when it was written, so this small glue stands behind the one-method
interface the daemon needs: it reports *gestures* — ``(name, "press")`` or
``(name, "hold")`` — to a callback.

gpiozero's mock pins ignore ``bounce_time``, and a hold measured by a timer
thread cannot be tested without sleeping, so debounce and hold are decided
here from an injectable clock: an edge closer than ``debounce`` to the
button's previous edge is bounce; a button with a hold action
reports on release (held ``hold_seconds`` or more: ``hold``), a button
without one reports ``press`` at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import HardwareError

log = logging.getLogger(__name__)

Gesture = Callable[[str, str], None]


@dataclass(frozen=True)
class Wiring:
    """One button: its name for the callback, its BCM pin, and whether it has
    a hold action (then it reports on release)."""

    name: str
    pin: int
    has_hold: bool = False


def make_pin_factory(backend: str) -> Any:
    """The gpiozero pin factory for ``backend`` ('gpio': gpiozero's default
    for the board it runs on, 'mock': MockFactory)."""
    try:
        if backend == "mock":
            from gpiozero.pins.mock import MockFactory

            return MockFactory()
        return None  # gpiozero picks lgpio / RPi.GPIO / pigpio itself
    except ImportError as exc:
        raise HardwareError("gpiozero is not installed: pip install gpiozero") from exc


class GpioButtons:
    def __init__(
        self,
        wiring: list[Wiring],
        on_gesture: Gesture,
        *,
        hold_seconds: float = 1.5,
        debounce: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        pin_factory: Any = None,
    ) -> None:
        try:
            from gpiozero import Button
            from gpiozero.exc import GPIOZeroError
        except ImportError as exc:
            raise HardwareError("gpiozero is not installed: pip install gpiozero") from exc
        self.on_gesture = on_gesture
        self.hold_seconds = hold_seconds
        self.debounce = debounce
        self.clock = clock
        self._lock = threading.Lock()
        self._last_edge: dict[str, float] = {}
        self._down_at: dict[str, float] = {}
        self._buttons: list[Any] = []
        try:
            for w in wiring:
                # pull_up: the button connects the pin to ground, no resistor needed.
                b = Button(w.pin, pull_up=True, bounce_time=None, pin_factory=pin_factory)
                b.when_pressed = self._pressed_handler(w)
                b.when_released = self._released_handler(w)
                self._buttons.append(b)
        except GPIOZeroError as exc:
            self.close()
            raise HardwareError(f"cannot use the button pins: {exc}") from exc

    def _accept_edge(self, name: str) -> float | None:
        # An edge counts only after the line was quiet for `debounce`: every
        # edge, taken or not, restarts the quiet time, so a long bounce never
        # turns into a second press.
        now = self.clock()
        last = self._last_edge.get(name)
        self._last_edge[name] = now
        if last is not None and now - last < self.debounce:
            return None
        return now

    def _pressed_handler(self, w: Wiring) -> Callable[[], None]:
        def pressed() -> None:
            with self._lock:
                now = self._accept_edge(w.name)
                if now is None:
                    return
                # A release lost as bounce would leave the button "down": a new
                # press edge starts afresh.
                self._down_at[w.name] = now
            if not w.has_hold:
                self._emit(w.name, "press")

        return pressed

    def _released_handler(self, w: Wiring) -> Callable[[], None]:
        def released() -> None:
            with self._lock:
                now = self._accept_edge(w.name)
                if now is None:
                    return
                down = self._down_at.pop(w.name, None)
            if down is None or not w.has_hold:
                return
            self._emit(w.name, "hold" if now - down >= self.hold_seconds else "press")

        return released

    def _emit(self, name: str, gesture: str) -> None:
        try:
            self.on_gesture(name, gesture)
        except Exception:  # a failing handler must not silence the button
            log.exception("button %s %s handler failed", name, gesture)

    def close(self) -> None:
        for b in self._buttons:
            b.close()
        self._buttons.clear()
