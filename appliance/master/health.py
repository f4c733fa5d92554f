"""etcd's health and the standby's lag, probed on a thread of its own.

Asking each etcd member for its status takes up to half a second per member
that does not answer (a member whose Pi is gone, or that hangs), so a round
can take seconds while etcd has no quorum.  The master's worker thread must
never wait on it: it answers commands (and refuses them with ``no_quorum``)
meanwhile.  So the probe runs here, every ``every_s``, and the worker's
status report reads the last result and how old it is (``etcd_checked_s``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ..errors import NidaaError
from .standby import Standby

log = logging.getLogger(__name__)


class EtcdHealth:
    def __init__(self, standby: Standby, every_s: float = 2.0) -> None:
        self.standby = standby
        self.every_s = every_s
        self._lock = threading.Lock()
        self._found: dict[str, Any] = {}
        self._at = 0.0  #: monotonic time of the last finished probe; 0: none yet
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Set after every finished probe (tests wait on it).
        self.probed = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="etcd-health", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stops the thread; a probe under way is not waited for (it ends on its timeout)."""
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            found = self.probe()
            with self._lock:
                self._found, self._at = found, time.monotonic()
            self.probed.set()
            self._stop.wait(self.every_s)

    def probe(self) -> dict[str, Any]:
        """One round: every member's status, and while this candidate leads
        each candidate's position in the log (``nidaa status``)."""
        standby = self.standby
        try:
            members = standby.etcd.member_status()
        except NidaaError as exc:  # never expected: member_status catches per member
            return {"etcd": str(exc)}
        found: dict[str, Any] = {
            "etcd_members": len(members),
            "etcd_up": sum(1 for m in members if m["ok"]),
        }
        if standby.leading:
            # Each candidate's last reported position; the worker subtracts
            # them from its own (its database is the worker's alone).
            try:
                found["positions"] = standby.positions()
            except NidaaError as exc:
                log.debug("standby positions unknown: %s", exc)
        return found

    def latest(self) -> dict[str, Any]:
        """The last probe's figures and their age in seconds (``etcd_checked_s``);
        empty before the first probe has finished."""
        with self._lock:
            if not self._at:
                return {}
            return {**self._found, "etcd_checked_s": round(time.monotonic() - self._at, 1)}
