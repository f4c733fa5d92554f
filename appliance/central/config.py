"""``central.toml``: the central service's settings (docs/central.md).

One file for the central consumer (and the web dashboard served by the same
process): where the central PostgreSQL is, how to reach the central broker,
and the branches it expects.  Checked once at start-up against this schema;
every problem is reported with its path.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..config import schema
from ..config.core import ID, check_name, parse_broker_url
from ..config.schema import duplicates, setting
from ..errors import ConfigError
from .web.accounts import DashboardSection

#: A central file is small; anything larger is not one.
MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class CentralSection:
    """The consumer and its store."""

    database: str = setting(
        "libpq connection string of the central PostgreSQL (its password, if any, in "
        "database_password_file or ~/.pgpass, never here).",
        example="host=127.0.0.1 port=5432 dbname=nidaa user=nidaa",
    )
    database_password_file: str = setting(
        "File holding the PostgreSQL password (empty: none, or ~/.pgpass).", default=""
    )
    consumer: str = setting(
        "This consumer's MQTT client id; several consumers of one centre need different ones.",
        default="central-1",
        pattern=ID,
    )
    share_group: str = setting(
        "The MQTT v5 shared subscription group the consumers of one centre share the "
        "branches' changes in ($share/<group>/...).",
        default="central",
        pattern=ID,
    )
    target_wait_s: int = setting(
        "Target wait of every service, beside which the dashboard shows the average wait.",
        default=900,
        minimum=60,
        maximum=86400,
    )
    replay_after_s: float = setting(
        "Seconds a hole in a branch's numbers may last before the consumer asks the "
        "branch's master to replay (changes of one branch may arrive out of order "
        "across consumers).",
        default=1.0,
        minimum=0.1,
        maximum=600,
    )

    def password(self) -> str | None:
        """The PostgreSQL password from ``database_password_file`` (None: none)."""
        if not self.database_password_file:
            return None
        try:
            return Path(self.database_password_file).read_text().strip()
        except OSError as exc:
            raise ConfigError([("central.database_password_file", str(exc))]) from None


@dataclass(frozen=True)
class CentralBroker:
    """How the consumer reaches the central Mosquitto."""

    url: str = setting(
        "Central broker, mqtt://host:port or mqtts://host:port.",
        default="mqtt://127.0.0.1:1883",
    )
    credential: str = setting(
        "Credential file made by `nidaa provision --central-broker` "
        "(credentials/central.toml): user, password and the central CA.",
        default="",
    )
    keepalive_s: int = setting("MQTT keepalive in seconds.", default=15, minimum=5, maximum=600)

    def check(self) -> Iterator[tuple[str, str]]:
        try:
            parse_broker_url(self.url)
        except ValueError as exc:
            yield "url", str(exc)


@dataclass(frozen=True)
class CentralBranch:
    """A branch the centre expects (the names a branch sends win once heard)."""

    id: str = setting("The branch id (its `[branch] id`).", pattern=ID, example="giza-dokki")
    name_ar: str = setting("The branch's name in Arabic.", default="")
    name_en: str = setting("The branch's name in English.", default="")

    def check(self) -> Iterator[tuple[str, str]]:
        for field in ("name_en",):
            yield from check_name(field, getattr(self, field))
        if len(self.name_ar) > 200:
            yield "name_ar", "at most 200 characters"


@dataclass(frozen=True)
class CentralConfig:
    """The central service."""

    central: CentralSection = setting("The consumer and its store.")
    broker: CentralBroker = setting("The central broker.", default_factory=CentralBroker)
    branches: list[CentralBranch] = setting(
        "The branches, as [[branches]] tables (each gets a bridge account on the central "
        "broker from `nidaa provision --central-broker`).",
        default_factory=list,
    )
    dashboard: DashboardSection = setting(
        "The web dashboard this consumer serves (docs/central.md, \"The dashboard\").",
        default_factory=DashboardSection,
    )

    def check(self) -> Iterator[tuple[str, str]]:
        for dup in duplicates(b.id for b in self.branches):
            yield "branches", f"branch {dup!r} is listed twice"


def parse_central_config(text: str, *, source: str = "") -> CentralConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([("", f"not valid TOML: {exc}")], source) from None
    except RecursionError:
        raise ConfigError([("", "nested too deeply: not a central file")], source) from None
    return schema.load(CentralConfig, raw, source=source)


def load_central_config(path: str | Path) -> CentralConfig:
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError([("", "file not found")], str(path)) from None
    except OSError as exc:
        raise ConfigError([("", f"cannot read: {exc}")], str(path)) from None
    if len(data) > MAX_BYTES:
        raise ConfigError([("", f"larger than {MAX_BYTES // 1024} KiB: not a central file")], str(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([("", f"not UTF-8: {exc}")], str(path)) from None
    return parse_central_config(text, source=str(path))
