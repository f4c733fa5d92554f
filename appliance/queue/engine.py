"""The queue engine: numbers, calls, recalls, transfers and estimates.

Pure: no I/O and no clock of its own — every operation takes ``now`` (epoch
seconds) from the caller.  Each operation checks everything that could make it
fail before it changes anything, so one that raises :class:`QueueError` leaves
the state exactly as it was.  Each one that succeeds records the rows it
touched in a :class:`Changes`, which the master takes with
:meth:`QueueEngine.take_changes` and writes in one transaction.

The engine keeps an index of the tickets still in the queue; change
``state`` only through the engine's operations.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ..config import Branch, Counter, Policy, Service
from ..errors import QueueError
from . import estimate as _estimate
from .index import ActiveIndex
from .model import (
    RATINGS,
    TRANSITIONS,
    Changes,
    CounterState,
    EngineState,
    Estimate,
    Ticket,
    TicketState,
)
from .policy import calling_order, choose


def label_for(service: Service, number: int) -> str:
    """``A001``: the prefix and the number, 3 digits (4 when the range needs them)."""
    width = 4 if service.last > 999 else 3
    return f"{service.prefix}{number:0{width}d}"


class QueueEngine:
    """The branch's queue: one instance per master, fed every command in order."""

    def __init__(
        self,
        branch: Branch,
        services: list[Service],
        counters: list[Counter],
        policy: Policy,
        state: EngineState | None = None,
    ) -> None:
        self.branch = branch
        self.policy = policy
        self.services: dict[str, Service] = {s.id: s for s in services}
        self.counters: dict[str, Counter] = {c.id: c for c in counters}
        self._tz = ZoneInfo(branch.timezone)
        self._day_cache: tuple[int | None, str] = (None, "")
        self.state = state if state is not None else EngineState()
        self._changes = Changes()
        # A counter added to the configuration since the state was saved
        # starts closed; listing it in the changes makes the master save it.
        for c in counters:
            if c.id not in self.state.counters:
                self.state.counters[c.id] = CounterState(c.id)
                self._changes.counters.add(c.id)
        if self.state.tickets:
            self.state.next_ticket_id = max(self.state.next_ticket_id, max(self.state.tickets) + 1)
        # The tickets in the queue, so no command scans the history or the queue.
        self._index = ActiveIndex(self.state.tickets)

    # -- look-ups -------------------------------------------------------------
    def take_changes(self) -> Changes:
        """The rows touched since the last call; starts a new, empty change set."""
        changes, self._changes = self._changes, Changes()
        return changes

    def business_day(self, now: float) -> str:
        """The business day of ``now``: the local date ``day_reset_hour`` hours earlier."""
        # Every UTC offset, and every change of one, falls on a quarter hour,
        # so the day cannot change inside a quarter hour of epoch time.
        block = int(now // 900)
        if self._day_cache[0] != block:
            local = datetime.fromtimestamp(now, self._tz).replace(tzinfo=None)
            day = (local - timedelta(hours=self.branch.day_reset_hour)).date().isoformat()
            self._day_cache = (block, day)
        return self._day_cache[1]

    def service(self, key: str) -> Service:
        """A service by id, or by prefix letter in either case."""
        if key in self.services:
            return self.services[key]
        for s in self.services.values():
            if key.upper() == s.prefix:
                return s
        raise QueueError("unknown_service", f"no service with id or prefix {key!r}")

    def counter(self, key: str) -> Counter:
        """A counter by id, or by the window number citizens see."""
        if key in self.counters:
            return self.counters[key]
        for c in self.counters.values():
            if key == str(c.number):
                return c
        raise QueueError("unknown_counter", f"no counter with id or window number {key!r}")

    def counter_state(self, key: str) -> CounterState:
        return self.state.counters[self.counter(key).id]

    def ticket(self, ticket_id: int) -> Ticket:
        try:
            return self.state.tickets[ticket_id]
        except KeyError:
            raise QueueError("unknown_ticket", f"no ticket with id {ticket_id}") from None

    def waiting(self, service: str | None = None) -> list[Ticket]:
        """Waiting tickets in calling order: priority first, then by issue time."""
        sids = list(self._index.waiting) if service is None else [self.service(service).id]
        return sorted(self._index.tickets_waiting(sids), key=calling_order)

    def waiting_count(self, service: str, priority_only: bool = False) -> int:
        """How many wait for ``service`` (only priority tickets if asked)."""
        return self._index.count(self.service(service).id, priority_only)

    def open_counters(self, service: str) -> list[str]:
        """Ids of the open, unpaused counters serving ``service``."""
        sid = self.service(service).id
        states = self.state.counters
        return [
            c.id
            for c in self.counters.values()
            if sid in c.services and states[c.id].open and not states[c.id].paused
        ]

    def estimate(self, service: str, priority: bool = False) -> Estimate:
        """People ahead of, and minutes for, a NEW ticket of this class."""
        svc = self.service(service)
        return self._estimate(svc, self._index.count(svc.id, priority_only=priority))

    def estimate_for(self, ticket_id: int) -> Estimate:
        """People ahead of, and minutes for, a waiting ticket."""
        ticket = self.ticket(ticket_id)
        if ticket.state is not TicketState.WAITING:
            raise QueueError(
                "illegal_transition", f"ticket {ticket.label} is {ticket.state}, not waiting"
            )
        index = self._index
        if index.is_last(ticket):  # a ticket just issued: the last of its class
            ahead = index.count(ticket.service, priority_only=ticket.priority) - 1
        else:
            key = calling_order(ticket)
            waiting = index.tickets_waiting([ticket.service])
            ahead = sum(1 for t in waiting if calling_order(t) < key)
        svc = self.services.get(ticket.service)
        # A service dropped from the configuration has no counter any more.
        return Estimate(ahead, None) if svc is None else self._estimate(svc, ahead)

    # -- citizens ---------------------------------------------------------------
    def issue(self, service: str, priority: bool, now: float) -> Ticket:
        """Take the next free number of ``service`` (id or prefix) for a citizen."""
        svc = self.service(service)
        day = self.business_day(now)
        number = self._next_number(svc, day)  # may raise: nothing changed yet
        self.roll_day(now)
        ticket = Ticket(
            id=self.state.next_ticket_id,
            number=number,
            label=label_for(svc, number),
            service=svc.id,
            priority=priority,
            business_day=day,
            issued_at=now,
        )
        self.state.next_ticket_id += 1
        self._add(ticket)
        self.state.sequences[(day, svc.id)] = number
        self._changes.sequences.add((day, svc.id))
        return ticket

    def void(self, ticket_id: int, reason: str, now: float) -> Ticket:
        """Take a waiting or called ticket out of the queue (e.g. it failed to print)."""
        ticket = self.ticket(ticket_id)
        self._check(ticket, TicketState.VOIDED, "void")
        self._void(ticket, reason, now)
        return ticket

    def feedback(self, ticket_id: int, rating: str, now: float) -> Ticket:
        """Record a served citizen's rating; a later press replaces an earlier one."""
        ticket = self.ticket(ticket_id)
        if rating not in RATINGS:
            raise QueueError("bad_rating", f"rating must be one of {', '.join(RATINGS)}")
        if ticket.state is not TicketState.SERVED:
            raise QueueError(
                "illegal_transition",
                f"cannot rate ticket {ticket.label}: it is {ticket.state}, not served",
            )
        ticket.rating = rating
        self._changes.tickets.add(ticket.id)
        return ticket

    # -- counters ---------------------------------------------------------------
    def call_next(self, counter: str, now: float) -> tuple[Ticket | None, Ticket | None]:
        """Finish the current ticket as served, then call the next one.

        Returns ``(called, finished)``; ``called`` is None when nobody waits
        that this counter may serve.
        """
        cfg, cs = self._unpaused(counter)
        self.roll_day(now)
        current = self._current(cs)
        finished = self._serve(cs, current, now) if current is not None else None
        waiting = self._index.tickets_waiting(cfg.services)
        ticket = choose(cfg, cs.regular_streak, self.policy, waiting)
        cs.open = True
        if ticket is not None:
            self._index.called(ticket)
            ticket.state = TicketState.CALLED
            ticket.called_at = now
            ticket.first_called_at = now
            ticket.counter = cfg.id
            cs.current = ticket.id
            cs.regular_streak = 0 if ticket.priority else cs.regular_streak + 1
            self._changes.tickets.add(ticket.id)
        self._changes.counters.add(cs.id)
        return ticket, finished

    def recall(self, counter: str, now: float) -> Ticket:
        """Call the current ticket again; past ``max_recalls`` it becomes a no-show."""
        _, cs = self._unpaused(counter)
        ticket = self._require_current(cs)
        if ticket.recalls + 1 > self.policy.max_recalls:
            self._finish(cs, ticket, TicketState.NO_SHOW, now)
            ticket.reason = "auto_no_show"
        else:
            ticket.recalls += 1
            ticket.called_at = now
            self._changes.tickets.add(ticket.id)
        return ticket

    def no_show(self, counter: str, now: float) -> Ticket:
        """The called citizen did not come."""
        cs = self.counter_state(counter)
        ticket = self._require_current(cs)
        self._finish(cs, ticket, TicketState.NO_SHOW, now)
        return ticket

    def done(self, counter: str, now: float) -> Ticket:
        """The current citizen has been served."""
        cs = self.counter_state(counter)
        return self._serve(cs, self._require_current(cs), now)

    def transfer(self, counter: str, service: str, now: float) -> Ticket:
        """Send the current citizen to another service, keeping number and place.

        Returns the NEW waiting ticket; the old one ends as transferred.
        """
        cs = self.counter_state(counter)
        target = self.service(service)
        old = self._require_current(cs)
        if target.id == old.service:
            raise QueueError(
                "illegal_transition", f"ticket {old.label} is already in service {target.id!r}"
            )
        self._finish(cs, old, TicketState.TRANSFERRED, now)
        new = Ticket(
            id=self.state.next_ticket_id,
            number=old.number,
            label=old.label,
            service=target.id,
            priority=old.priority,
            business_day=old.business_day,
            issued_at=old.issued_at,
            origin_id=old.id,
        )
        self.state.next_ticket_id += 1
        self._add(new)
        return new

    def pause(self, counter: str, now: float) -> CounterState:
        """Close the counter: it calls no one until resumed."""
        cs = self.counter_state(counter)
        cs.paused, cs.open = True, False
        self._changes.counters.add(cs.id)
        return cs

    def resume(self, counter: str, now: float) -> CounterState:
        cs = self.counter_state(counter)
        cs.paused, cs.open = False, True
        self._changes.counters.add(cs.id)
        return cs

    def roll_day(self, now: float) -> list[Ticket]:
        """Void (reason ``day_end``) tickets still in the queue from earlier days."""
        day = self.business_day(now)
        oldest = self._index.oldest_day
        if oldest is None or oldest >= day:
            return []
        stale = sorted(
            (t for t in self._index.tickets_active() if t.business_day < day), key=lambda t: t.id
        )
        for ticket in stale:
            self._void(ticket, "day_end", now)
        self._index.rolled(day)
        return stale

    def forget_before(self, day: str) -> int:
        """Drop finished tickets and number sequences of business days before ``day``.

        Memory only: the rows stay in the master's database, so nothing is
        listed in the changes.  Tickets still in the queue are kept (they are
        voided by :meth:`roll_day`).  Returns the number of tickets dropped.
        """
        old = [
            i for i, t in self.state.tickets.items() if t.business_day < day and not t.state.active
        ]
        for i in old:
            del self.state.tickets[i]
        for key in [k for k in self.state.sequences if k[0] < day]:
            del self.state.sequences[key]
        return len(old)

    # -- internals --------------------------------------------------------------
    def _add(self, ticket: Ticket) -> None:
        self.state.tickets[ticket.id] = ticket
        self._index.add(ticket)
        self._changes.tickets.add(ticket.id)

    def _next_number(self, svc: Service, day: str) -> int:
        """The first number after the day's last one, wrapping, not held by anyone.

        Held means carried by a waiting or called ticket of this day — in any
        service, since a transferred ticket keeps its label.
        """
        held = self._index.held
        last = self.state.sequences.get((day, svc.id))
        size = svc.last - svc.first + 1
        start = 0 if last is None or not svc.first <= last < svc.last else last + 1 - svc.first
        for step in range(size):
            number = svc.first + (start + step) % size
            if (day, label_for(svc, number)) not in held:
                return number
        raise QueueError(
            "range_exhausted",
            f"every number of service {svc.id!r} ({svc.first}–{svc.last}) is still in the queue",
        )

    def _unpaused(self, counter: str) -> tuple[Counter, CounterState]:
        cfg = self.counter(counter)
        cs = self.state.counters[cfg.id]
        if cs.paused:
            raise QueueError("counter_paused", f"counter {cfg.id!r} is paused; resume it first")
        return cfg, cs

    def _current(self, cs: CounterState) -> Ticket | None:
        ticket = self.state.tickets.get(cs.current) if cs.current is not None else None
        return ticket if ticket is not None and ticket.state is TicketState.CALLED else None

    def _require_current(self, cs: CounterState) -> Ticket:
        ticket = self._current(cs)
        if ticket is None:
            raise QueueError("no_current_ticket", f"counter {cs.id!r} is serving no ticket")
        return ticket

    def _check(self, ticket: Ticket, to: TicketState, action: str) -> None:
        if to not in TRANSITIONS[ticket.state]:
            raise QueueError(
                "illegal_transition", f"cannot {action} ticket {ticket.label}: it is {ticket.state}"
            )

    def _finish(self, cs: CounterState, ticket: Ticket, to: TicketState, now: float) -> None:
        self._index.retire(ticket)
        ticket.state = to
        ticket.finished_at = now
        cs.current = None
        self._changes.tickets.add(ticket.id)
        self._changes.counters.add(cs.id)

    def _serve(self, cs: CounterState, ticket: Ticket, now: float) -> Ticket:
        self._finish(cs, ticket, TicketState.SERVED, now)
        ticket.served_at = ticket.called_at
        started = ticket.called_at if ticket.called_at is not None else now
        samples = self.state.service_times.setdefault(ticket.service, [])
        samples.append(max(0.0, now - started))
        del samples[: -self.policy.estimate_samples]
        self._changes.service_times.add(ticket.service)
        return ticket

    def _void(self, ticket: Ticket, reason: str, now: float) -> None:
        self._index.retire(ticket)
        ticket.state = TicketState.VOIDED
        ticket.reason = reason
        ticket.finished_at = now
        self._changes.tickets.add(ticket.id)
        for cs in self.state.counters.values():
            if cs.current == ticket.id:
                cs.current = None
                self._changes.counters.add(cs.id)

    def _estimate(self, svc: Service, ahead: int) -> Estimate:
        serving = [c.id for c in self.counters.values() if svc.id in c.services]
        return _estimate.estimate(
            ahead,
            self.state.service_times.get(svc.id, []),
            svc.service_minutes,
            len(self.open_counters(svc.id)),
            len(serving),
        )
