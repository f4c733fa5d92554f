"""The branch's MQTT accounts and what each role may do on the bus.

One account per unit, named by its unit id.  **The MQTT client id equals the
user name** (the unit id): a unit's replies arrive on ``reply/<client id>``,
and the ACL lets each client read only the reply topic of its own client id
(Mosquitto's ``%c``).  The broker is not told to force the client id
(``use_username_as_clientid``), because a second connection with the same id
would disconnect the first: a technician's command run with a daemon's
credential would knock the daemon off the bus.  The technician, who reads
everything, may use any client id.

Units come from the configuration sections that exist.  A role whose section
is not in the schema yet gets its default unit ids from :data:`ROLE_SOURCES`;
adding a role is one entry there and one in :func:`rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..bus.topics import Topics
from ..config.branch import Config
from ..errors import ConfigError

Access = str  # "read" | "write" | "readwrite"


@dataclass(frozen=True)
class Account:
    """One MQTT user: a unit of a role."""

    username: str
    role: str

    @property
    def client_id(self) -> str:
        return self.username


@dataclass(frozen=True)
class RoleSource:
    """Where a role's unit ids are in the configuration."""

    #: ``Config`` attributes tried in order: a list of units or one section.
    sections: tuple[str, ...]
    #: Unit ids used when none of those sections exists or it is empty.
    defaults: tuple[str, ...]


# Counters are the configured counters themselves; the master is cfg.master.unit.
ROLE_SOURCES: dict[str, RoleSource] = {
    "kiosk": RoleSource(("kiosks", "kiosk"), ("k1",)),
    "display": RoleSource(("displays", "display"), ("d1",)),
    "sms-gateway": RoleSource(("sms_gateways", "sms_gateway", "sms"), ("sms1",)),
    "technician": RoleSource(("technicians",), ("tech",)),
    "backoffice": RoleSource(("backoffice",), ("backoffice",)),
}


def _unit_id(section: Any) -> str | None:
    for attr in ("unit", "id"):
        value = getattr(section, attr, None)
        if isinstance(value, str) and value:
            return value
    return None


def _units_of(cfg: Config, source: RoleSource) -> list[str]:
    for name in source.sections:
        value = getattr(cfg, name, None)
        if value is None:
            continue
        items = value if isinstance(value, list) else [value]
        units = [u for u in (_unit_id(item) for item in items) if u]
        if units:
            return units
    return list(source.defaults)


def accounts(cfg: Config) -> list[Account]:
    """Every account of the branch, master first."""
    found = [Account(cfg.master.unit, "master")]
    found += [Account(c.id, "counter") for c in cfg.counters]
    for role, source in ROLE_SOURCES.items():
        found += [Account(unit, role) for unit in _units_of(cfg, source)]
    seen: dict[str, str] = {}
    problems = []
    for acc in found:
        if acc.username in seen:
            problems.append(
                (
                    "",
                    f"unit id {acc.username!r} is used by both a {seen[acc.username]} "
                    f"and a {acc.role}: MQTT user names must be unique",
                )
            )
        seen[acc.username] = acc.role
    if problems:
        raise ConfigError(problems)
    return found


def _clerk_requests(t: Topics) -> list[tuple[Access, str]]:
    """SMS request commands for clerks and the back office: not ``ack``."""
    return [("write", t.request_cmd(a)) for a in ("register", "stage", "test")]


def rules(topics: Topics, acc: Account) -> list[tuple[Access, str]]:
    """The topics ``acc`` may use, beyond reading its own replies."""
    t = topics
    own_status = t.status(acc.role, acc.username)
    master_up = ("read", t.role_status("master"))  # every unit shows whether the master is up
    if acc.role == "master":
        # The master answers every client and owns all state.
        return [("readwrite", t.all_topics)]
    if acc.role == "technician":
        # Diagnoses everything, including the broker's own statistics.
        return [("readwrite", t.all_topics), ("read", "$SYS/#")]
    if acc.role == "kiosk":
        return [
            ("write", t.ticket_cmd("issue")),
            ("write", t.ticket_cmd("void")),
            ("readwrite", own_status),
            master_up,
        ]
    if acc.role == "counter":
        return [
            ("write", t.counter_cmds(acc.username)),
            # Clerks register SMS requests and their stages (issue 6); only the
            # gateway may acknowledge stage events (docs/sms.md).
            *_clerk_requests(t),
            ("read", t.counter_state(acc.username)),
            ("read", t.all_service_states),
            ("readwrite", own_status),
            master_up,
        ]
    if acc.role == "display":
        # event/call only: stage events concern SMS requests, not the hall.
        return [
            ("read", t.all_states),
            ("read", t.event("call")),
            ("read", t.all_status),
            ("readwrite", own_status),
        ]
    if acc.role == "sms-gateway":
        # Acknowledges each stage event once it is in its outbox (docs/sms.md).
        return [
            ("read", t.event("stage")),
            ("write", t.request_cmd("ack")),
            ("readwrite", own_status),
            master_up,
        ]
    if acc.role == "backoffice":
        return [
            *_clerk_requests(t),
            ("read", t.all_service_states),
            ("readwrite", own_status),
            master_up,
        ]
    raise ValueError(f"no ACL rules for role {acc.role!r}")


def acl_text(topics: Topics, accs: list[Account]) -> str:
    """Mosquitto acl_file: one block per user, then the shared pattern."""
    lines = [
        f"# Nidaa ACL for branch {topics.branch}; generated by `nidaa provision`, do not edit.",
        "# Anonymous clients get nothing: no topic lines before the first user.",
        "",
    ]
    for acc in accs:
        lines.append(f"# {acc.role}")
        lines.append(f"user {acc.username}")
        lines += [f"topic {access} {topic}" for access, topic in rules(topics, acc)]
        lines.append("")
    lines += [
        "# Every client reads the answers to its own requests (client id = user name).",
        f"pattern read {topics.own_reply}",
        "",
    ]
    return "\n".join(lines)
