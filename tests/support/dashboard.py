"""The central dashboard's test helpers: a store filled as the consumer
fills it (through the contract's tables), a running dashboard, and one
headless Chromium (Debian's, driven through its chromedriver) per session."""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from appliance.central.schema import apply_schema
from appliance.central.web.accounts import hash_password
from appliance.central.web.app import create_app
from appliance.central.web.server import DashboardServer
from appliance.sim.harness.postgres import Postgres

TZ = "Africa/Cairo"
USER, PASSWORD = "it-office", "correct horse battery staple"
#: Hashed once: scrypt costs ~50 ms.
USERS = {USER: hash_password(PASSWORD)}
#: Branch names are input: one carries markup that must show as text.
HOSTILE_NAME = '<img src=x onerror="document.title=\'pwned\'">فرع'


def today(now: datetime) -> date:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(TZ)).date()


@dataclass
class Ticket:
    branch: str
    ticket_id: int
    service: str
    state: str
    issued_ago_s: float
    wait_s: float | None = None  #: first call − issue
    counter: str | None = None
    rating: str | None = None


def add_ticket(conn: psycopg.Connection[Any], t: Ticket, now: datetime, seq: int) -> None:
    issued = now - timedelta(seconds=t.issued_ago_s)
    called = None if t.wait_s is None else issued + timedelta(seconds=t.wait_s)
    done = called + timedelta(seconds=120) if called and t.state != "called" else None
    conn.execute(
        "INSERT INTO tickets (branch, ticket_id, business_day, number, label, service, priority,"
        " state, issued_at, first_called_at, called_at, served_at, finished_at, counter, recalls,"
        " rating, seq) VALUES (%s, %s, %s, %s, %s, %s, false, %s, %s, %s, %s, %s, %s, %s, 0, %s,"
        " %s)",
        (t.branch, t.ticket_id, today(now), t.ticket_id, f"{t.service[0].upper()}{t.ticket_id:03d}",
         t.service, t.state, issued, called, called,
         called if t.state == "served" else None, done, t.counter, t.rating, seq),
    )  # fmt: skip
    conn.execute(
        "INSERT INTO events (branch, seq, kind, ticket_id, at) VALUES (%s, %s, 'issue', %s, %s)",
        (t.branch, seq, t.ticket_id, issued),
    )


def fill(conn: psycopg.Connection[Any], now: datetime) -> None:
    """Three branches, one offline for 20 minutes, one with a hostile name."""
    branches = [
        ("giza-dokki", "مركز الدقي", "Dokki centre", "online", now - timedelta(hours=3)),
        ("cairo-nasr", "مركز مدينة نصر", "Nasr City centre", "offline",
         now - timedelta(minutes=20)),
        ("alex-raml", HOSTILE_NAME, "Raml", "online", now - timedelta(hours=1)),
    ]  # fmt: skip
    for b, ar, en, link, since in branches:
        conn.execute(
            "INSERT INTO branches (branch, name_ar, name_en, link, link_since, last_seen,"
            " last_seq) VALUES (%s, %s, %s, %s, %s, %s, 0)",
            (b, ar, en, link, since, since if link == "offline" else now),
        )
        for service, sar, sen, target in (
            ("civil", "السجل المدني", "Civil registry", 600),
            ("pension", "المعاشات", "Pensions", 900),
        ):
            conn.execute(
                "INSERT INTO services VALUES (%s, %s, %s, %s, %s)", (b, service, sar, sen, target)
            )
    tickets = [
        # giza-dokki: 2 waiting (oldest 25 min), 3 served, 1 no-show, ratings.
        Ticket("giza-dokki", 1, "civil", "served", 3600, 300, "c1", "satisfied"),
        Ticket("giza-dokki", 2, "civil", "served", 3000, 900, "c1", "unsatisfied"),
        Ticket("giza-dokki", 3, "pension", "served", 2800, 60, "c2", "satisfied"),
        Ticket("giza-dokki", 4, "civil", "no_show", 2500, 400, "c1"),
        Ticket("giza-dokki", 5, "civil", "waiting", 1500),
        Ticket("giza-dokki", 6, "pension", "waiting", 300),
        Ticket("cairo-nasr", 1, "civil", "served", 4000, 120, "c1", "neutral"),
        Ticket("cairo-nasr", 2, "pension", "waiting", 1300),
        Ticket("alex-raml", 1, "pension", "called", 200, 100, "c3"),
    ]
    seqs: dict[str, int] = {}
    for t in tickets:
        seqs[t.branch] = seqs.get(t.branch, 0) + 1
        add_ticket(conn, t, now, seqs[t.branch])
    for b, seq in seqs.items():
        conn.execute("UPDATE branches SET last_seq = %s WHERE branch = %s", (seq, b))
    conn.commit()


