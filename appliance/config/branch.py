"""The branch file: the core sections and every role's section, checked together.

Load it with :func:`load_config`.  Every problem is reported at once with
its path, including the rules that span sections (a kiosk button naming an
unknown service, a unit id used by two roles): ``nidaa config validate``
refuses everything a daemon would refuse at start, and nothing is touched
before the whole file validates.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..counter.config import CounterUnit, check_units
from ..errors import ConfigError
from ..hall.config import DisplayUnit, check_displays
from ..kiosk.config import KioskUnit, check_kiosks
from ..sms.config import SmsGateway, check_sms
from . import schema
from .core import (
    Branch,
    Broker,
    Counter,
    Master,
    Policy,
    Service,
    check_core,
    find_counter,
    find_service,
)
from .ha import Ha
from .schema import setting

#: A branch file is a few kilobytes; past this it is not one (``/dev/zero``).
MAX_BYTES = 1024 * 1024
#: Tables and arrays nested deeper than this are not a branch file either,
#: nor dotted keys of more parts (the TOML parser's time grows with their square).
MAX_DEPTH = 32
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')"""
_DEEP_KEY = re.compile(rf"{_KEY_PART}(?:[ \t]*\.[ \t]*{_KEY_PART}){{{MAX_DEPTH},}}")


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
    ha: Ha | None = setting(
        "A standby master on a three-member etcd cluster (none: one master, no etcd).",
        default=None,
    )

    def check(self) -> Iterator[tuple[str, str]]:
        yield from check_core(self.services, self.counters, self.policy)
        yield from self._check_unit_ids()
        yield from check_kiosks(self.kiosks, self)
        yield from check_units(self.counter_units, self)
        yield from check_displays(self.displays, self)
        yield from check_sms(self)
        yield from self._check_unit_ids()
        yield from self._check_candidates()

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

    def _check_candidates(self) -> Iterator[tuple[str, str]]:
        """Candidates are master units: none may be another role's unit id."""
        if self.ha is None:
            return
        others = {k.unit for k in self.kiosks} | {u.unit for u in self.counter_units}
        others |= {d.id for d in self.displays} | {"tech", "backoffice"}
        if self.sms is not None:
            others.add(self.sms.unit)
        for i, unit in enumerate(self.ha.candidates):
            if unit in others:
                yield f"ha.candidates[{i}]", f"unit id {unit!r} is another unit's"
        if self.master.unit not in self.ha.candidates:
            yield "ha.candidates", f"master.unit {self.master.unit!r} must be a candidate"
        # The master's worker drives its bus (appliance/bus/pump.py): while it
        # waits on etcd (a commit, then a poll) it pings nothing, and the
        # broker drops it after 1.5 keepalives.
        if 2 * self.ha.request_timeout_s >= 1.5 * self.broker.keepalive_s:
            yield (
                "ha.request_timeout_s",
                f"two etcd requests must take less than 1.5 x broker.keepalive_s"
                f" ({1.5 * self.broker.keepalive_s:g} s): the master pings the broker only"
                " between them",
            )
        for i, k in enumerate(self.kiosks):
            # The master answers no_quorum after ha.request_timeout_s: the kiosk must wait longer.
            if k.request_timeout_s * k.request_attempts <= self.ha.request_timeout_s:
                yield (
                    f"kiosks[{i}].request_timeout_s",
                    f"request_timeout_s x request_attempts must exceed ha.request_timeout_s"
                    f" ({self.ha.request_timeout_s:g} s), or the kiosk never sees no_quorum",
                )

    # -- look-ups -----------------------------------------------------------
    def service(self, key: str) -> Service:
        """A service by id or by prefix letter (``A`` or ``a``)."""
        return find_service(self.services, key)

    def counter(self, key: str) -> Counter:
        """A counter by id or by the window number citizens see."""
        return find_counter(self.counters, key)


def _depth(text: str) -> int:
    """Deepest nesting of ``[`` and ``{`` outside strings and comments: a cheap
    bound checked before the TOML parser recurses into it."""
    deepest = depth = 0
    quote = ""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = ""
                continue
        elif ch in "\"'":
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            i += len(quote)
            continue
        elif ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
        i += 1
    return deepest


def parse_config(text: str, *, source: str = "") -> Config:
    """A branch file's text → :class:`Config`, or :class:`ConfigError` with
    every problem."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ConfigError([("", f"larger than {MAX_BYTES // 1024} KiB: not a branch file")], source)
    if _depth(text) > MAX_DEPTH or _DEEP_KEY.search(text):
        raise ConfigError(
            [("", f"tables, arrays or keys nested deeper than {MAX_DEPTH}: not a branch file")],
            source,
        )
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([("", f"not valid TOML: {exc}")], source) from None
    except RecursionError:  # pragma: no cover - _depth refuses it first
        raise ConfigError([("", "nested too deeply: not a branch file")], source) from None
    return schema.load(Config, raw, source=source)


def load_config(path: str | Path) -> Config:
    """Read and check a branch file (at most :data:`MAX_BYTES` are read)."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError([("", "file not found")], str(path)) from None
    except OSError as exc:
        raise ConfigError([("", f"cannot read: {exc}")], str(path)) from None
    if len(data) > MAX_BYTES:
        raise ConfigError(
            [("", f"larger than {MAX_BYTES // 1024} KiB: not a branch file")], str(path)
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([("", f"cannot read: {exc}")], str(path)) from None
    return parse_config(text, source=str(path))
