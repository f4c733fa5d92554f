"""The engine's index of the tickets still in the queue.

A command must cost the same whether 10 or 1,000 citizens wait: nothing the
master does per command scans the queue as a whole.  The index keeps, kept
up to date by the engine at each change of a ticket's state:

- the ids of waiting and called tickets (``active``), and the earliest
  business day among them (a lower bound), so the day roll looks only when
  a day may be left over;
- per service, the ids of its waiting tickets, and of its waiting priority
  tickets, so counts and estimates are a ``len``;
- per business day, how many active tickets carry each label, so a new
  number is checked against the held ones without building the set;
- per service and class, the latest calling key ever filed, so a ticket
  just issued (nearly always the last of its class) finds the people ahead
  of it without looking at them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from .model import Ticket, TicketState


class ActiveIndex:
    def __init__(self, tickets: dict[int, Ticket]) -> None:
        self.tickets = tickets
        self.active: set[int] = set()
        self.waiting: dict[str, set[int]] = {}
        self.waiting_priority: dict[str, set[int]] = {}
        self.held: Counter[tuple[str, str]] = Counter()
        self.oldest_day: str | None = None
        self._last_key: dict[tuple[str, bool], tuple[float, int]] = {}
        for t in tickets.values():
            if t.state.active:
                self.add(t)

    def add(self, t: Ticket) -> None:
        """``t`` entered the queue (waiting, or called when loaded)."""
        self.active.add(t.id)
        self.held[(t.business_day, t.label)] += 1
        if self.oldest_day is None or t.business_day < self.oldest_day:
            self.oldest_day = t.business_day
        if t.state is TicketState.WAITING:
            self._file(t)

    def _file(self, t: Ticket) -> None:
        self.waiting.setdefault(t.service, set()).add(t.id)
        if t.priority:
            self.waiting_priority.setdefault(t.service, set()).add(t.id)
        key = (t.issued_at, t.id)
        cls = (t.service, t.priority)
        last = self._last_key.get(cls)
        if last is None or key > last:
            self._last_key[cls] = key

    def called(self, t: Ticket) -> None:
        """``t`` leaves waiting for a window (call it before changing its state)."""
        self.waiting.get(t.service, set()).discard(t.id)
        self.waiting_priority.get(t.service, set()).discard(t.id)

    def retire(self, t: Ticket) -> None:
        """``t`` leaves the queue, from waiting or called (call it before the change)."""
        if t.id not in self.active:
            return
        self.active.discard(t.id)
        self.called(t)
        key = (t.business_day, t.label)
        self.held[key] -= 1
        if self.held[key] <= 0:
            del self.held[key]

    def tickets_active(self) -> Iterable[Ticket]:
        return (self.tickets[i] for i in self.active)

    def tickets_waiting(self, services: Iterable[str]) -> Iterable[Ticket]:
        return (self.tickets[i] for s in services for i in self.waiting.get(s, ()))

    def count(self, service: str, priority_only: bool = False) -> int:
        table = self.waiting_priority if priority_only else self.waiting
        return len(table.get(service, ()))

    def is_last(self, t: Ticket) -> bool:
        """Whether no waiting ticket of ``t``'s service and class comes after it."""
        return self._last_key.get((t.service, t.priority)) == (t.issued_at, t.id)

    def rolled(self, day: str) -> None:
        """Every active ticket is now of ``day`` or later."""
        self.oldest_day = day if self.active else None
