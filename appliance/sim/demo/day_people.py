"""The citizens and clerks of a busy day (:mod:`appliance.sim.demo.day`).

Citizens press the real kiosks' buttons (one press in flight per kiosk) and
clerks the real counters' "next" buttons (one per counter, as soon as the
display acknowledged the last call).  Each records the latency it saw:

* press → print: the kiosk's own record of the button edge and of the last
  byte handed to the printer (both on the units' clock);
* next → counter display: from just before the "next" pin is driven low to
  the display board's ACK of the frame with the called number;
* next → hall display: the same press to the moment the hall display's
  frame first showed the call (its ``--calls-log``; CLOCK_MONOTONIC is one
  clock for every process of the machine).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ...bus.client import BusClient, new_command_id
from ...counter.daemon import CounterDaemon
from ...counter.screen import View
from ...errors import NidaaError, QueueError
from ...kiosk.counts import Printed
from ..roles.counter import NEXT_PIN, CounterFleet
from ..roles.kiosk import KioskDemo

log = logging.getLogger(__name__)

#: Longest wait for one print or one call before the day is declared stuck.
STUCK_S = 60.0


class _Prints(deque[Printed]):
    """Stands in for a kiosk's history (as bounded): counts the tickets and
    wakes whoever waits for the next one."""

    def __init__(self, cond: threading.Condition, maxlen: int | None) -> None:
        super().__init__(maxlen=maxlen)
        self.cond = cond
        self.total = 0

    def append(self, item: Printed) -> None:
        with self.cond:
            super().append(item)
            self.total += 1
            self.cond.notify_all()


@dataclass
class DayPeople:
    """What the citizens and clerks did, and their threads."""

    tickets: int
    speed: float
    phone_every: int = 50
    priority_every: int = 10
    cond: threading.Condition = field(default_factory=threading.Condition)
    halt: threading.Event = field(default_factory=threading.Event)
    next_index: int = 0
    printed: int = 0
    refusals: int = 0
    press_to_print: list[float] = field(default_factory=list)
    next_to_ack: list[float] = field(default_factory=list)
    #: Ticket number → monotonic time of the "next" press that called it.
    pressed: dict[str, float] = field(default_factory=dict)
    called: set[int] = field(default_factory=set)
    phones: list[str] = field(default_factory=list)
    late_phones: int = 0  #: registrations refused: the ticket was already served
    #: Runs once, on the citizen's thread, when half the day's tickets are printed.
    at_half: Callable[[], object] | None = None
    errors: list[str] = field(default_factory=list)

    def done_calling(self) -> bool:
        return len(self.called) >= self.tickets

    def run(self, kiosks: KioskDemo, fleet: CounterFleet, tool: BusClient) -> None:
        """The whole day; returns once every ticket was printed and called."""
        threads = [
            threading.Thread(target=self._citizen, args=(kiosks, k, tool), daemon=True)
            for k in range(len(kiosks.kiosks))
        ]
        threads += [
            threading.Thread(target=self._clerk, args=(d,), daemon=True) for d in fleet.daemons
        ]
        for t in threads:
            t.start()
        with self.cond:
            while not self.halt.is_set() and not (
                self.printed >= self.tickets and self.done_calling()
            ):
                progress = self.printed + len(self.called)
                if not self.cond.wait_for(partial(self._moved, progress), STUCK_S):
                    self.errors.append(f"no print and no call for {STUCK_S:.0f} s")
                    self.halt.set()
            self.cond.notify_all()
        for t in threads:
            t.join(STUCK_S)
        if self.errors:
            raise NidaaError("the busy day got stuck: " + "; ".join(self.errors[:5]))

    def _moved(self, since: int) -> bool:
        return self.halt.is_set() or self.printed + len(self.called) != since

    def _printed_past(self, record: _Prints, seen: int) -> bool:
        return record.total > seen or self.halt.is_set()

    def _work_for_clerk(self, empty_at: int) -> bool:
        """Stop, or ask the master: tickets printed and not called (and, if
        it had nobody for this counter last time, a new one since)."""
        return (
            self.halt.is_set()
            or self.done_calling()
            or self.printed > max(empty_at, len(self.called))
        )

    def _fail(self, why: str) -> None:
        log.error("busy day: %s", why)
        with self.cond:
            self.errors.append(why)
            self.halt.set()
            self.cond.notify_all()

    # -- citizens ---------------------------------------------------------------
    def _citizen(self, kiosks: KioskDemo, k: int, tool: BusClient) -> None:
        _, daemon, _ = kiosks.kiosks[k]
        record = _Prints(self.cond, daemon.counts.history.maxlen)
        daemon.counts.history = record
        forget = getattr(daemon.printer, "forget_jobs", None)  # the simulated printer's
        services = kiosks.ctx.config.services
        tries, i = 0, -1
        while not self.halt.is_set():
            if not tries:  # a new citizen (after a refusal, the same one again)
                with self.cond:
                    if self.next_index >= self.tickets:
                        return
                    i = self.next_index
                    self.next_index += 1
            seen = record.total
            kiosks.press(services[i % len(services)].id, i % self.priority_every == 0, k)
            with self.cond:
                self.cond.wait_for(partial(self._printed_past, record, seen), STUCK_S)
            if record.total == seen:
                if self.halt.is_set():
                    return
                tries += 1
                self.refusals += 1
                if tries >= 3:
                    self._fail(f"kiosk {daemon.unit.unit} printed nothing: {daemon.faults()}")
                    return
                continue  # no number was taken: the same citizen presses again
            tries = 0
            done = record[-1]
            if forget is not None:
                # The simulated printer keeps every job; a real one keeps nothing.
                forget()
            ticket = done.result["ticket"]
            with self.cond:
                self.press_to_print.append((done.printed_at - done.pressed_at) / self.speed)
                self.printed += 1
                half = self.printed == self.tickets // 2
                self.cond.notify_all()
            if half and self.at_half is not None:
                self.at_half()
            if self.phone_every and i % self.phone_every == self.phone_every // 2:
                self._register_phone(tool, ticket["number"], i)

    def _register_phone(self, tool: BusClient, number: str, i: int) -> None:
        phone = f"+2010{i:08d}"  # a simulated citizen's number
        try:
            tool.request(
                tool.topics.request_cmd(tool.sender, "register"),
                {"id": new_command_id("day"), "ticket": number, "phone": phone,
                 "ref": f"DAY-{i:04d}"},
                timeout=5,
                attempts=3,
            )  # fmt: skip
            self.phones.append(phone)
        except QueueError as exc:
            if exc.code != "unknown_ticket":
                self._fail(f"registering a phone for {number} failed: {exc}")
                return
            # At full speed the clerk may have served the citizen already.
            self.late_phones += 1
        except NidaaError as exc:
            self._fail(f"registering a phone for {number} failed: {exc}")

    # -- clerks -----------------------------------------------------------------
    def _clerk(self, d: CounterDaemon) -> None:
        keeper = d.keeper
        assert keeper is not None
        empty_at = -1  # prints seen when the master last had nobody for us
        while True:
            with self.cond:
                self.cond.wait_for(partial(self._work_for_clerk, empty_at), 0.25)
                if self.halt.is_set() or self.done_calling():
                    return
            # The double-press guard (milliseconds on the day's clock), as the
            # counter itself counts it: from when it took the last 'next'.
            while (left := d.next_guard_left()) > 0 and not self.halt.is_set():
                self.halt.wait(left / self.speed)
            answered = d.answered
            last = time.monotonic()
            d.pin_factory.pin(NEXT_PIN).drive_low()
            d.pin_factory.pin(NEXT_PIN).drive_high()
            if not d.wait_outcome(answered + 1, STUCK_S):
                self._fail(f"counter {d.counter}: 'next' got no answer")
                return
            result = d.outcomes[-1][1]
            if isinstance(result, str):
                self._fail(f"counter {d.counter}: 'next' {result}")
                return
            ticket: Any = result.get("ticket")
            if not isinstance(ticket, dict):
                empty_at = self.printed
                continue
            call = (int(ticket["id"]), 0)
            shown = keeper.wait_shown(partial(_is_call, call), STUCK_S)
            if shown is None:
                self._fail(f"counter {d.counter}: {ticket['number']} never acknowledged")
                return
            acked = next(t for t, v in reversed(list(keeper.acked)) if v == shown)
            with self.cond:
                self.next_to_ack.append(acked - last)
                self.pressed[str(ticket["number"])] = last
                self.called.add(call[0])
                self.cond.notify_all()


def _is_call(call: tuple[int, int], view: View) -> bool:
    return view.call == call