@pytest.fixture(scope="session")
def store() -> Iterator[Postgres]:
    """One private PostgreSQL for every dashboard and report test."""
    with Postgres() as pg:
        with psycopg.connect(pg.dsn) as conn:
            apply_schema(conn)
        yield pg


@pytest.fixture
def store_db(store: Postgres) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the emptied central store."""
    with psycopg.connect(store.dsn) as conn:
        conn.execute("TRUNCATE branches, services, tickets, events")
        conn.commit()
        yield conn


@pytest.fixture(scope="session")
def dashboard(store: Postgres) -> Iterator[DashboardServer]:
    """The dashboard over the session's private PostgreSQL, on a free port."""
    app = create_app(store.dsn, USERS, timezone=TZ, refresh_s=0.3)
    with DashboardServer(app, "127.0.0.1", 0).start() as server:
        yield server


def chromium_options() -> Any:
    from selenium.webdriver.chrome.options import Options

    opts = Options()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", "--lang=ar", "--window-size=1920,1080"):  # fmt: skip
        opts.add_argument(flag)
    if os.geteuid() == 0:
        opts.add_argument("--no-sandbox")  # Chromium's sandbox refuses root
    return opts


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the session, through Debian's chromedriver
    (never a downloaded driver: the machine is offline)."""
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not os.path.exists("/usr/bin/chromium") or not os.path.exists(driver_path):
        pytest.fail("Chromium and its driver are needed: apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser = webdriver.Chrome(service=Service(driver_path), options=chromium_options())
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


def utcnow() -> datetime:
    return datetime.now(UTC)


def settled(server: DashboardServer, timeout: float = 15.0) -> None:
    """Wait until the dashboard has read the store after this call (two
    readings: the one under way may have begun before the last write)."""
    import time

    from appliance.central.web.app import DASHBOARD

    dash = server.app[DASHBOARD]
    start = dash.version
    deadline = time.monotonic() + timeout
    while dash.version < start + 2:
        if time.monotonic() > deadline:
            pytest.fail("the dashboard did not read the store again")
        time.sleep(0.05)


class Client:
    """A browser-like HTTP client: cookies kept, redirects not followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any) -> None:
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect
        )

    def request(self, path: str, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:  # fmt: skip
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(req, timeout=10) as resp:
                return resp.status, dict(resp.headers), resp.read(200_000).decode()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read().decode(errors="replace")

    def login(self, user: str = USER, password: str = PASSWORD) -> tuple[int, dict[str, str], str]:
        _, _, page = self.request("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token
        return self.request("/login", {"user": user, "password": password, "csrf": token[1]})


#: Nine digits or more, maybe spaced or dashed, maybe after a +: a phone.
PHONE_LIKE = re.compile(r"\+?\d(?:[\s-]?\d){8,}")
PHONE_WORDS = re.compile(r"phone|msisdn|mobile|sms|tel", re.IGNORECASE)


def central_text(conn: psycopg.Connection[Any]) -> list[tuple[str, str, str]]:
    """Every text value of every table of the central database, with its
    table and column."""
    columns = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'json',"
        " 'jsonb')"
    ).fetchall()
    found = []
    for table, column in columns:
        query = f'SELECT "{column}"::text FROM "{table}" WHERE "{column}" IS NOT NULL'
        found += [(table, column, value) for (value,) in conn.execute(query.encode())]
    return found


def phone_problems(conn: psycopg.Connection[Any]) -> list[str]:
    every = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'public'"
    ).fetchall()
    problems = [f"column {t}.{c}" for t, c in every if PHONE_WORDS.search(c)]
    problems += [f"{t}.{c} = {v!r}" for t, c, v in central_text(conn) if PHONE_LIKE.search(v)]
    return problems
