"""Clocks for daemons: the real one, and a compressed one for the demo.

The queue engine has no clock of its own; the master passes it the time.  A
virtual branch runs a whole day in a minute by giving the master a
:class:`ScaledClock` that starts at the opening hour and runs ``speed``
times faster than the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

Clock = Callable[[], float]


class ScaledClock:
    """``start`` (epoch seconds) at wall time ``anchor``, running ``speed``
    times faster.  Processes given the same three numbers share one clock."""

    def __init__(self, start: float, speed: float, anchor: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start = start
        self.speed = speed
        self.anchor = time.time() if anchor is None else anchor

    def __call__(self) -> float:
        return self.start + (time.time() - self.anchor) * self.speed

    def real_seconds(self, simulated: float) -> float:
        """How long ``simulated`` seconds take on the wall clock."""
        return simulated / self.speed

    def spec(self) -> str:
        return f"{datetime.fromtimestamp(self.start).astimezone().isoformat()}@{self.speed}@{self.anchor}"

    @classmethod
    def parse(cls, spec: str) -> ScaledClock:
        """``2026-11-30T08:00:00+02:00@60[@ANCHOR]``: a day starting at 08:00,
        60 times faster than the wall clock, from wall time ANCHOR (default now)."""
        parts = spec.split("@")
        try:
            start = datetime.fromisoformat(parts[0]).timestamp()
            speed = float(parts[1]) if len(parts) > 1 else 1.0
            anchor = float(parts[2]) if len(parts) > 2 else None
            return cls(start, speed, anchor)
        except (ValueError, IndexError) as exc:
            raise ValueError(
                f"bad clock {spec!r}: expected ISO-TIME@SPEED[@ANCHOR] ({exc})"
            ) from None
