"""The dashboard as an aiohttp application: login, pages, live updates.

Read-only: every page and the event stream are GETs that only read; the
only POSTs are the login (a per-visit token in a SameSite=Strict cookie and
the form, compared) and the logout (a per-session token).  Nothing but the
login page and the two static files (the CSS and the script, no data) is
served without a session; a session is a signed, expiring token in an
HttpOnly, SameSite=Strict cookie (Secure over HTTPS), kept by no server
(:mod:`appliance.central.web.sessions`): it survives a restart.

One task reads the store every ``refresh_s`` (:mod:`appliance.central.views`);
every open page's stream sends its ``<main>`` again when what it shows
changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from importlib import resources
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp import web

from ..views import Snapshot, snapshot
from . import render
from .accounts import check_login
from .sessions import Session, Signer, load_secret

log = logging.getLogger(__name__)

SESSION_COOKIE = "nidaa_session"
LOGIN_COOKIE = "nidaa_login"
#: Failed logins from one address within FAILURE_WINDOW_S before it must wait.
MAX_FAILURES, FAILURE_WINDOW_S = 10, 600.0
_STATIC = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}
#: Seconds close() waits for a reading under way before it leaves the
#: connection to the reading thread.
CLOSE_WAIT_S = 10.0
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class Dashboard:
    """The state behind the app: accounts, sessions, the latest snapshot."""

    def __init__(
        self,
        store_dsn: str,
        users: dict[str, str],
        *,
        timezone: str = "Africa/Cairo",
        refresh_s: float = 2.0,
        target_wait_s: int = 900,
        session_s: float = 12 * 3600,
        secure_cookie: bool = False,
        password: str | None = None,
        session_secret: bytes | None = None,
    ) -> None:
        self.store_dsn = store_dsn
        self.password = password
        self.users = dict(users)
        self.tz: tzinfo = ZoneInfo(timezone)
        self.refresh_s = refresh_s
        self.target_wait_s = target_wait_s
        self.session_s = session_s
        self.secure_cookie = secure_cookie
        self.signer = Signer(session_secret or load_secret(""), self.users, session_s)
        self.failures: dict[str, deque[float]] = {}
        now = datetime.now(UTC)
        self.snap = Snapshot(now.astimezone(self.tz).date(), now, error="not read yet")
        self.version = 0
        self.changed = asyncio.Event()
        self.closing = False
        self._conn: Any = None
        #: The store connection is the reading thread's: held for a whole
        #: reading, so close() never frees it under a query (psycopg's C
        #: code crashed the process when it did).
        self._conn_lock = threading.Lock()

    # -- the store ------------------------------------------------------------
    def read(self) -> Snapshot:
        """One reading of the store (runs in a worker thread)."""
        with self._conn_lock:
            if self.closing:
                return self.snap  # no new connection once closed
            return self._read()

    def _read(self) -> Snapshot:
        import psycopg

        now = datetime.now(UTC)
        day = now.astimezone(self.tz).date()
        try:
            if self._conn is None or self._conn.closed:
                kwargs: dict[str, Any] = {"connect_timeout": 5, "autocommit": True}
                if self.password:
                    kwargs["password"] = self.password
                self._conn = psycopg.connect(self.store_dsn, **kwargs)
            return snapshot(self._conn, day, now, target_wait_s=self.target_wait_s)
        except psycopg.Error as exc:
            with contextlib.suppress(Exception):
                if self._conn is not None:
                    self._conn.close()
            self._conn = None
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return replace(self.snap, at=now, error=reason[:200])

    async def poll(self) -> None:
        while not self.closing:
            snap = await asyncio.to_thread(self.read)
            if snap.error and not self.snap.error:
                log.warning("dashboard: cannot read the central store: %s", snap.error)
            self.snap = snap
            self.version += 1
            self.changed.set()
            self.changed = asyncio.Event()
            await asyncio.sleep(self.refresh_s)

    def close(self) -> None:
        self.closing = True
        self.changed.set()
        # Between two readings only; a reading under way ends first (a
        # dying store answers with an error at once, a connect times out in 5 s).
        if not self._conn_lock.acquire(timeout=CLOSE_WAIT_S):
            return  # still reading: the connection goes with the process
        try:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None
        finally:
            self._conn_lock.release()

    # -- sessions -------------------------------------------------------------
    def session(self, request: web.Request) -> Session | None:
        return self.signer.check(request.cookies.get(SESSION_COOKIE))

    def open_session(self, user: str) -> str:
        return self.signer.issue(user)

    def refused_too_often(self, address: str) -> bool:
        recent = self.failures.get(address)
        if recent is None:
            return False
        while recent and recent[0] < time.monotonic() - FAILURE_WINDOW_S:
            recent.popleft()
        return len(recent) >= MAX_FAILURES

    def failed(self, address: str) -> None:
        self.failures.setdefault(address, deque()).append(time.monotonic())


DASHBOARD = web.AppKey("dashboard", Dashboard)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(
        text=text, status=status, content_type="text/html", headers={"Cache-Control": "no-store"}
    )


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No page or stream without a session; security headers on everything."""
    dash = request.app[DASHBOARD]
    public = request.path in ("/login", "/static/dashboard.css", "/static/dashboard.js")
    if not public and dash.session(request) is None:
        if request.path == "/stream" or request.method != "GET":
            response: web.StreamResponse = web.Response(status=401, text="login required")
        else:
            response = _see_other("/login")
    else:
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # 404, 405, 413: the same headers
            exc.headers.update(_HEADERS)
            raise
    if not response.prepared:
        response.headers.update(_HEADERS)
    return response


