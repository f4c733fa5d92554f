"""The dashboard over a real private PostgreSQL filled through the contract's
tables: its figures, its login, and what it refuses (HTTP, no browser)."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from appliance.central.views import snapshot
from appliance.central.web import render
from appliance.central.web.accounts import (
    DashboardSection,
    check_login,
    hash_password,
    hash_problem,
    verify_password,
)
from appliance.central.web.app import DASHBOARD, MAX_FAILURES, Dashboard
from appliance.central.web.server import DashboardServer
from appliance.config.schema import load
from appliance.errors import ConfigError
from appliance.sim.harness.postgres import Postgres
from tests.support.dashboard import (
    HOSTILE_NAME,
    PASSWORD,
    TZ,
    USER,
    Client,
    fill,
    settled,
    today,
    utcnow,
)


@pytest.fixture
def filled(store_db: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    fill(store_db, utcnow())
    return store_db


def test_snapshot_figures(filled: psycopg.Connection[Any]) -> None:
    now = utcnow()
    snap = snapshot(filled, today(now), now, target_wait_s=900)
    assert [b.branch for b in snap.branches] == ["alex-raml", "cairo-nasr", "giza-dokki"]
    giza = snap.by_id["giza-dokki"]
    assert giza.online and giza.name == "مركز الدقي"
    assert (giza.total("waiting"), giza.total("served"), giza.total("no_shows")) == (2, 3, 1)
    # Waits of the called: 300, 900, 60 and 400 s; targets civil 600 s, pension 900 s.
    assert giza.avg_wait_s == pytest.approx((300 + 900 + 60 + 400) / 4)
    assert giza.within_target_share == pytest.approx(3 / 4)
    assert giza.satisfaction == pytest.approx(2 / 3)
    longest = snap.longest_wait_s(giza)
    assert longest is not None and 1500 <= longest < 1560  # the oldest waiting: 25 min
    civil = {s.service: s for s in giza.services}["civil"]
    assert (civil.waiting, civil.served, civil.no_shows, civil.target_wait_s) == (1, 2, 1, 600)
    nasr = snap.by_id["cairo-nasr"]
    assert not nasr.online and nasr.link_since is not None
    assert giza.day == today(now)
    # After midnight a branch is on yesterday's business day until its reset:
    # its latest day (of today or yesterday) is its figures', and says so.
    filled.execute("UPDATE tickets SET business_day = business_day - 1 WHERE branch = 'cairo-nasr'")
    filled.commit()
    snap = snapshot(filled, today(now), now)
    nasr = snap.by_id["cairo-nasr"]
    assert nasr.total("waiting") == 1 and nasr.day == today(now) - timedelta(days=1)
    assert "أرقام يوم العمل" in render.overview(snap, ZoneInfo(TZ))
    # Older days are not today's figures.
    filled.execute("UPDATE tickets SET business_day = business_day - 1 WHERE branch = 'cairo-nasr'")
    filled.commit()
    snap = snapshot(filled, today(now), now)
    assert snap.by_id["cairo-nasr"].total("waiting") == 0 and snap.by_id["cairo-nasr"].day is None


def test_a_branch_shows_its_own_day_before_its_first_ticket(
    filled: psycopg.Connection[Any],
) -> None:
    """At 7 a.m. a wall screen shows today (zeros) for a branch whose day
    starts at 5, though its latest tickets are yesterday's; at 3 a.m. that
    branch is still on yesterday's business day, by its own calendar."""
    filled.execute("UPDATE tickets SET business_day = business_day - 1 WHERE branch = 'giza-dokki'")
    filled.execute(
        "UPDATE branches SET timezone = %s, day_reset_hour = 5 WHERE branch = 'giza-dokki'", (TZ,)
    )
    filled.commit()
    tz = ZoneInfo(TZ)
    local_day = utcnow().astimezone(tz).date()
    seven = datetime.combine(local_day, time(7, 0), tz)
    snap = snapshot(filled, local_day, seven)
    giza = snap.by_id["giza-dokki"]
    assert giza.day == local_day and giza.online
    assert (giza.total("tickets"), giza.total("waiting"), giza.total("served")) == (0, 0, 0)
    assert snap.longest_wait_s(giza) is None and "أرقام يوم العمل" not in render.overview(snap, tz)
    three = datetime.combine(local_day, time(3, 0), tz)
    giza = snapshot(filled, local_day, three).by_id["giza-dokki"]
    assert giza.day == local_day - timedelta(days=1) and giza.total("waiting") == 2


def test_passwords_are_salted_scrypt() -> None:
    first, second = hash_password("s3cret"), hash_password("s3cret")
    assert first != second and first.startswith("scrypt$") and "s3cret" not in first
    assert hash_problem(first) is None
    assert verify_password(first, "s3cret") and not verify_password(first, "s3cret ")
    assert not check_login({"a": first}, "b", "s3cret")
    assert hash_problem("plain-text") and not verify_password("plain-text", "plain-text")
    assert hash_problem(first.replace("$16384$", "$1024$"))  # too cheap


