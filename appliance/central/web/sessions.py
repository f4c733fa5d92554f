"""Dashboard sessions as signed, expiring cookies.

A session is nothing the server keeps: the cookie carries the user, its
expiry and a random nonce, signed with HMAC-SHA256 under the server's
secret (``[dashboard] session_secret_file``) and the user's stored password
hash.  So a session outlives a restart of ``nidaa central`` and is honoured
by every process given the same secret (several behind a balancer), and it
ends at its expiry, when the user's password hash changes or the user is
removed, or when the secret changes.  A logout forgets the cookie in the
browser and, in the process that served it, until its expiry.

The logout form's token is derived from the cookie (another HMAC), so it
needs no storage either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from ...errors import ConfigError

#: The least secret a file may hold.
MIN_SECRET_BYTES = 32
_VERSION = "v1"


@dataclass(frozen=True)
class Session:
    user: str
    expires: float  #: seconds since the epoch
    csrf: str


def load_secret(path: str) -> bytes:
    """The secret of ``session_secret_file``; a random one (sessions end
    with the process) when ``path`` is empty."""
    if not path:
        return secrets.token_bytes(MIN_SECRET_BYTES)
    try:
        data = Path(path).read_bytes()[:4096].strip()
    except OSError as exc:
        raise ConfigError([("dashboard.session_secret_file", f"cannot read: {exc}")]) from None
    if len(data) < MIN_SECRET_BYTES:
        raise ConfigError(
            [("dashboard.session_secret_file",
              f"holds {len(data)} bytes: at least {MIN_SECRET_BYTES} random bytes are needed")]
        )  # fmt: skip
    return data


def new_secret_text() -> str:
    """What a new secret file holds (printable, 256 bits)."""
    return secrets.token_urlsafe(48) + "\n"


class Signer:
    """Makes and checks session cookies for ``users`` (name → stored hash)."""

    def __init__(self, secret: bytes, users: dict[str, str], lifetime_s: float) -> None:
        self._secret = secret
        self._users = users
        self.lifetime_s = lifetime_s
        self._revoked: dict[str, float] = {}  #: cookie's MAC → its expiry

    def _mac(self, *parts: str) -> str:
        msg = "|".join(parts).encode()
        digest = hmac.new(self._secret, msg, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def _user_key(self, user: str) -> str | None:
        stored = self._users.get(user)
        return None if stored is None else hashlib.sha256(stored.encode()).hexdigest()

    def issue(self, user: str, now: float | None = None) -> str:
        """A new cookie for ``user`` (a known user)."""
        key = self._user_key(user)
        if key is None:
            raise KeyError(user)
        expires = str(int((time.time() if now is None else now) + self.lifetime_s))
        name = base64.urlsafe_b64encode(user.encode()).rstrip(b"=").decode()
        nonce = secrets.token_urlsafe(12)
        return ".".join([_VERSION, name, expires, nonce, self._mac(_VERSION, name, expires, nonce, key)])

    def check(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session of a cookie, or None: malformed, forged, expired,
        revoked, or its user gone or with another password since."""
        if not cookie or len(cookie) > 512:
            return None
        parts = cookie.split(".")
        if len(parts) != 5 or parts[0] != _VERSION or not parts[2].isdigit():
            return None
        _, name, expires, nonce, mac = parts
        try:
            user = base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        key = self._user_key(user)
        if key is None:
            return None
        if not hmac.compare_digest(mac, self._mac(_VERSION, name, expires, nonce, key)):
            return None
        at = time.time() if now is None else now
        if int(expires) < at or int(expires) > at + self.lifetime_s + 60 or mac in self._revoked:
            return None
        return Session(user, float(expires), self._mac("csrf", mac))

    def revoke(self, cookie: str) -> None:
        """Refuse ``cookie`` from now on in this process (a logout)."""
        session = self.check(cookie)
        if session is None:
            return
        now = time.time()
        for old in [m for m, exp in self._revoked.items() if exp < now]:
            del self._revoked[old]
        self._revoked[cookie.rsplit(".", 1)[1]] = session.expires
