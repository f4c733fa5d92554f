"""The branch's own sections: the centre, broker, services, counters, policy
and master.  This core imports no role: the queue engine and every role's
section build on it, and :mod:`appliance.config.branch` assembles them into
the one branch file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import urlsplit

from ..label import LabelStyle
from .schema import duplicates, setting

#: Ids of units, services and counters: they appear in MQTT topics.
ID = r"[a-z0-9][a-z0-9_-]{0,31}"
#: Longest name a ticket, a hall tile or an SMS can carry (the longest real
#: Egyptian centre names are under 80 characters).
MAX_NAME_CHARS = 200


def check_name(field: str, value: str) -> Iterator[tuple[str, str]]:
    if len(value) > MAX_NAME_CHARS:
        yield field, f"at most {MAX_NAME_CHARS} characters, not {len(value):,}"
    elif not value.strip() and field == "name_ar":
        yield field, "cannot be empty"


@dataclass(frozen=True)
class Branch:
    """The centre this configuration describes."""

    id: str = setting("Branch id, used in every MQTT topic.", pattern=ID, example="giza-dokki")
    name_ar: str = setting("Centre name in Arabic, printed on tickets and shown on screens.")
    name_en: str = setting("Centre name in English.", default="")
    timezone: str = setting(
        "Time zone for the daily reset and printed times.", default="Africa/Cairo"
    )
    day_reset_hour: int = setting(
        "Local hour at which ticket numbers start again from the first number.",
        default=4,
        minimum=0,
        maximum=23,
    )
    hotline: str = setting("Complaints hotline printed and shown.", default="16528")
    emergency: str = setting("Emergency number shown.", default="114")
    phone: str = setting("The centre's own telephone number.", default="")
    ticket_label: LabelStyle = setting(
        "How a ticket's number is written for citizens, the same on paper, hall screen, voice "
        "and SMS: 'both' (the Arabic form هـ ١ beside E001, equally large on paper), 'arabic' "
        "(هـ ١ only) or 'latin' (E001 only). The counter's LED sign always shows E001.",
        default="both",
    )
    report_english: bool = setting(
        "The day report (nidaa report) gives English beside the Arabic.", default=False
    )

    def check(self) -> Iterator[tuple[str, str]]:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        for field in ("name_ar", "name_en", "hotline", "emergency", "phone"):
            yield from check_name(field, getattr(self, field))

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            yield "timezone", f"unknown time zone {self.timezone!r}"


@dataclass(frozen=True)
class Broker:
    """How units reach the branch's Mosquitto broker."""

    url: str = setting(
        "Broker address, mqtt://host:port or mqtts://host:port.", default="mqtt://127.0.0.1:1883"
    )
    username: str = setting("MQTT user name of this unit (empty: anonymous).", default="")
    password_file: str = setting(
        "File holding this unit's MQTT password (kept out of the branch file).", default=""
    )
    fallback_urls: list[str] = setting(
        "Further brokers, in order, for a branch with a standby master (docs/standby.md): a"
        " unit moves to the next when its broker is unreachable, and back to `url` once it"
        " answers again. Same scheme as `url`.",
        default_factory=list,
    )
    ca_file: str = setting("CA certificate for an mqtts:// broker.", default="")
    credentials_dir: str = setting(
        "Folder of this Pi's per-unit credential files (`<unit>.toml`, made by nidaa "
        "provision, copied by nidaa install): a daemon whose file is there connects as "
        "its unit with it, whatever username and password_file say.",
        default="/etc/nidaa/credentials",
    )
    keepalive_s: int = setting(
        "MQTT keepalive in seconds.", default=15, minimum=5, maximum=600, aliases=("keepalive",)
    )

    def check(self) -> Iterator[tuple[str, str]]:
        try:
            parse_broker_url(self.url)
        except ValueError as exc:
            yield "url", str(exc)
        for i, url in enumerate(self.fallback_urls):
            try:
                tls = parse_broker_url(url)[2]
            except ValueError as exc:
                yield f"fallback_urls[{i}]", str(exc)
                continue
            if tls != self.url.startswith("mqtts://"):
                yield f"fallback_urls[{i}]", "every broker of a branch uses the same scheme as url"


