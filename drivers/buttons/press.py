"""From raw button edges to presses: debounce, hold and cooldown.

gpiozero's mock pins ignore ``bounce_time``, and a kiosk must behave the same
in tests as on the Pi, so the logic lives here with an injectable clock and
no timers of its own:

* a press counts on its leading edge (no added latency);
* edges within ``debounce`` seconds of the previous edge are contact bounce;
* a new press needs the button to have been released for ``debounce``
  seconds, so a held or bouncing button gives exactly one press;
* after a press, the same button is ignored for ``cooldown`` seconds (a child
  hammering the button does not empty the roll);
* a button held for ``hold_time`` gives one ``hold`` event, found by
  :meth:`PressDetector.tick` (call it every few tens of milliseconds).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Clock = Callable[[], float]


@dataclass(frozen=True)
class ButtonEvent:
    button: str
    kind: Literal["press", "hold"]
    at: float  #: clock time of the edge that made it


@dataclass
class PressCounts:
    """What the detector saw, for status pages and tests."""

    presses: int = 0
    holds: int = 0
    bounces: int = 0
    cooldown: int = 0


class PressDetector:
    def __init__(
        self,
        button: str,
        on_event: Callable[[ButtonEvent], None],
        *,
        clock: Clock,
        debounce: float = 0.05,
        cooldown: float = 2.0,
        hold_time: float | None = None,
    ) -> None:
        self.button = button
        self.on_event = on_event
        self.clock = clock
        self.debounce = debounce
        self.cooldown = cooldown
        self.hold_time = hold_time
        self.counts = PressCounts()
        self._pressed = False
        self._last_edge = float("-inf")
        self._released_at = float("-inf")
        self._pressed_at = float("-inf")
        self._last_press = float("-inf")
        self._held = False
        self._lock = threading.Lock()

    @property
    def pressed(self) -> bool:
        return self._pressed

    def edge(self, pressed: bool) -> None:
        """Feed one edge: ``True`` the contact closed, ``False`` it opened."""
        now = self.clock()
        event: ButtonEvent | None = None
        with self._lock:
            if pressed == self._pressed:
                return
            bounce = now - self._last_edge < self.debounce
            self._last_edge = now
            self._pressed = pressed
            if not pressed:
                self._released_at = now
                return
            if bounce or now - self._released_at < self.debounce:
                self.counts.bounces += 1
                return
            # A real press: the contact had been open for a while.
            self._pressed_at = now
            self._held = False
            if now - self._last_press < self.cooldown:
                self.counts.cooldown += 1
                return
            self._last_press = now
            self.counts.presses += 1
            event = ButtonEvent(self.button, "press", now)
        self.on_event(event)

    def tick(self) -> None:
        """Report a hold once the button has been down ``hold_time``."""
        if self.hold_time is None:
            return
        now = self.clock()
        with self._lock:
            if not self._pressed or self._held or now - self._pressed_at < self.hold_time:
                return
            self._held = True
            self.counts.holds += 1
            event = ButtonEvent(self.button, "hold", self._pressed_at)
        self.on_event(event)