def test_dashboard_section_is_checked() -> None:
    with pytest.raises(ConfigError) as err:
        load(DashboardSection, {
            "listen": "nowhere", "tls_cert": "c.pem", "timezone": "Mars/Olympus",
            "users": [{"name": "a", "password_hash": "x"}, {"name": "a",
                                                            "password_hash": hash_password("p")}],
        })  # fmt: skip
    paths = {p for p, _ in err.value.problems}
    assert {"listen", "tls_key", "timezone", "users[0].password_hash", "users"} <= paths
    with pytest.raises(ConfigError, match="no account"):
        load(DashboardSection, {"listen": "0.0.0.0:8080"})
    assert load(DashboardSection, {}).listen == ""  # no [dashboard]: no dashboard


def test_nothing_without_login(filled: Any, dashboard: DashboardServer) -> None:
    c = Client(dashboard.url)
    for path in ("/", "/branch/giza-dokki", "/stream", "/stream?branch=giza-dokki"):
        status, headers, body = c.request(path)
        assert status in (303, 401), path
        assert "giza" not in body and "الدقي" not in body
    status, headers, _ = c.request("/")
    assert headers["Location"] == "/login"
    status, _, css = c.request("/static/dashboard.css")
    assert status == 200 and "direction: rtl" in css
    assert c.request("/static/app.py")[0] == 303


def test_login_cookie_csrf_and_escaping(filled: Any, dashboard: DashboardServer) -> None:
    settled(dashboard)
    c = Client(dashboard.url)
    # A login POST without the form's token (another site's form) is refused.
    status, _, _ = c.request("/login", {"user": USER, "password": PASSWORD, "csrf": "guess"})
    assert status == 403
    status, _, _ = c.login(password="wrong")
    assert status == 403
    status, headers, _ = c.login()
    assert status == 303 and headers["Location"] == "/"
    cookie = headers["Set-Cookie"]
    assert "nidaa_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain HTTP here; over TLS the cookie is Secure
    status, headers, page = c.request("/")
    assert status == 200 and '<html lang="ar" dir="rtl">' in page
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert HOSTILE_NAME not in page and "&lt;img src=x onerror=" in page
    status, _, page = c.request("/branch/giza-dokki")
    assert status == 200 and "السجل المدني" in page
    assert c.request("/static/app.py")[0] == 404  # only the two files
    status, _, page = c.request("/branch/%3Cb%3Ex")
    assert status == 404 and "<b>x" not in page and "&lt;b&gt;x" in page
    # Logging out needs the session's own token; then the session is gone.
    assert c.request("/logout", {"csrf": "guess"})[0] == 403
    token = re.search(r'name="csrf" value="([^"]+)"', c.request("/")[2])
    assert token
    assert c.request("/logout", {"csrf": token[1]})[0] == 303
    assert c.request("/")[0] == 303


def test_live_stream_sends_a_change(filled: psycopg.Connection[Any],
                                    dashboard: DashboardServer) -> None:  # fmt: skip
    settled(dashboard)
    c = Client(dashboard.url)
    c.login()
    req = urllib.request.Request(dashboard.url + "/stream?branch=giza-dokki")
    with c.opener.open(req, timeout=20) as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        first = _event(resp)
        assert 'data-k="served">3<' in first
        filled.execute("UPDATE tickets SET state = 'served' WHERE branch = 'giza-dokki'"
                       " AND ticket_id = 5")  # fmt: skip
        filled.commit()
        for _ in range(50):
            if 'data-k="served">4<' in _event(resp):
                break
        else:
            pytest.fail("the change never reached the stream")


def _event(resp: Any) -> str:
    import json

    lines = []
    while True:
        line = resp.readline().decode()
        if line == "\n" and lines:
            break
        if line.startswith("data: "):
            lines.append(json.loads(line[6:]))
    return "".join(lines)


def test_login_attempts_are_limited(filled: Any, dashboard: DashboardServer) -> None:
    c = Client(dashboard.url)
    dashboard.app[DASHBOARD].failures.clear()
    for _ in range(MAX_FAILURES):
        assert c.login(password="wrong")[0] == 403
    status, _, _page = c.login()  # even the right password now waits
    assert status == 429
    dashboard.app[DASHBOARD].failures.clear()
    assert c.login()[0] == 303


def test_store_down_keeps_the_last_figures(store: Postgres, filled: Any) -> None:
    dash = Dashboard(store.dsn, {}, timezone=TZ)
    good = dash.read()
    assert good.error is None
    dash.snap = good
    store.stop()
    try:
        down = dash.read()
    finally:
        store.start()
    assert down.error and down.branches == good.branches
    assert dash.read().error is None


def test_closing_waits_for_a_reading_and_never_frees_its_connection(
    store: Postgres, filled: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from appliance.central.web import app as dashboard_app

    dash = Dashboard(store.dsn, {}, timezone=TZ)
    assert dash.read().error is None
    in_query, seen = threading.Event(), []

    def slow(conn: Any, *args: Any, **kwargs: Any) -> Any:
        in_query.set()
        threading.Event().wait(0.5)  # a long query, with close() called meanwhile
        seen.append(conn.closed)
        return snapshot(conn, *args, **kwargs)

    monkeypatch.setattr(dashboard_app, "snapshot", slow)
    reader = threading.Thread(target=dash.read)
    reader.start()
    assert in_query.wait(10)
    dash.close()  # from another thread, as the dashboard's shutdown does
    reader.join(10)
    assert seen == [False], "the connection was closed under a query"
    assert dash._conn is None
    dash.read()  # once closed, no new connection is opened
    assert dash._conn is None and seen == [False]