def parse_broker_url(url: str) -> tuple[str, int, bool]:
    """``mqtt://host:port`` → ``(host, port, tls)``; raises ``ValueError``."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"broker URL must look like mqtt://host:port, not {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"bad port in broker URL {url!r}") from None
    tls = parts.scheme == "mqtts"
    return parts.hostname, port or (8883 if tls else 1883), tls


@dataclass(frozen=True)
class Fee:
    """One fee shown for a service."""

    item_ar: str = setting("What the fee is for, in Arabic.")
    amount_egp: float = setting("Amount in Egyptian pounds.", minimum=0)
    item_en: str = setting("What the fee is for, in English.", default="")


@dataclass(frozen=True)
class Service:
    """A service citizens take a ticket for."""

    id: str = setting("Service id.", pattern=ID)
    prefix: str = setting("Letter that starts its ticket numbers (A001).", pattern=r"[A-Z]")
    name_ar: str = setting("Service name in Arabic.")
    name_en: str = setting("Service name in English.", default="")
    first: int = setting("First ticket number of the day.", default=1, minimum=0, maximum=9999)
    last: int = setting("Last ticket number before wrapping.", default=999, minimum=1, maximum=9999)
    documents_ar: list[str] = setting("Required documents, in Arabic.", default_factory=list)
    fees: list[Fee] = setting("Fees for the service.", default_factory=list)
    service_minutes: float = setting(
        "Expected minutes per citizen until real service times are known.",
        default=5.0,
        minimum=0.5,
        maximum=240,
    )

    def check(self) -> Iterator[tuple[str, str]]:
        yield from check_name("name_ar", self.name_ar)
        yield from check_name("name_en", self.name_en)
        if self.last <= self.first:
            yield "last", f"must be greater than first ({self.first})"


@dataclass(frozen=True)
class Counter:
    """A window where a clerk calls citizens."""

    id: str = setting("Counter id.", pattern=ID)
    number: int = setting("The window number citizens see.", minimum=1, maximum=999)
    services: list[str] = setting("Ids of the services this counter serves.")
    priority: bool = setting(
        "The window for the elderly and people with disabilities.", default=False
    )


@dataclass(frozen=True)
class Policy:
    """How the queue treats priority tickets, recalls and estimates."""

    others: Literal["strict", "ratio", "never"] = setting(
        "How counters other than the priority window treat priority tickets: "
        "'strict' always first, 'ratio' one after every `ratio` regular calls, "
        "'never' leave them to the priority window.",
        default="strict",
    )
    ratio: int = setting(
        "Regular calls per priority call under the 'ratio' policy.",
        default=3,
        minimum=1,
        maximum=50,
    )
    priority_window_serves_regular: bool = setting(
        "The priority window calls regular tickets when no priority ticket waits.", default=True
    )
    max_recalls: int = setting(
        "Recalls before a ticket becomes a no-show automatically.", default=2, minimum=0, maximum=10
    )
    estimate_samples: int = setting(
        "Recent service times averaged for the waiting estimate.",
        default=20,
        minimum=1,
        maximum=500,
    )


@dataclass(frozen=True)
class Master:
    """The master unit."""

    unit: str = setting("Unit id of the master.", default="master", pattern=ID)
    database: str = setting("SQLite database path.", default="/var/lib/nidaa/master.db")
    command_retention_days: int = setting(
        "Days applied command ids are kept for de-duplication.", default=7, minimum=1, maximum=365
    )
    tickets_per_minute: int = setting(
        "Tickets one kiosk (one requester) may take in any minute; more are refused with"
        " `rate_limited` and the kiosk shows it as a fault. 0: no limit.",
        default=30,
        minimum=0,
        maximum=100000,
    )
    void_window_s: float = setting(
        "Seconds after issue during which a kiosk may void a ticket it issued (one that"
        " failed to print); later, or once called, the void is refused.",
        default=900.0,
        minimum=1,
        maximum=86400,
    )


def find_service(services: Sequence[Service], key: str) -> Service:
    """A service by id or by prefix letter (``A`` or ``a``); ``KeyError`` if none."""
    for s in services:
        if key == s.id or key.upper() == s.prefix:
            return s
    raise KeyError(key)


def find_counter(counters: Sequence[Counter], key: str) -> Counter:
    """A counter by id or by the window number citizens see; ``KeyError`` if none."""
    for c in counters:
        if key == c.id or key == str(c.number):
            return c
    raise KeyError(key)


class Branchwide(Protocol):
    """What a role's cross-section rules see of the branch (the whole
    :class:`appliance.config.branch.Config` has it)."""

    @property
    def branch(self) -> Branch: ...
    @property
    def services(self) -> list[Service]: ...
    @property
    def counters(self) -> list[Counter]: ...
    @property
    def policy(self) -> Policy: ...
    def service(self, key: str) -> Service: ...
    def counter(self, key: str) -> Counter: ...


def check_core(
    services: list[Service], counters: list[Counter], policy: Policy
) -> Iterator[tuple[str, str]]:
    """Rules across the core sections, paths from the file's top."""
    if not services:
        yield "services", "at least one service is required"
    if not counters:
        yield "counters", "at least one counter is required"
    for attr in ("id", "prefix"):
        for dup in duplicates(getattr(s, attr) for s in services):
            yield "services", f"{attr} {dup!r} is used by more than one service"
    for attr in ("id", "number"):
        for dup in duplicates(getattr(c, attr) for c in counters):
            yield "counters", f"{attr} {dup!r} is used by more than one counter"
    known = {s.id for s in services}
    for i, counter in enumerate(counters):
        if not counter.services:
            yield f"counters[{i}].services", "a counter must serve at least one service"
        for j, sid in enumerate(counter.services):
            if sid not in known:
                yield f"counters[{i}].services[{j}]", f"unknown service {sid!r}"
    if policy.others == "never" and counters and not any(c.priority for c in counters):
        yield (
            "policy.others",
            "'never' leaves priority tickets to the priority window, and no counter has "
            "priority = true: priority tickets would never be called",
        )
