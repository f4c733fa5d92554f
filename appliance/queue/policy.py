"""Which waiting ticket a counter calls next.

The priority window (``Counter.priority``) always takes priority tickets
first; it takes regular tickets only when none wait and
``Policy.priority_window_serves_regular`` is set.  Every other counter follows
``Policy.others``:

- ``strict``: a waiting priority ticket always goes first;
- ``ratio``: after ``Policy.ratio`` regular calls since its last priority
  call, a waiting priority ticket goes first; with no regular ticket waiting a
  priority ticket is called at once rather than leaving the counter idle;
- ``never``: priority tickets are left to the priority window.

Within a class (priority or regular) tickets are called first in, first out
by issue time, then by ticket id; a transferred ticket keeps its original
issue time and so its place.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..config import Counter, Policy
from .model import Ticket


def calling_order(ticket: Ticket) -> tuple[bool, float, int]:
    """Sort key of a service's queue: priority first, then oldest issue, then id."""
    return (not ticket.priority, ticket.issued_at, ticket.id)


def fifo_key(ticket: Ticket) -> tuple[float, int]:
    """Sort key within one class: oldest issue time first, ties by ticket id."""
    return (ticket.issued_at, ticket.id)


def may_serve(counter: Counter, policy: Policy, ticket: Ticket) -> bool:
    """Whether ``counter`` would ever call ``ticket`` under ``policy``."""
    if ticket.service not in counter.services:
        return False
    if counter.priority:
        return ticket.priority or policy.priority_window_serves_regular
    return not ticket.priority or policy.others != "never"


def choose(
    counter: Counter, regular_streak: int, policy: Policy, waiting: Iterable[Ticket]
) -> Ticket | None:
    """The ticket ``counter`` calls next among ``waiting``, or None.

    ``waiting`` may hold tickets of any service; only those of the counter's
    services are considered.  ``regular_streak`` is the counter's count of
    regular calls since its last priority call.
    """
    served = set(counter.services)
    priority: Ticket | None = None
    regular: Ticket | None = None
    for t in waiting:
        if t.service not in served:
            continue
        if t.priority:
            if priority is None or fifo_key(t) < fifo_key(priority):
                priority = t
        elif regular is None or fifo_key(t) < fifo_key(regular):
            regular = t

    if counter.priority:
        if priority is not None:
            return priority
        return regular if policy.priority_window_serves_regular else None
    if policy.others == "never":
        return regular
    if policy.others == "ratio":
        if priority is not None and (regular is None or regular_streak >= policy.ratio):
            return priority
        return regular
    # strict
    return priority if priority is not None else regular
