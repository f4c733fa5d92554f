"""Keeps the counter's LED display showing what it should, through faults.

The daemon sets the wanted :class:`View`; one thread of this module's own
renders it, so a slow or dead display never holds up a button press or the
network thread.  A display that fails is reported (``on_health`` with the
faults) and retried every ``check_s``; an idle one is pinged as often,
so an unplugged display is noticed before the next call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ..drivers.sign import Display, DisplayError
from .config import DisplayConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class View:
    """What the display should show.  ``call`` identifies a call (ticket id
    and recall count): a view whose call differs from the last one blinked
    blinks once rendered."""

    kind: Literal["number", "text"]
    text: str
    call: tuple[int, int] | None = None


Health = Callable[[list[dict[str, str]]], None]


class DisplayKeeper(threading.Thread):
    def __init__(self, display: Display, cfg: DisplayConfig, on_health: Health) -> None:
        super().__init__(name="counter-display", daemon=True)
        self.display = display
        self.cfg = cfg
        self.on_health = on_health
        self._cond = threading.Condition()
        self._wanted: View | None = None
        self._shown: View | None = None
        self._blinked: tuple[int, int] | None = None
        self._fault: str | None = None
        self._needs_setup = True
        self._halt = False
        #: For tests and the benchmark: (monotonic time of the display's ACK,
        #: view) of the latest views drawn.
        self.acked: list[tuple[float, View]] = []

    # -- the daemon's side ----------------------------------------------------
    def show(self, view: View) -> None:
        with self._cond:
            self._wanted = view
            self._cond.notify_all()

    @property
    def fault(self) -> str | None:
        return self._fault

    def wait_shown(self, match: Callable[[View], bool], timeout: float) -> View | None:
        """Wait until the display acknowledged a view that ``match``es."""
        with self._cond:
            ok = self._cond.wait_for(
                lambda: self._shown is not None and match(self._shown), timeout
            )
            return self._shown if ok else None

    def stop(self) -> None:
        with self._cond:
            self._halt = True
            self._cond.notify_all()
        if self.is_alive():
            self.join(5)
        self.display.close()  # also when the thread never started

    # -- the thread -------------------------------------------------------------
    def run(self) -> None:
        last_contact = time.monotonic()
        while True:
            with self._cond:
                self._cond.wait_for(
                    lambda: self._halt or (self._wanted != self._shown and self._fault is None),
                    timeout=self.cfg.check_s,
                )
                if self._halt:
                    return
                wanted = self._wanted
            try:
                if self._needs_setup:
                    self.display.brightness(self.cfg.brightness)
                    self._needs_setup = False
                if wanted is not None and wanted != self._shown:
                    self._render(wanted)
                elif time.monotonic() - last_contact >= self.cfg.check_s:
                    self.display.ping()
                last_contact = time.monotonic()
                self._healthy()
            except DisplayError as exc:
                self._faulty(exc)

    def _render(self, view: View) -> None:
        if view.kind == "number":
            self.display.show_number(view.text)
        else:
            self.display.show_text(view.text)
        with self._cond:  # the display has drawn it: what the benchmark times
            self.acked.append((time.monotonic(), view))
            del self.acked[:-100]
            self._cond.notify_all()
        if view.call is not None and view.call != self._blinked:
            self.display.blink(self.cfg.blink_times)
            self._blinked = view.call
        with self._cond:
            self._shown = view
            self._cond.notify_all()

    def _faulty(self, exc: DisplayError) -> None:
        message = str(exc)
        with self._cond:
            self._shown = None  # redraw everything once it answers again
            self._needs_setup = True
            changed = self._fault != message
            self._fault = message
        if changed:
            log.warning("display fault: %s", message)
            self.on_health([{"code": f"display_{exc.fault}", "message": message}])

    def _healthy(self) -> None:
        if self._fault is not None:
            log.info("display answers again")
            with self._cond:
                self._fault = None
            self.on_health([])
