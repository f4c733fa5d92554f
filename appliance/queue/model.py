"""The queue's plain data: tickets, counter states, the engine's whole state.

Everything here is plain data that the master persists row by row; the rules
that change it live in :mod:`appliance.queue.engine`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class TicketState(enum.StrEnum):
    """Where a ticket is in its life: waiting → called → (recalled)* → an end."""

    WAITING = "waiting"
    CALLED = "called"
    SERVED = "served"
    NO_SHOW = "no_show"
    TRANSFERRED = "transferred"
    VOIDED = "voided"

    @property
    def active(self) -> bool:
        """Still in the queue: waiting for a call or called to a window."""
        return self in (TicketState.WAITING, TicketState.CALLED)


#: Every legal move; anything else raises ``illegal_transition``.
TRANSITIONS: dict[TicketState, frozenset[TicketState]] = {
    TicketState.WAITING: frozenset({TicketState.CALLED, TicketState.VOIDED}),
    TicketState.CALLED: frozenset(
        {
            TicketState.CALLED,  # a recall
            TicketState.SERVED,
            TicketState.NO_SHOW,
            TicketState.TRANSFERRED,
            TicketState.VOIDED,
        }
    ),
    TicketState.SERVED: frozenset(),
    TicketState.NO_SHOW: frozenset(),
    TicketState.TRANSFERRED: frozenset(),
    TicketState.VOIDED: frozenset(),
}

#: Ratings a citizen can give after being served.
RATINGS = ("satisfied", "neutral", "unsatisfied")


@dataclass
class Ticket:
    """One citizen's place in a service's queue."""

    id: int  # engine-assigned, increasing, never reused
    number: int  # within the service's configured range
    label: str  # what the citizen reads: prefix + zero-padded number, "A001"
    service: str  # the service the ticket waits for now
    priority: bool
    business_day: str  # "YYYY-MM-DD" of the business day it was issued in
    # For a transferred ticket this is the ORIGINAL issue time, so the citizen
    # keeps their place in the new service's queue.
    issued_at: float
    state: TicketState = TicketState.WAITING
    called_at: float | None = None  # last call or recall
    first_called_at: float | None = None
    served_at: float | None = None  # the call the citizen answered (set on done)
    finished_at: float | None = None  # left the queue, whatever the end
    counter: str | None = None
    recalls: int = 0
    origin_id: int | None = None  # the ticket this one was transferred from
    reason: str | None = None  # why it was voided / auto no-show
    rating: str | None = None  # the citizen's feedback

    def __post_init__(self) -> None:
        # The master rebuilds tickets from database rows, where the state is text.
        self.state = TicketState(self.state)


@dataclass
class CounterState:
    """What the engine remembers about one counter."""

    id: str
    paused: bool = False
    open: bool = False  # open once it calls or resumes; closed by pause
    current: int | None = None  # id of the ticket being served
    regular_streak: int = 0  # regular calls since the last priority call (ratio policy)


@dataclass
class EngineState:
    """Everything the master persists; plain data, no behaviour."""

    tickets: dict[int, Ticket] = field(default_factory=dict)
    counters: dict[str, CounterState] = field(default_factory=dict)
    # (business_day, service_id) -> last number issued that day
    sequences: dict[tuple[str, str], int] = field(default_factory=dict)
    next_ticket_id: int = 1
    # Recent service durations in seconds per service, newest last, capped at
    # policy.estimate_samples.
    service_times: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class Changes:
    """The rows one or more operations touched; the master writes exactly these.

    ``next_ticket_id`` is not listed: it always equals the largest ticket id
    plus one, so persisting the new ticket rows persists it too.
    """

    tickets: set[int] = field(default_factory=set)
    counters: set[str] = field(default_factory=set)
    sequences: set[tuple[str, str]] = field(default_factory=set)
    service_times: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.tickets or self.counters or self.sequences or self.service_times)

    def merge(self, other: Changes) -> None:
        """Add the rows ``other`` names (changes of several commands together)."""
        self.tickets |= other.tickets
        self.counters |= other.counters
        self.sequences |= other.sequences
        self.service_times |= other.service_times


@dataclass(frozen=True)
class Estimate:
    """How long a citizen may wait: people called before them and minutes."""

    people_ahead: int
    minutes: float | None  # None only when no counter serves the service
