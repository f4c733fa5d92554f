"""Requests waiting for their answers (MQTT v5 request/response).

Each request waits under its correlation data for the answer on the
client's reply topic, and under its publish's message id for the broker's
PUBACK: a refusal there (the account may not publish on that topic) ends
the wait at once.  Called from paho's network thread (:meth:`published`,
:meth:`answered`) and from the requesting threads; the lock is never held
while calling paho, whose network thread holds its own lock when it calls
back (a refusal that comes before :meth:`sent` waits in ``_refused``).
"""

from __future__ import annotations

import threading
from typing import Any

from .message import Message
from .wire import Pending

#: Refusals of publishes nobody waits for (yet) kept at most.
KEEP_REFUSED = 64


class Waiting:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_correlation: dict[bytes, Pending] = {}
        self._by_mid: dict[int, Pending] = {}
        self._refused: dict[int, str] = {}

    def add(self, correlation: bytes) -> Pending:
        pending = Pending()
        with self._lock:
            self._by_correlation[correlation] = pending
        return pending

    def sent(self, mid: int, pending: Pending) -> None:
        """The request went out as publish ``mid``."""
        with self._lock:
            early = self._refused.pop(mid, None)
            if early is None:
                self._by_mid[mid] = pending
        if early is not None:
            pending.denied = early
            pending.done.set()

    def published(self, mid: int, reason: Any) -> None:
        """The broker's PUBACK for publish ``mid``."""
        refused = bool(getattr(reason, "is_failure", False))
        with self._lock:
            pending = self._by_mid.pop(mid, None)
            if pending is None and refused:
                self._refused[mid] = str(reason)
                while len(self._refused) > KEEP_REFUSED:  # refusals of other publishes
                    self._refused.pop(next(iter(self._refused)))
        if pending is not None and refused:
            pending.denied = str(reason)
            pending.done.set()

    def answered(self, message: Message) -> None:
        """A message on the reply topic."""
        if message.correlation is None:
            return
        with self._lock:
            pending = self._by_correlation.get(message.correlation)
        if pending is None:
            return  # an answer to a request we gave up on
        try:
            pending.answer = message.json()
        except ValueError:
            pending.answer = {"ok": False, "error": {"code": "bad_reply", "message": "not JSON"}}
        pending.done.set()

    def forget(self, correlation: bytes, pending: Pending) -> None:
        with self._lock:
            self._by_correlation.pop(correlation, None)
            for mid in [m for m, p in self._by_mid.items() if p is pending]:
                del self._by_mid[mid]
