"""Dashboard sessions: signed, expiring cookies that outlive a restart of the
service; forged, expired, revoked and stale cookies are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from appliance.central.web.app import SESSION_COOKIE, create_app
from appliance.central.web.server import DashboardServer
from appliance.central.web.sessions import Signer, load_secret, new_secret_text
from appliance.errors import ConfigError
from appliance.sim.harness.postgres import Postgres
from tests.support.dashboard import TZ, USER, USERS, Client


def _serve(store: Postgres, secret: bytes, users: dict[str, str] = USERS) -> DashboardServer:
    app = create_app(store.dsn, users, timezone=TZ, refresh_s=0.3, session_secret=secret)
    return DashboardServer(app, "127.0.0.1", 0).start()


def _get(server: DashboardServer, cookie: str) -> int:
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
    return Client(server.url).request("/", headers=headers)[0]


def test_a_session_outlives_a_restart_of_the_service(
    store: Postgres, store_db: Any, tmp_path: Path
) -> None:
    secret_file = tmp_path / "dashboard.secret"
    secret_file.write_text(new_secret_text())
    with _serve(store, load_secret(str(secret_file))) as first:
        status, headers, _ = Client(first.url).login()
        assert status == 303
        cookie = headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
        assert _get(first, cookie) == 200
    # The service restarted (or a second one behind a balancer, same secret).
    with _serve(store, load_secret(str(secret_file))) as second:
        assert _get(second, cookie) == 200
        forged = cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB")
        assert _get(second, forged) == 303
        assert _get(second, "v1.YWRtaW4.9999999999.x.y") == 303
    # Another secret, or the user's password changed: the cookie is refused.
    with _serve(store, load_secret("")) as other:
        assert _get(other, cookie) == 303
    with _serve(store, load_secret(str(secret_file)), {USER: USERS[USER] + "0"}) as changed:
        assert _get(changed, cookie) == 303


def test_cookies_expire_and_revoke_and_name_their_user() -> None:
    users = {"it-office": "scrypt$a", "other": "scrypt$b"}
    signer = Signer(b"k" * 32, users, 3600)
    cookie = signer.issue("it-office", now=1_000_000)
    session = signer.check(cookie, now=1_000_000 + 3599)
    assert session is not None and session.user == "it-office"
    assert signer.check(cookie, now=1_000_000 + 3601) is None  # expired
    # The user's name is signed: another user's name in the cookie is refused.
    parts = cookie.split(".")
    parts[1] = signer.issue("other", now=1_000_000).split(".")[1]
    assert signer.check(".".join(parts), now=1_000_000) is None
    # A later expiry than the signer would give is refused even if signed so.
    long = Signer(b"k" * 32, users, 10 * 3600).issue("it-office", now=1_000_000)
    assert signer.check(long, now=1_000_000) is None
    live = signer.issue("it-office")
    assert signer.check(live) is not None
    signer.revoke(live)
    assert signer.check(live) is None
    with pytest.raises(KeyError):
        signer.issue("nobody")


def test_a_short_or_missing_secret_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "short").write_text("too short\n")
    for path in (tmp_path / "short", tmp_path / "missing"):
        with pytest.raises(ConfigError, match="session_secret_file"):
            load_secret(str(path))
    assert len(load_secret("")) >= 32
