"""The queue engine: pure rules for numbers, calls, priorities and estimates.

See docs/queue.md for the states, the transitions, the priority policies, the
daily numbering and the waiting-estimate formula.
"""

from .engine import QueueEngine, label_for
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
from .policy import calling_order, choose, may_serve

__all__ = [
    "RATINGS",
    "TRANSITIONS",
    "Changes",
    "CounterState",
    "EngineState",
    "Estimate",
    "QueueEngine",
    "Ticket",
    "TicketState",
    "calling_order",
    "choose",
    "label_for",
    "may_serve",
]
