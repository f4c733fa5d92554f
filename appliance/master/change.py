"""One change of a ticket as the central feed carries it (appliance/master/feed.py)."""

from __future__ import annotations

from typing import Any

from ..queue import Ticket, TicketState

#: The ticket's fields a change carries (no phone, no void reason).
FEED_FIELDS = (
    "id", "number", "label", "service", "priority", "business_day", "state", "issued_at",
    "first_called_at", "called_at", "served_at", "finished_at", "counter", "recalls", "rating",
    "origin_id",
)  # fmt: skip

_END_KINDS = {
    TicketState.SERVED: "serve",
    TicketState.NO_SHOW: "no_show",
    TicketState.TRANSFERRED: "transfer",
    TicketState.VOIDED: "void",
}


def change_kind(ticket: Ticket, action: str) -> str:
    """What happened to ``ticket`` under the command ``action`` (its topic's
    group/counter/action, or ``day/close`` for the daily reset)."""
    if action.endswith("/feedback"):
        return "rating"
    if ticket.state is TicketState.WAITING:
        return "transfer" if ticket.origin_id is not None else "issue"
    if ticket.state is TicketState.CALLED:
        return "recall" if action.endswith("/recall") else "call"
    return _END_KINDS[ticket.state]


def feed_ticket(ticket: Ticket) -> dict[str, Any]:
    row = {name: getattr(ticket, name) for name in FEED_FIELDS}
    row["state"] = str(ticket.state)
    return row
