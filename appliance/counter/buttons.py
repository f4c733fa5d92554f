"""The clerk's buttons and the feedback box, on the shared buttons driver.

:class:`~appliance.drivers.buttons.ButtonBoard` reports a ``press`` on the
leading edge and, for a button kept down ``hold_time``, a ``hold`` as well.
A counter button that has both a press and a hold action must do exactly one
of them, so for those buttons the press is held back until the button is
seen released on ``settle_polls`` consecutive looks (``poll_interval``
apart, so a bouncing contact is not taken for a release); a hold that comes
first cancels it.  Buttons without a
hold action act on the leading edge, with no added latency.  The board's
own cooldown is off: the counter's "second next" guard lives in the daemon,
where it knows about actions rather than pins.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..drivers.buttons import ButtonBoard, ButtonEvent

log = logging.getLogger(__name__)

Gesture = Callable[[str, str], None]


@dataclass(frozen=True)
class Wiring:
    """One button: its name for the callback, its BCM pin, and whether it has
    a hold action (then a press counts only once it is released)."""

    name: str
    pin: int
    has_hold: bool = False


class CounterButtons:
    def __init__(
        self,
        wiring: list[Wiring],
        on_gesture: Gesture,
        *,
        factory: Any,
        hold_s: float = 1.5,
        debounce: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        poll_interval: float = 0.02,
        settle_polls: int = 2,
    ) -> None:
        self.on_gesture = on_gesture
        self.clock = clock
        self.settle_polls = settle_polls
        self._dual = {w.name for w in wiring if w.has_hold}
        self._lock = threading.Lock()
        # name -> consecutive looks that found the button released
        self._pending: dict[str, int] = {}
        self.board = ButtonBoard(
            {w.name: w.pin for w in wiring},
            self._on_event,
            factory=factory,
            clock=clock,
            debounce=debounce,
            cooldown=0.0,
            hold_time=hold_s if self._dual else None,
        )
        self._halt = threading.Event()
        self._poller: threading.Thread | None = None
        if self._dual:
            self._poller = threading.Thread(
                target=self._poll_loop, args=(poll_interval,), name="counter-buttons", daemon=True
            )
            self._poller.start()

    def _on_event(self, event: ButtonEvent) -> None:
        name = event.button
        if name not in self._dual:
            if event.kind == "press":
                self._emit(name, "press")
            return
        with self._lock:
            if event.kind == "press":
                self._pending[name] = 0
                return
            if self._pending.pop(name, None) is None:
                return  # already settled as a press
        self._emit(name, "hold")

    def _poll_loop(self, interval: float) -> None:
        while not self._halt.wait(interval):
            self.poll()

    def poll(self) -> None:
        """Settle held-back presses of buttons released by now."""
        settled = []
        with self._lock:
            for name, looks in list(self._pending.items()):
                if self.board.detectors[name].pressed:
                    self._pending[name] = 0
                elif looks + 1 >= self.settle_polls:
                    del self._pending[name]
                    settled.append(name)
                else:
                    self._pending[name] = looks + 1
        for name in settled:
            self._emit(name, "press")

    def _emit(self, name: str, gesture: str) -> None:
        try:
            self.on_gesture(name, gesture)
        except Exception:  # a failing handler must not silence the button
            log.exception("button %s %s handler failed", name, gesture)

    def close(self) -> None:
        self._halt.set()
        if self._poller is not None:
            self._poller.join(2)
        self.board.close()
