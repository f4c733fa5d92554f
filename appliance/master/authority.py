"""Who asks, and what they may do: the master's least-authority checks.

The requester of a command is the unit its topic names
(``cmd/<unit>/...``): the broker lets each unit's account publish commands
only under its own unit id, so that level is proved by the password, never
taken from the payload or the reply topic.  The reply topic must be the
requester's own (``reply/<unit>/<client id>``), or the request is refused
before anything is applied.  A unit's role bounds the commands it may send
(a kiosk takes and voids tickets, a counter unit acts for its own counter).
Units that are no unit of the branch (tools on an open broker, such as the
demo's) share one lane and one rate limit; on a provisioned broker only the
master's account could publish under such a name.
"""

from __future__ import annotations

from typing import Any

from ..bus.client import Message
from ..bus.topics import CommandTopic, Topics
from ..config.branch import Config
from ..errors import QueueError
from ..queue import QueueEngine, TicketState
from ..tech.accounts import accounts
from .inbox import RateLimit
from .store import Store

#: The lane and rate-limit bucket of requesters that are not units of the branch.
UNLISTED = "*"

#: The commands each role may send, by group (the technician and master: all).
ROLE_GROUPS: dict[str, tuple[str, ...]] = {
    "kiosk": ("ticket", "queue"),
    "counter": ("counter", "request", "queue"),
    "backoffice": ("request", "queue"),
    "sms-gateway": ("request",),
    "display": ("queue",),
}


class Authority:
    def __init__(self, config: Config, store: Store, topics: Topics) -> None:
        self.config = config
        self.store = store
        self.topics = topics
        self.rate = RateLimit(config.master.tickets_per_minute)
        self.roles = {a.username: a.role for a in accounts(config)}
        # A counter unit's id, and the counter's own id as a unit name.
        self.counter_of = {c.id: c.id for c in config.counters}
        self.counter_of.update({u.unit: u.counter for u in config.counter_units})
        self.roles.update(dict.fromkeys(self.counter_of, "counter"))

    def command(self, msg: Message) -> CommandTopic | None:
        """The command ``msg``'s topic names, with its sender; None if none."""
        try:
            return self.topics.parse_command(msg.topic)
        except ValueError:
            return None

    def lane(self, msg: Message) -> tuple[str, str]:
        """Where ``msg`` waits (appliance/master/inbox.py): by kind and sender."""
        cmd = self.command(msg)
        if cmd is None:
            return ("other", "")
        return (cmd.group, self.unit(cmd.unit))

    def replies_to_sender(self, msg: Message) -> bool:
        """Whether ``msg`` names a reply topic of its sender's own: the only
        place the master answers (one level below ``reply/<unit>/``)."""
        cmd = self.command(msg)
        return cmd is not None and self.topics.reply_unit(msg.response_topic) == cmd.unit

    def unit(self, requester: str) -> str:
        """The branch's unit a requester is, or one name for all the others."""
        return requester if requester in self.roles else UNLISTED

    def may_send(self, cmd: CommandTopic) -> bool:
        """Whether the sender's role may send this command (a kiosk takes
        tickets, a counter unit acts for its own counter, only the gateway
        acknowledges stage events); the broker's rules say the same."""
        role = self.roles.get(cmd.unit)
        if role is None or role in ("technician", "master"):
            return True
        if cmd.group not in ROLE_GROUPS.get(role, ()):
            return False
        if cmd.group == "counter":
            return self.counter_of.get(cmd.unit) == cmd.counter
        if cmd.group == "request":
            return (cmd.action == "ack") == (role == "sms-gateway")
        return True

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