def _cookie(resp: web.StreamResponse, dash: Dashboard, name: str, value: str,
            max_age: int | None) -> None:  # fmt: skip
    resp.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="Strict",
                    secure=dash.secure_cookie)  # fmt: skip


async def login_form(request: web.Request, message: str = "", status: int = 200) -> web.Response:
    dash = request.app[DASHBOARD]
    # One token per visit: a second GET (a favicon sent here by the guard,
    # another tab) must not change the one the open form carries.
    token = request.cookies.get(LOGIN_COOKIE, "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{32}", token):
        token = secrets.token_urlsafe(24)
    resp = _html(render.login_page(token, message=message), status)
    _cookie(resp, dash, LOGIN_COOKIE, token, 1800)
    return resp


async def login(request: web.Request) -> web.StreamResponse:
    dash = request.app[DASHBOARD]
    address = request.remote or "?"
    form = await request.post()
    expected = request.cookies.get(LOGIN_COOKIE, "")
    sent = str(form.get("csrf", ""))
    if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
        return await login_form(request, "انتهت صلاحية النموذج؛ أعد المحاولة", 403)
    if dash.refused_too_often(address):
        return await login_form(request, "محاولات كثيرة خاطئة؛ انتظر قليلاً", 429)
    user, password = str(form.get("user", ""))[:64], str(form.get("password", ""))[:1024]
    ok = await asyncio.to_thread(check_login, dash.users, user, password)
    if not ok:
        dash.failed(address)
        log.warning("dashboard: failed login for %r from %s", user, address)
        return await login_form(request, "اسم المستخدم أو كلمة المرور غير صحيحة", 403)
    resp = _see_other("/")
    _cookie(resp, dash, SESSION_COOKIE, dash.open_session(user), int(dash.session_s))
    resp.del_cookie(LOGIN_COOKIE, path="/")
    return resp


async def logout(request: web.Request) -> web.StreamResponse:
    dash = request.app[DASHBOARD]
    session = dash.session(request)
    form = await request.post()
    if session is None or not hmac.compare_digest(
        session.csrf.encode(), str(form.get("csrf", "")).encode()
    ):
        return web.Response(status=403, text="refused")
    dash.signer.revoke(request.cookies.get(SESSION_COOKIE, ""))
    resp = _see_other("/login")
    resp.del_cookie(SESSION_COOKIE, path="/")
    return resp


def _view(dash: Dashboard, branch: str | None) -> tuple[str, int]:
    """The ``<main>`` of the overview or of one branch, and its status."""
    snap = dash.snap
    if branch is None:
        return render.overview(snap, dash.tz), 200
    found = snap.by_id.get(branch)
    if found is None:
        return render.missing_branch(branch), 404
    return render.branch(snap, found, dash.tz), 200


async def overview(request: web.Request) -> web.Response:
    return _page(request, None)


async def branch_page(request: web.Request) -> web.Response:
    return _page(request, request.match_info["branch"])


def _page(request: web.Request, branch: str | None) -> web.Response:
    dash = request.app[DASHBOARD]
    session = dash.session(request)
    assert session is not None  # the guard let it through
    body, status = _view(dash, branch)
    found = dash.snap.by_id.get(branch) if branch else None
    title = f"{found.name} — لوحة الفروع" if found else "لوحة الفروع"
    stream = f"/stream?branch={quote(branch, safe='')}" if branch else "/stream"
    return _html(
        render.page(title, body, stream=stream, user=session.user, logout_token=session.csrf),
        status,
    )


async def stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the page's ``<main>`` each time it changes."""
    dash = request.app[DASHBOARD]
    branch = request.query.get("branch")
    resp = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                 "X-Accel-Buffering": "no", **_HEADERS}
    )
    await resp.prepare(request)
    sent = ""
    try:
        while not dash.closing:
            if dash.session(request) is None:
                break  # logged out or expired: the page reloads to the login
            body, _ = _view(dash, branch)
            if body != sent:
                await resp.write(f"event: snapshot\ndata: {json.dumps(body)}\n\n".encode())
                sent = body
            waiter = dash.changed
            try:
                await asyncio.wait_for(waiter.wait(), timeout=15)
            except TimeoutError:
                await resp.write(b": still here\n\n")
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return resp


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in _STATIC:
        raise web.HTTPNotFound()
    data = resources.files(__package__).joinpath("static", name).read_bytes()
    return web.Response(body=data, content_type=_STATIC[name],
                        headers={"Cache-Control": "max-age=3600"})  # fmt: skip


async def _poller(app: web.Application) -> AsyncIterator[None]:
    dash = app[DASHBOARD]
    task = asyncio.create_task(dash.poll())
    yield
    dash.close()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _wake_streams(app: web.Application) -> None:
    """Open streams end at shutdown instead of holding it for their timeout."""
    app[DASHBOARD].close()


def create_app(store_dsn: str, users: dict[str, str], **options: Any) -> web.Application:
    """The dashboard over the central store at ``store_dsn``; ``users``: login
    name → salted hash (:func:`~appliance.central.web.accounts.hash_password`).
    ``options``: those of :class:`Dashboard`."""
    app = web.Application(middlewares=[_guard], client_max_size=64 * 1024)
    app[DASHBOARD] = Dashboard(store_dsn, users, **options)
    app.cleanup_ctx.append(_poller)
    app.on_shutdown.append(_wake_streams)
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/", overview)
    app.router.add_get("/branch/{branch}", branch_page)
    app.router.add_get("/stream", stream)
    app.router.add_get("/static/{name}", static)
    return app
