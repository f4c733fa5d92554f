"""Tell systemd how a daemon is doing: ``sd_notify`` without a dependency.

Every Nidaa unit file says ``Type=notify`` and ``WatchdogSec=``: systemd
considers the daemon started only when it says ``READY=1``, and restarts it
when it stops saying ``WATCHDOG=1`` for longer than the watchdog interval
(a main loop stuck on a dead printer or a deadlocked thread).  Outside
systemd (``$NOTIFY_SOCKET`` unset: tests, a technician's terminal) every
call does nothing, so daemons call it unconditionally.

A daemon needs two calls::

    from appliance.systemd import Notifier

    notifier = Notifier()                  # reads $NOTIFY_SOCKET, $WATCHDOG_USEC
    ...                                    # config loaded, bus started
    notifier.ready("connected to broker")  # READY=1 + STATUS=...

    while running:                         # the daemon's main loop
        ...                                # one iteration of real work
        notifier.alive()                   # WATCHDOG=1, at most every interval/2

``alive()`` is cheap to call on every iteration: it only sends when half the
watchdog interval has passed.  Call it from the loop that does the work, never
from a helper thread of its own, or a stuck loop would still look alive.
``status(text)`` updates the line ``systemctl status`` shows, and
``stopping()`` says a clean shutdown has begun.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping


class Notifier:
    """Sends notifications to the service manager, or nothing outside it."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        # An abstract socket is written "@name"; on the wire it starts with NUL.
        self._address = "\0" + address[1:] if address.startswith("@") else address
        self._clock = clock
        self.interval = _watchdog_interval(env)
        self._last_ping: float | None = None

    @property
    def enabled(self) -> bool:
        """True when running under systemd with a notification socket."""
        return bool(self._address)

    def notify(self, *assignments: str) -> bool:
        """Send ``KEY=value`` lines in one datagram; False outside systemd.

        A failure to reach systemd is not the daemon's fault and must never
        stop it, so socket errors are swallowed (the watchdog will tell).
        """
        if not self._address:
            return False
        data = "\n".join(assignments).encode("utf-8")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(data, self._address)
        except OSError:
            return False
        return True

    def ready(self, status: str = "") -> bool:
        """The daemon is up: configuration valid, devices opened, bus started."""
        self._last_ping = self._clock()
        lines = ["READY=1"] + ([f"STATUS={_one_line(status)}"] if status else [])
        return self.notify(*lines)

    def alive(self) -> bool:
        """Keep the watchdog fed; sends only when half the interval passed."""
        if not self._address or self.interval is None:
            return False
        now = self._clock()
        if self._last_ping is not None and now - self._last_ping < self.interval / 2:
            return False
        self._last_ping = now
        return self.notify("WATCHDOG=1")

    def status(self, text: str) -> bool:
        """Free-form status shown by ``systemctl status``."""
        return self.notify(f"STATUS={_one_line(text)}")

    def stopping(self, status: str = "") -> bool:
        """A clean shutdown has begun."""
        lines = ["STOPPING=1"] + ([f"STATUS={_one_line(status)}"] if status else [])
        return self.notify(*lines)


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    """Seconds between watchdog pings systemd expects, or None if unwatched."""
    raw = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    # WATCHDOG_PID names the process the watchdog is meant for; a child
    # that inherited the environment must not feed its parent's watchdog.
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(raw)
    except ValueError:
        return None
    return usec / 1_000_000 if usec > 0 else None


def _one_line(text: str) -> str:
    return " ".join(text.split())
