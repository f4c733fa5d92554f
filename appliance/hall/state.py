"""What the hall screen shows, built from the bus and read as snapshots.

The bus handlers (paho's network thread) write here; the drawing loop reads
immutable :class:`HallSnapshot` copies, so drawing never holds the lock.
Every change bumps ``version`` and calls ``on_change`` (the daemon wakes the
drawing loop with it): no change, no redraw.

No call is skipped on screen: calls that arrive faster than frames are taken
into the picture (:meth:`HallState.next_frame`) at most as many per frame as
the screen lists (the current call and the last ones), in order, so a burst
pushes nothing off the list before a frame showed it, however briefly.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..config.branch import Config


@dataclass(frozen=True)
class Call:
    """A ticket called to a window, as the screen lists it."""

    ticket: str
    window: int
    counter: str = ""
    service: str = ""
    recall: int = 0
    priority: bool = False
    event_id: str = ""
    #: time.monotonic() when it arrived: the flash starts then.
    received: float = field(default_factory=time.monotonic)
    #: False for calls learnt from retained counter state at start-up: shown, not spoken.
    fresh: bool = True


@dataclass(frozen=True)
class ServiceInfo:
    id: str
    prefix: str
    name_ar: str
    waiting: int = 0
    waiting_priority: int = 0
    estimate_minutes: float | None = None
    open_counters: int = 0


@dataclass(frozen=True)
class HallSnapshot:
    calls: tuple[Call, ...] = ()  #: newest first
    services: tuple[ServiceInfo, ...] = ()
    master_online: bool | None = None  #: None: no status seen yet
    bus_connected: bool = True
    version: int = 0
    #: Calls received so far, and how many of them are in this snapshot
    #: (:meth:`HallState.next_frame` holds back the rest of a burst).
    received: int = 0
    shown: int = 0

    @property
    def pending(self) -> int:
        """Calls received but not yet in this snapshot: draw again at once."""
        return self.received - self.shown

    @property
    def current(self) -> Call | None:
        return self.calls[0] if self.calls else None

    @property
    def offline(self) -> bool:
        """The sign is shown: the master's Last Will fired, or the broker is lost."""
        return self.master_online is False or not self.bus_connected


def call_from_event(payload: Mapping[str, Any]) -> Call:
    """A :class:`Call` from an ``event/call`` payload; ``ValueError`` if unusable."""
    ticket, window = payload.get("ticket"), payload.get("window")
    if not isinstance(ticket, str) or not ticket:
        raise ValueError("event/call without a ticket")
    if not isinstance(window, int) or isinstance(window, bool) or window < 0:
        raise ValueError(f"event/call {ticket} without a window number")
    recall = payload.get("recall", 0)
    return Call(
        ticket=ticket,
        window=window,
        counter=str(payload.get("counter") or ""),
        service=str(payload.get("service") or ""),
        recall=recall if isinstance(recall, int) else 0,
        priority=bool(payload.get("priority", False)),
        event_id=str(payload.get("id") or ""),
    )


