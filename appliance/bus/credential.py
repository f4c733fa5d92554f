"""MQTT credentials: one file per unit, one for the technician.

``nidaa provision`` writes ``credentials/<unit>.toml`` for every unit and for
the technician (``tech.toml``): user name, password, the client id the broker
binds it to (empty for the technician), the broker's URL and, with TLS, the
branch CA.  ``nidaa install`` copies a unit's file to
``/etc/nidaa/credentials/<unit>.toml``; several roles on one Pi (master and
SMS gateway) each keep their own file there.

A daemon looks for its unit's file in ``[broker] credentials_dir``; without
one it uses ``[broker] username``/``password_file`` (or connects anonymously,
as in the demo).  A technician's command uses ``--credential FILE``,
``$NIDAA_CREDENTIAL`` or ``~/.config/nidaa/credential.toml``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..config.branch import Config
from ..errors import ConfigError

#: Where a technician keeps their own credential (``tech.toml``) on a Pi.
USER_CREDENTIAL = Path("~/.config/nidaa/credential.toml")


@dataclass(frozen=True)
class Credential:
    username: str
    password: str
    #: The only client id the broker accepts with it; empty: any.
    client_id: str = ""
    role: str = ""
    broker_url: str = ""
    ca_pem: str = ""
    source: str = ""  #: the file it came from, for messages


def load_credential(path: str | Path) -> Credential:
    path = Path(path).expanduser()
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([("", "credential file not found")], str(path)) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError([("", f"cannot read the credential: {exc}")], str(path)) from None
    problems = [
        (key, "missing (made by nidaa provision)")
        for key in ("username", "password")
        if not isinstance(doc.get(key), str) or not doc.get(key)
    ]
    if problems:
        raise ConfigError(problems, str(path))

    def text(key: str) -> str:
        value = doc.get(key, "")
        return value if isinstance(value, str) else ""

    return Credential(
        username=text("username"),
        password=text("password"),
        client_id=text("client_id"),
        role=text("role"),
        broker_url=text("broker_url"),
        ca_pem=text("ca_pem"),
        source=str(path),
    )


def unit_credential(config: Config, unit: str) -> Credential | None:
    """The unit's own credential file, if this Pi has one."""
    folder = config.broker.credentials_dir
    if not folder:
        return None
    path = Path(folder) / f"{unit}.toml"
    return load_credential(path) if path.is_file() else None


def tool_credential(
    explicit: str | None, environ: Mapping[str, str] | None = None
) -> Credential | None:
    """The credential a technician's command connects with, if one is set up."""
    environ = os.environ if environ is None else environ
    if explicit:
        return load_credential(explicit)
    if environ.get("NIDAA_CREDENTIAL"):
        return load_credential(environ["NIDAA_CREDENTIAL"])
    home = environ.get("HOME")
    default = Path(home) / ".config/nidaa/credential.toml" if home else None
    if default is not None and default.is_file():
        return load_credential(default)
    return None
