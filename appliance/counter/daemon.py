"""The counter daemon: buttons → commands to the master; retained counter
state → the LED display.

Threads: gpiozero's (button edges, kept short), paho's network thread
(state and presence messages, kept short), one worker that sends commands
and waits for the master, and the display keeper.  Nothing that blocks runs
on the first two.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..bus.client import BusClient, Message, new_command_id
from ..bus.presence import MasterWatch
from ..config.branch import Config
from ..drivers.buttons import pin_factory as shared_pin_factory
from ..drivers.sign import Display, open_display
from ..errors import BusError, QueueError
from ..queue.model import RATINGS
from ..systemd import Notifier
from .buttons import CounterButtons, Wiring
from .config import CounterUnit
from .screen import DisplayKeeper, View
from .units import select_unit

log = logging.getLogger(__name__)

_UNSET: Any = object()


@dataclass(frozen=True)
class Job:
    action: str  # the command topic's action
    payload: dict[str, Any]


class CounterDaemon:
    def __init__(
        self,
        config: Config,
        unit_id: str | None = None,
        broker_url: str | None = None,
        *,
        pin_factory: Any = None,
        clock: Callable[[], float] = time.monotonic,
        display: Display | None = _UNSET,
    ) -> None:
        self.config = config
        self.unit: CounterUnit = select_unit(config, unit_id)
        self.counter = self.unit.counter
        self.clock = clock
        self.bus = BusClient(config, role="counter", unit=self.unit.unit, broker_url=broker_url)
        self.topics = self.bus.topics
        self.pin_factory = pin_factory or shared_pin_factory(self.unit.pin_factory)
        self.display = open_display(self.unit.display) if display is _UNSET else display
        self.keeper = (
            DisplayKeeper(self.display, self.unit.display, self._display_health)
            if self.display is not None
            else None
        )
        self.buttons: CounterButtons | None = None
        self.jobs: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._state: dict[str, Any] | None = None
        self._master_online = False
        self._masters = MasterWatch.of(config)  # with a standby, any candidate
        self._connected = False
        self._last_next: float | None = None
        self._finished: tuple[int, float] | None = None  # (ticket id, when) for feedback
        self._rated: set[int] = set()
        self._worker = threading.Thread(target=self._work, name="counter-commands", daemon=True)
        self._watcher = threading.Thread(target=self._watch, name="counter-watch", daemon=True)
        #: Outcomes of the presses, newest last: (action, result or error text).
        self.outcomes: list[tuple[str, dict[str, Any] | str]] = []
        self.answered = 0  # presses answered (or given up) since the start
        self._outcome = threading.Condition()

    # -- life -------------------------------------------------------------------
    def start(self) -> CounterDaemon:
        t = self.topics
        self.bus.subscribe(t.counter_state(self.counter), self._on_state)
        for master_topic in self._masters.topics(t):
            self.bus.subscribe(master_topic, self._on_master)
        self.bus.set_status("online", **self._details())
        self.bus.start()
        if self.keeper is not None:
            self.keeper.start()
            self._refresh()
        self._worker.start()
        self._watcher.start()
        wiring = [Wiring(f"b{i}", b.pin, b.hold != "none") for i, b in enumerate(self.unit.buttons)]
        if self.unit.feedback is not None:
            fb = self.unit.feedback
            wiring += [Wiring(r, getattr(fb, r)) for r in RATINGS]
        self.buttons = CounterButtons(
            wiring,
            self._on_gesture,
            factory=self.pin_factory,
            hold_s=self.unit.hold_s,
            debounce=self.unit.debounce_ms / 1000,
            clock=self.clock,
        )
        return self

    def run(self) -> None:
        """Serve until :meth:`request_stop` (the CLI calls it on SIGTERM)."""
        notifier = Notifier()
        self.start()
        notifier.ready(f"counter {self.counter}, unit {self.unit.unit}")
        try:
            while not self._halt.wait(0.5):
                # A dead worker or display thread must not look alive to the watchdog.
                if self._worker.is_alive() and (self.keeper is None or self.keeper.is_alive()):
                    notifier.alive()
        finally:
            notifier.stopping()
            self.stop()

    def _watch(self) -> None:
        # paho tells of a lost broker only on its own thread; a look twice a
        # second is enough to put the offline sign up (or take it down).
        while not self._halt.wait(0.5):
            if self.bus.connected != self._connected:
                self._refresh()

    def request_stop(self) -> None:
        """Ask :meth:`run` to return (safe from a signal handler)."""
        self._halt.set()

    def stop(self) -> None:
        self._halt.set()
        if self.buttons is not None:
            self.buttons.close()
        self.jobs.put(None)
        if self._worker.is_alive():
            self._worker.join(5)
        if self.keeper is not None:
            if self.keeper.is_alive():  # a stopped unit must not leave a stale number up
                off = self.unit.display.offline_text
                self.keeper.show(View("text", off))
                self.keeper.wait_shown(lambda v: v.text == off, 1.0)
            self.keeper.stop()
        elif self.display is not None:
            self.display.close()
        self.bus.stop()

    # -- buttons ----------------------------------------------------------------
    def _on_gesture(self, name: str, gesture: str) -> None:
        if name in RATINGS:
            self._feedback(name)
            return
        spec = self.unit.buttons[int(name[1:])]
        action = spec.hold if gesture == "hold" and spec.hold != "none" else spec.press
        log.info("button %s (GPIO%d) %s: %s", name, spec.pin, gesture, action)
        self.press(action)

    def press(self, action: str) -> bool:
        """Act on a clerk's action; False when it was ignored."""
        now = self.clock()
        with self._lock:
            state = (self._state or {}).get("state")
            if action == "next":
                guard = self.unit.next_guard_s
                if self._last_next is not None and now - self._last_next < guard:
                    log.info("second 'next' within %.1f s ignored: no citizen is skipped", guard)
                    return False
                self._last_next = now
                job = Job("call-next", {})
            elif action in ("recall", "no_show", "done"):
                job = Job(action.replace("_", "-"), {})
            elif action == "transfer":
                job = Job("transfer", {"service": self.unit.transfer_service})
            elif action == "pause":
                job = Job("resume" if state == "paused" else "pause", {})
            else:
                return False
        self.jobs.put(job)
        return True

    def _feedback(self, rating: str) -> None:
        # The master takes a rating for a served ticket only: the citizen whose
        # service just ended (the clerk pressed next or done), within the window.
        with self._lock:
            tid: int | None = None
            if self._finished is not None and self.unit.feedback is not None:
                finished_id, at = self._finished
                if self.clock() - at <= self.unit.feedback.window_s:
                    tid = finished_id
            if tid is None or tid in self._rated:
                log.info("feedback %s ignored: no citizen to rate, or already rated", rating)
                return
            self._rated.add(tid)
        self.jobs.put(Job("feedback", {"ticket_id": tid, "rating": rating}))

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            body = {"id": new_command_id(self.unit.unit), **job.payload}
            topic = self.topics.counter_cmd(self.bus.sender, self.counter, job.action)
            outcome: dict[str, Any] | str
            try:
                # The same id on every attempt: the master applies it once.
                outcome = self.bus.request(
                    topic, body, timeout=self.unit.request_timeout_s, attempts=3
                )
            except QueueError as exc:
                outcome = f"refused: {exc}"
                log.info("%s refused by the master: %s", job.action, exc)
            except BusError as exc:
                outcome = f"unreachable: {exc}"
                log.warning("%s not delivered: %s", job.action, exc)
            with self._outcome:
                self.outcomes.append((job.action, outcome))
                del self.outcomes[:-50]
                self.answered += 1
                self._outcome.notify_all()

    def next_guard_left(self) -> float:
        """Seconds on the unit's clock until a 'next' press is taken again
        (0: now); a press sooner is the ignored second 'next'."""
        with self._lock:
            if self._last_next is None:
                return 0.0
            return max(0.0, self._last_next + self.unit.next_guard_s - self.clock())

    def wait_outcome(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` presses have been answered (tests, benchmark)."""
        with self._outcome:
            return self._outcome.wait_for(lambda: self.answered >= count, timeout)

    # -- bus --------------------------------------------------------------------
    def _on_state(self, msg: Message) -> None:
        try:
            state = msg.json()
        except ValueError:
            log.warning("ignoring a malformed counter state on %s", msg.topic)
            return
        with self._lock:
            before = (self._state or {}).get("ticket")
            after = state.get("ticket")
            if isinstance(before, dict) and (
                not isinstance(after, dict) or after.get("id") != before.get("id")
            ):
                self._finished = (int(before["id"]), self.clock())
            self._state = state
        self._refresh()

    def _on_master(self, msg: Message) -> None:
        try:
            state = msg.json().get("state") if msg.payload else None
            online = self._masters.update(self.topics.parse_status(msg.topic)[1], state)
        except ValueError:
            return
        with self._lock:
            self._master_online = online
        self._refresh()

    # -- display ----------------------------------------------------------------
    def view(self) -> View:
        """What the display should show now."""
        d = self.unit.display
        with self._lock:
            self._connected = self.bus.connected
            if not (self._connected and self._master_online):
                return View("text", d.offline_text)
            state = self._state
        if state is None:
            return View("text", d.idle_text)
        kind = state.get("state")
        ticket = state.get("ticket")
        if kind == "serving" and isinstance(ticket, dict) and ticket.get("number"):
            call = (int(ticket.get("id", 0)), int(ticket.get("recalls", 0)))
            return View("number", str(ticket["number"]), call)
        if kind == "paused":
            return View("text", d.paused_text)
        if kind == "closed":
            return View("text", d.closed_text)
        return View("text", d.idle_text)

    def _refresh(self) -> None:
        view = self.view()
        if self.keeper is not None:
            self.keeper.show(view)

    def _details(self) -> dict[str, Any]:
        d = self.unit.display
        where = d.port if d.backend == "serial" else d.backend
        return {"counter": self.counter, "display": f"{d.protocol}@{d.address} on {where}"}

    def _display_health(self, faults: list[dict[str, str]]) -> None:
        self.bus.set_status("degraded" if faults else "online", faults, **self._details())
