"""Who asks, and what they may do: the master's least-authority checks.

The requester of a command is the last level of its ResponseTopic: the ACL
lets a client read only ``reply/<its client id>``, so a unit that names
another's gets no answer.  A unit of the branch may name only its own reply
topic, for commands its role may send; requesters that are no unit of the
branch (tools, made-up names) share one lane and one rate limit.
"""

from __future__ import annotations

from typing import Any

from ..bus.client import Message
from ..bus.topics import Topics
from ..config.branch import Config
from ..errors import QueueError
from ..queue import QueueEngine, TicketState
from ..tech.accounts import accounts
from .inbox import RateLimit
from .store import Store

#: The lane and rate-limit bucket of requesters that are not units of the branch.
UNLISTED = "*"


class Authority:
    def __init__(self, config: Config, store: Store, topics: Topics) -> None:
        self.config = config
        self.store = store
        self.topics = topics
        self.rate = RateLimit(config.master.tickets_per_minute)
        self.roles = {a.username: a.role for a in accounts(config)}
        # A counter unit's client id, and the counter's own user name.
        self.counter_of = {c.id: c.id for c in config.counters}
        self.counter_of.update({u.unit: u.counter for u in config.counter_units})
        self.roles.update(dict.fromkeys(self.counter_of, "counter"))
        self._reply_prefix = f"{topics.base}/reply/"

    def lane(self, msg: Message) -> tuple[str, str]:
        """Where ``msg`` waits (appliance/master/inbox.py): by counter or requester."""
        try:
            group, _, counter = self.topics.parse_command(msg.topic)
        except ValueError:
            return ("other", "")
        if counter is not None:
            return (group, counter)
        return (group, self.unit(self.requester(msg) or ""))

    def requester(self, msg: Message) -> str | None:
        """The last level of the request's reply topic, if it is a reply topic
        of this branch (one level, no wildcard); otherwise None."""
        topic = msg.response_topic
        if not topic or not topic.startswith(self._reply_prefix):
            return None
        unit = topic[len(self._reply_prefix) :]
        if not unit or any(ch in unit for ch in "/+#\x00"):
            return None
        return unit

    def unit(self, requester: str) -> str:
        """The branch's unit a requester is, or one name for all the others:
        made-up reply topics share one lane and one rate limit."""
        return requester if requester in self.roles else UNLISTED

    def may_ask(self, group: str, counter: str | None, requester: str) -> bool:
        """Whether a reply topic naming ``requester`` fits the command: a unit
        of the branch names only its own, for commands its role may send
        (a kiosk cannot have the master answer on a counter's reply topic)."""
        role = self.roles.get(requester)
        if role is None or role in ("technician", "master") or group == "queue":
            return True
        if group == "counter":
            return self.counter_of.get(requester) == counter
        return role in {"ticket": ("kiosk",), "request": ("counter", "backoffice")}.get(group, ())

    def check(
        self,
        engine: QueueEngine,
        group: str,
        action: str,
        requester: str,
        args: dict[str, Any],
        now: float,
    ) -> None:
        """Least authority for ticket commands (issue 12): a kiosk's tickets
        per minute, and voids only of its own ticket, still waiting, soon
        (the technician, the branch's administrator, voids any)."""
        if (group, action) == ("ticket", "issue") and not self.rate.allows(self.unit(requester)):
            limit = self.config.master.tickets_per_minute
            raise QueueError("rate_limited", f"more than {limit} tickets a minute from {requester}")
        if (group, action) != ("ticket", "void") or self.roles.get(requester) == "technician":
            return
        ticket = engine.ticket(args["ticket_id"])
        if self.store.issuer(ticket.id) != requester:
            raise QueueError("not_yours", f"ticket {ticket.label} was not issued to {requester}")
        if ticket.state is not TicketState.WAITING:
            raise QueueError("not_waiting", f"ticket {ticket.label} is {ticket.state}")
        window = self.config.master.void_window_s
        if now - ticket.issued_at > window:
            raise QueueError(
                "void_too_late", f"ticket {ticket.label} was issued over {window:g} s ago"
            )

    def issued(self, requester: str) -> None:
        """A ticket was issued to ``requester``: it counts toward its limit."""
        self.rate.record(self.unit(requester))