class HallState:
    """Thread-safe model of the hall; see the module doc."""

    def __init__(
        self,
        cfg: Config,
        *,
        keep_calls: int = 6,
        services: Iterable[str] = (),
        on_change: Callable[[], None] | None = None,
    ) -> None:
        shown = list(services) or [s.id for s in cfg.services]
        self._services = {
            s.id: ServiceInfo(s.id, s.prefix, s.name_ar) for s in cfg.services if s.id in shown
        }
        self._calls: deque[Call] = deque(maxlen=keep_calls + 1)
        # The calls as drawn so far, and those still to draw (a burst).
        self._shown: deque[Call] = deque(maxlen=keep_calls + 1)
        self._pending: deque[Call] = deque()
        self._received = 0
        self._seen_ids: deque[str] = deque(maxlen=256)
        self._master: bool | None = None
        self._bus = True
        self._version = 0
        self._lock = threading.Lock()
        self.on_change = on_change

    def _changed(self) -> None:
        self._version += 1

    def _notify(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def add_call(self, call: Call) -> bool:
        """Record a call; False for a redelivered event id (already shown)."""
        with self._lock:
            if call.event_id and call.event_id in self._seen_ids:
                return False
            if call.event_id:
                self._seen_ids.append(call.event_id)
            _put_first(self._calls, call)
            self._pending.append(call)
            self._received += 1
            self._changed()
        self._notify()
        return True

    def calls_waiting(self) -> bool:
        """Calls received that no frame has taken yet."""
        with self._lock:
            return bool(self._pending)

    @property
    def received(self) -> int:
        """Calls recorded so far (redelivered ones not counted)."""
        with self._lock:
            return self._received

    def set_counter(self, payload: Mapping[str, Any], *, retained: bool = True) -> None:
        """Retained counter state: at start-up, learn who is at each window.

        Shown at the end of the last calls (not flashed, not spoken) when no
        call for that ticket has been seen, so a restarted screen is not
        empty.  Live updates (not retained) are ignored: the call events say
        more, in the right order, and must never be pushed out by old news.
        """
        if not retained:
            return
        ticket = payload.get("ticket")
        window = payload.get("window")
        if not isinstance(ticket, dict) or not isinstance(window, int):
            return
        number = ticket.get("number")
        if ticket.get("state") != "called" or not isinstance(number, str):
            return
        old = Call(
            number,
            window,
            counter=str(payload.get("counter") or ""),
            service=str(ticket.get("service") or ""),
            received=0.0,
            fresh=False,
        )
        with self._lock:
            added = [_put_last(view, old) for view in (self._calls, self._shown)]
            if not any(added):
                return
            self._changed()
        self._notify()

    def set_service(self, payload: Mapping[str, Any]) -> None:
        sid = payload.get("service")
        with self._lock:
            old = self._services.get(str(sid))
            if old is None:
                return
            est = payload.get("estimate_minutes")

            def count(key: str) -> int:
                value = payload.get(key, 0)
                return value if isinstance(value, int) and value >= 0 else 0

            new = ServiceInfo(
                old.id,
                old.prefix,
                old.name_ar,
                waiting=count("waiting"),
                waiting_priority=count("waiting_priority"),
                estimate_minutes=float(est) if isinstance(est, int | float) else None,
                open_counters=count("open_counters"),
            )
            if new == old:
                return
            self._services[old.id] = new
            self._changed()
        self._notify()

    def set_master(self, online: bool) -> None:
        with self._lock:
            if self._master == online:
                return
            self._master = online
            self._changed()
        self._notify()

    def set_bus(self, connected: bool) -> None:
        with self._lock:
            if self._bus == connected:
                return
            self._bus = connected
            self._changed()
        self._notify()

    def snapshot(self) -> HallSnapshot:
        """Everything known now (every call received)."""
        with self._lock:
            return self._snapshot(self._calls, self._received)

    def next_frame(self) -> HallSnapshot:
        """What the next frame shows: the calls drawn before and the oldest
        calls not drawn yet, as many as the screen lists (so each of them is
        on it); ``pending`` says more are waiting."""
        with self._lock:
            if self._pending:
                for _ in range(min(len(self._pending), self._shown.maxlen or 1)):
                    _put_first(self._shown, self._pending.popleft())
                self._changed()
            return self._snapshot(self._shown, self._received - len(self._pending))

    def _snapshot(self, calls: deque[Call], shown: int) -> HallSnapshot:
        return HallSnapshot(
            calls=tuple(calls),
            services=tuple(self._services.values()),
            master_online=self._master,
            bus_connected=self._bus,
            version=self._version,
            received=self._received,
            shown=shown,
        )


def _put_first(calls: deque[Call], call: Call) -> None:
    """A recall (or a transferred ticket called again) moves to the top
    instead of being listed twice."""
    for old in [c for c in calls if c.ticket == call.ticket]:
        calls.remove(old)
    calls.appendleft(call)


def _put_last(calls: deque[Call], call: Call) -> bool:
    """Add a call learnt at start-up below the others, if there is room and
    it is not listed yet."""
    if len(calls) == calls.maxlen or any(c.ticket == call.ticket for c in calls):
        return False
    calls.append(call)
    return True
