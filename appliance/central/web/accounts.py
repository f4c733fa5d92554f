"""The dashboard's accounts: salted scrypt hashes, and the ``[dashboard]``
section of ``central.toml`` that lists them.

A password is never stored: ``central.toml`` holds
``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>`` (``nidaa central-user NAME``
prints one), checked in constant time.  An unknown user costs the same
scrypt as a known one, so the time of a refusal does not tell which names
exist.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from ...config.core import ID
from ...config.schema import duplicates, setting

#: scrypt's cost: 16 MiB of memory and some 50 ms per check.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_HASH = re.compile(r"scrypt\$(\d+)\$(\d+)\$(\d+)\$([0-9a-f]{32,128})\$([0-9a-f]{64})\Z")
#: Compared against when the name is unknown (same cost as a real check).
_DECOY = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${'00' * 16}${'00' * 32}"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=256 * 1024 * 1024
    )


def hash_password(password: str) -> str:
    """A fresh salted hash of ``password`` for ``central.toml``."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def hash_problem(stored: str) -> str | None:
    """Why ``stored`` is not a usable hash (None: it is one)."""
    m = _HASH.match(stored)
    if m is None:
        return "must be a hash made by `nidaa central-user` (scrypt$n$r$p$salt$hash)"
    n, r, p = (int(g) for g in m.groups()[:3])
    if n < 2**14 or n > 2**20 or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16:
        return "scrypt parameters out of range (n a power of two from 16384, r 1–32, p 1–16)"
    return None


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant time in the digest)."""
    m = _HASH.match(stored)
    if m is None or hash_problem(stored):
        return False
    n, r, p = (int(g) for g in m.groups()[:3])
    digest = _scrypt(password, bytes.fromhex(m.group(4)), n, r, p)
    return hmac.compare_digest(digest, bytes.fromhex(m.group(5)))


@dataclass(frozen=True)
class DashboardUser:
    """One account of the dashboard (read-only: every account sees every branch)."""

    name: str = setting("Login name.", pattern=ID, example="it-office")
    password_hash: str = setting(
        "Salted scrypt hash of the password, printed by `nidaa central-user NAME`.",
        example="scrypt$16384$8$1$…$…",
    )

    def check(self) -> Iterator[tuple[str, str]]:
        problem = hash_problem(self.password_hash)
        if problem:
            yield "password_hash", problem


@dataclass(frozen=True)
class DashboardSection:
    """The web dashboard served by `nidaa central`."""

    listen: str = setting(
        "Address and port the dashboard listens on, e.g. 0.0.0.0:8080 (empty: this "
        "consumer serves no dashboard; with several consumers, one serves it).",
        default="",
        example="0.0.0.0:8080",
    )
    tls_cert: str = setting(
        "PEM certificate for HTTPS (empty: plain HTTP, for a reverse proxy or a closed LAN); "
        "with it the session cookie is marked Secure.",
        default="",
    )
    tls_key: str = setting("PEM private key of tls_cert.", default="")
    timezone: str = setting(
        "Time zone whose calendar day is the dashboard's \"today\".", default="Africa/Cairo"
    )
    refresh_s: float = setting(
        "Seconds between two readings of the store (every screen gets the same reading).",
        default=2.0,
        minimum=0.2,
        maximum=60,
    )
    session_hours: float = setting(
        "Hours a login lasts (a wall screen logs in again after this).",
        default=12.0,
        minimum=0.1,
        maximum=24 * 31,
    )
    session_secret_file: str = setting(
        "File of at least 32 random bytes that signs the session cookies "
        "(nidaa install --role central makes one; the same file on every consumer "
        "serving the dashboard). Empty: a random secret per process, and a restart "
        "logs everyone out.",
        default="",
    )
    users: list[DashboardUser] = setting(
        "Accounts, as [[dashboard.users]] tables; no account, no login.",
        default_factory=list,
    )

    def check(self) -> Iterator[tuple[str, str]]:
        if self.listen and parse_listen(self.listen) is None:
            yield "listen", "must be HOST:PORT (port 1–65535), e.g. 127.0.0.1:8080"
        if bool(self.tls_cert) != bool(self.tls_key):
            yield "tls_key", "tls_cert and tls_key go together"
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(self.timezone)
        except (ValueError, OSError, KeyError):
            yield "timezone", f"unknown time zone {self.timezone!r}"
        if self.listen and not self.users:
            yield "users", "a dashboard with no account: add one (nidaa central-user NAME)"
        for dup in duplicates(u.name for u in self.users):
            yield "users", f"user {dup!r} is listed twice"


def parse_listen(text: str) -> tuple[str, int] | None:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host.strip("[]"), int(port)


def check_login(users: dict[str, str], name: str, password: str) -> bool:
    """``users``: name → stored hash.  Same cost whether the name exists or not."""
    stored = users.get(name)
    ok = verify_password(stored if stored is not None else _DECOY, password)
    return ok and stored is not None
