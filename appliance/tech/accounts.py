"""The branch's MQTT accounts and what each role may do on the bus.

One account per unit, named by its unit id: **the unit id is the MQTT user
name, the client id, the name of its credential file, the last level of
its status topic** (``status/counter/counter-w1``) **and the sender level of
its command topics** (``cmd/counter-w1/...``), so provision, the broker's
rules, ``nidaa install``, the daemons and ``nidaa status`` all know a unit by
the one id of its configuration section (``[[counter_units]] unit``,
``[[kiosks]] unit``, ``[[displays]] id``, ``[sms] unit``, ``[master] unit``).

The broker binds each unit's credential to that client id (Mosquitto's
dynamic-security plugin, :mod:`appliance.tech.dynsec`): a stolen kiosk
password cannot connect as ``master`` and knock the master off the bus.
Because a second connection with the same client id disconnects the first,
the technician's commands never use a unit's credential: they use the
technician's own account (``tech``), which may choose any client id.

A role whose section is not in the schema yet gets its default unit ids from
:data:`ROLE_SOURCES`; adding a role is one entry there and one in :func:`rules`.
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
    #: The counter a counter unit works at (its ``[[counter_units]] counter``).
    counter: str = ""

    @property
    def client_id(self) -> str | None:
        """The one client id this credential may connect with; ``None``: any
        (the technician's tools, each with an id of its own)."""
        return None if self.role in TOOL_ROLES else self.username


@dataclass(frozen=True)
class RoleSource:
    """Where a role's unit ids are in the configuration."""

    #: ``Config`` attributes tried in order: a list of units or one section.
    sections: tuple[str, ...]
    #: Unit ids used when none of those sections exists or it is empty.
    defaults: tuple[str, ...]


#: Accounts for people's tools rather than units: not bound to one client id.
TOOL_ROLES = ("technician",)

# Counter units come from [[counter_units]]; the master is cfg.master.unit.
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
    ha = getattr(cfg, "ha", None)
    if ha is not None:  # every standby candidate is a master unit too
        found += [Account(u, "master") for u in ha.candidates if u != cfg.master.unit]
    found += [Account(u.unit, "counter", counter=u.counter) for u in cfg.counter_units]
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


def _clerk_requests(t: Topics, unit: str) -> list[tuple[Access, str]]:
    """SMS request commands for clerks and the back office: not ``ack``."""
    return [("write", t.request_cmd(unit, a)) for a in ("register", "stage", "test")]


def rules(topics: Topics, acc: Account) -> list[tuple[Access, str]]:
    """The topics ``acc`` may use, beyond reading its own replies.

    Every command topic names its sender (``cmd/<unit>/...``): an account
    may write commands only under its own user name, so the master knows
    who asks from the topic alone (appliance/master/authority.py)."""
    t = topics
    me = acc.username
    own_status = t.status(acc.role, acc.username)
    master_up = ("read", t.role_status("master"))  # every unit shows whether the master is up
    if acc.role == "master":
        # The master answers every client and owns all state.
        return [("readwrite", t.all_topics)]
    if acc.role == "technician":
        # Diagnoses everything, including the broker's own statistics, and
        # sends commands in its own lane only.
        return [("read", t.all_topics), ("read", "$SYS/#"), ("write", t.unit_cmds(me))]
    if acc.role == "kiosk":
        return [
            ("write", t.ticket_cmd(me, "issue")),
            ("write", t.ticket_cmd(me, "void")),
            ("readwrite", own_status),
            master_up,
        ]
    if acc.role == "counter":
        counter = acc.counter or acc.username
        return [
            ("write", t.counter_cmds(me, counter)),
            # Clerks register SMS requests and their stages (issue 6); only the
            # gateway may acknowledge stage events (docs/sms.md).
            *_clerk_requests(t, me),
            ("read", t.counter_state(counter)),
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
            ("write", t.request_cmd(me, "ack")),
            ("readwrite", own_status),
            master_up,
        ]
    if acc.role == "backoffice":
        return [
            *_clerk_requests(t, me),
            ("read", t.all_service_states),
            ("readwrite", own_status),
            master_up,
        ]
    raise ValueError(f"no ACL rules for role {acc.role!r}")
