"""The master's inbox: commands wait in one lane per unit and are taken fairly.

Each command read from the bus is filed under its *lane*: its kind and
its sender, the unit its topic names (``cmd/<unit>/...``, a level the
broker lets only that unit's account write).  The worker takes a batch by
turns: one command of each kind (counter, ticket, request, queue) in
rotation, and within a kind one per unit in rotation.  So 3,000 requests
from one kiosk wait behind each other, never in front of a clerk's
call-next nor another kiosk's ticket, and a kiosk cannot file its flood
under another unit's name.

A per-unit rate limit (:class:`RateLimit`) refuses a kiosk's tickets past
``master.tickets_per_minute`` before anything is applied.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from ..bus.client import Message

Lane = tuple[str, str]  # (kind, unit)


class Inbox:
    """Commands for the worker, and control tasks that go before them."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._lanes: dict[Lane, deque[Message]] = {}
        #: Kinds with waiting commands, in turn order; units likewise per kind.
        self._kinds: deque[str] = deque()
        self._units: dict[str, deque[str]] = {}
        self._controls: deque[str] = deque()
        self._size = 0

    def __len__(self) -> int:
        with self._cond:
            return self._size

    def put(self, lane: Lane, msg: Message) -> None:
        kind, unit = lane
        with self._cond:
            waiting = self._lanes.get(lane)
            if waiting is None:
                waiting = self._lanes[lane] = deque()
                units = self._units.setdefault(kind, deque())
                if not units:
                    self._kinds.append(kind)
                units.append(unit)
            waiting.append(msg)
            self._size += 1
            self._cond.notify()

    def put_control(self, task: str) -> None:
        with self._cond:
            self._controls.append(task)
            self._cond.notify()

    def take(self, limit: int, timeout: float) -> tuple[list[str], list[Message]]:
        """Control tasks, then up to ``limit`` commands in fair order; waits
        up to ``timeout`` seconds for the first."""
        with self._cond:
            if not self._size and not self._controls:
                self._cond.wait(timeout)
            controls = list(self._controls)
            self._controls.clear()
            batch: list[Message] = []
            while self._kinds and len(batch) < limit:
                kind = self._kinds.popleft()
                units = self._units[kind]
                unit = units.popleft()
                lane = (kind, unit)
                waiting = self._lanes[lane]
                batch.append(waiting.popleft())
                self._size -= 1
                if waiting:
                    units.append(unit)
                else:
                    del self._lanes[lane]
                if units:
                    self._kinds.append(kind)
            return controls, batch


class RateLimit:
    """At most ``per_minute`` applied requests per unit in any 60 s."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}

    def allows(self, unit: str) -> bool:
        """Whether ``unit`` may have one more now."""
        if self.per_minute <= 0:
            return True
        now = self.clock()
        seen = self._seen.setdefault(unit, deque())
        while seen and seen[0] <= now - 60:
            seen.popleft()
        return len(seen) < self.per_minute

    def record(self, unit: str) -> None:
        """One more was applied (failed commands do not count)."""
        if self.per_minute > 0:
            self._seen.setdefault(unit, deque()).append(self.clock())

    def forget_idle(self) -> None:
        """Drop units with nothing in the last minute (the map stays small)."""
        now = self.clock()
        for unit in [u for u, s in self._seen.items() if not s or s[-1] <= now - 60]:
            del self._seen[unit]
