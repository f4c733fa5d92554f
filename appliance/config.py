"""The branch configuration: one TOML file per branch, one typed schema.

Load it with :func:`load_config`; every problem is reported at once with its
path, and nothing is touched before the whole file validates.  Each role adds
its own section type here so that one file describes the whole branch.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from . import schema
from .counter.config import CounterUnit
from .errors import ConfigError
from .hall.config import DisplayUnit
from .kiosk.config import KioskUnit
from .label import LabelStyle
from .schema import setting
from .sms.config import SmsGateway

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
    ca_file: str = setting("CA certificate for an mqtts:// broker.", default="")
    credentials_dir: str = setting(
        "Folder of this Pi's per-unit credential files (`<unit>.toml`, made by nidaa "
        "provision, copied by nidaa install): a daemon whose file is there connects as "
        "its unit with it, whatever username and password_file say.",
        default="/etc/nidaa/credentials",
    )
    keepalive: int = setting("MQTT keepalive in seconds.", default=15, minimum=5, maximum=600)

    def check(self) -> Iterator[tuple[str, str]]:
        try:
            parse_broker_url(self.url)
        except ValueError as exc:
            yield "url", str(exc)


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


@dataclass(frozen=True)
class Config:
    """A branch: its centre, broker, services, counters and units."""

    branch: Branch = setting("The centre.")
    services: list[Service] = setting("Services, as [[services]] tables.")
    counters: list[Counter] = setting("Counters, as [[counters]] tables.")
    broker: Broker = setting("Broker connection.", default_factory=Broker)
    policy: Policy = setting("Queue policy.", default_factory=Policy)
    master: Master = setting("Master unit.", default_factory=Master)
    counter_units: list[CounterUnit] = setting(
        "Counter units (buttons and LED display), as [[counter_units]] tables.",
        default_factory=list,
    )
    kiosks: list[KioskUnit] = setting("Kiosk units, as [[kiosks]] tables.", default_factory=list)
    displays: list[DisplayUnit] = setting("Hall display units.", default_factory=list)
    sms: SmsGateway | None = setting("The SMS gateway unit (none: no SMS).", default=None)

    def check(self) -> Iterator[tuple[str, str]]:
        if not self.services:
            yield "services", "at least one service is required"
        if not self.counters:
            yield "counters", "at least one counter is required"
        for attr in ("id", "prefix"):
            for dup in schema.duplicates(getattr(s, attr) for s in self.services):
                yield "services", f"{attr} {dup!r} is used by more than one service"
        for attr in ("id", "number"):
            for dup in schema.duplicates(getattr(c, attr) for c in self.counters):
                yield "counters", f"{attr} {dup!r} is used by more than one counter"
        from .counter.units import check_units
        from .kiosk.config import check_kiosks
        from .sms.config import check_sms

        yield from self._check_unit_ids()
        # Rules of the unit sections that need the whole branch.
        yield from check_kiosks(self)
        yield from check_units(self)
        yield from check_sms(self)
        for i, d in enumerate(self.displays):
            # The voice must say the letter the citizen's paper shows.
            if self.branch.ticket_label != "latin" and d.letters == "latin":
                yield (
                    f"displays[{i}].letters",
                    (
                        f"branch.ticket_label = {self.branch.ticket_label!r} prints the Arabic letter "
                        "(هـ); the hall must say it: use letters = 'abjad'"
                    ),
                )
            if self.branch.ticket_label == "latin" and d.letters == "abjad":
                yield (
                    f"displays[{i}].letters",
                    (
                        "branch.ticket_label = 'latin' prints only E001; the hall must say the Latin "
                        "letter: use letters = 'latin'"
                    ),
                )
        known = {s.id for s in self.services}
        for i, counter in enumerate(self.counters):
            if not counter.services:
                yield f"counters[{i}].services", "a counter must serve at least one service"
            for j, sid in enumerate(counter.services):
                if sid not in known:
                    yield f"counters[{i}].services[{j}]", f"unknown service {sid!r}"

    def _check_unit_ids(self) -> Iterator[tuple[str, str]]:
        """A unit id is an MQTT user name and client id: one unit per id,
        and not the technician's or back office's accounts."""
        seen: dict[str, str] = {"tech": "technician account", "backoffice": "back office account"}
        found = [("master.unit", self.master.unit)]
        found += [(f"counter_units[{i}].unit", u.unit) for i, u in enumerate(self.counter_units)]
        found += [(f"kiosks[{i}].unit", k.unit) for i, k in enumerate(self.kiosks)]
        found += [(f"displays[{i}].id", d.id) for i, d in enumerate(self.displays)]
        if self.sms is not None:
            found.append(("sms.unit", self.sms.unit))
        for path, unit in found:
            if unit in seen:
                yield path, f"unit id {unit!r} is already used by {seen[unit]}: unit ids are unique"
            else:
                seen[unit] = path

    # -- look-ups -----------------------------------------------------------
    def service(self, key: str) -> Service:
        """A service by id or by prefix letter (``A`` or ``a``)."""
        for s in self.services:
            if key == s.id or key.upper() == s.prefix:
                return s
        raise KeyError(key)

    def counter(self, key: str) -> Counter:
        """A counter by id or by the window number citizens see."""
        for c in self.counters:
            if key == c.id or key == str(c.number):
                return c
        raise KeyError(key)


def parse_config(text: str, *, source: str = "") -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([("", f"not valid TOML: {exc}")], source) from None
    return schema.load(Config, raw, source=source)


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([("", "file not found")], str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([("", f"cannot read: {exc}")], str(path)) from None
    return parse_config(text, source=str(path))
