"""Serving the dashboard beside the central consumer, in one process.

The consumer is a loop of its own (paho's network thread and the store's
writes); the dashboard runs its asyncio loop in one more thread, started by
:func:`serve` and ended by :meth:`DashboardServer.stop`.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from typing import Any

from aiohttp import web

from ...errors import ConfigError, NidaaError
from .accounts import DashboardSection, parse_listen
from .app import create_app
from .sessions import load_secret


class DashboardServer:
    """A dashboard listening on ``host:port`` in a thread of its own."""

    def __init__(self, app: web.Application, host: str, port: int,
                 ssl_context: ssl.SSLContext | None = None) -> None:  # fmt: skip
        self.app = app
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dashboard", daemon=True)

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def start(self, timeout: float = 30.0) -> DashboardServer:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise NidaaError(f"the dashboard did not start within {timeout}s")
        if self._failure is not None:
            raise NidaaError(f"the dashboard cannot listen on {self.host}:{self.port}: "
                             f"{self._failure}") from self._failure  # fmt: skip
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._open())
        except BaseException as exc:  # reported by start(), in the caller's thread
            self._failure = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._close())
        self._loop.close()

    async def _open(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context)
        await site.start()
        if self.port == 0:
            address: Any = self._runner.addresses[0]
            self.port = int(address[1])

    async def _close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)

    def __enter__(self) -> DashboardServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(section: DashboardSection, store_dsn: str, *, password: str | None = None,
          target_wait_s: int = 900) -> DashboardServer | None:  # fmt: skip
    """Start the dashboard of ``[dashboard]`` over the store; None when
    ``listen`` is empty (no dashboard on this consumer)."""
    if not section.listen:
        return None
    where = parse_listen(section.listen)
    if where is None:
        raise ConfigError([("dashboard.listen", "must be HOST:PORT")])
    context = None
    if section.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(section.tls_cert, section.tls_key)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError([("dashboard.tls_cert", f"cannot load: {exc}")]) from None
    app = create_app(
        store_dsn,
        {u.name: u.password_hash for u in section.users},
        timezone=section.timezone,
        refresh_s=section.refresh_s,
        target_wait_s=target_wait_s,
        session_s=section.session_hours * 3600,
        secure_cookie=context is not None,
        password=password,
        session_secret=load_secret(section.session_secret_file),
    )
    return DashboardServer(app, where[0], where[1], context).start()
