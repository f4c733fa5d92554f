"""What a kiosk counts (presses, tickets printed, refused and voided, the
latest tickets: for tests, the demo and the benchmark) and the presses its
worker takes from the inbox."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Printed:
    """One ticket this kiosk printed (for tests, the demo and the benchmark)."""

    result: dict[str, Any]
    job_sha256: str  #: digest of the bytes sent (not the bytes: a day has thousands)
    pressed_at: float  #: clock time of the button edge
    printed_at: float  #: clock time the last byte went to the printer


@dataclass
class KioskCounts:
    presses: int = 0
    printed: int = 0
    refused: int = 0
    voided: int = 0
    #: The latest tickets (bounded: a kiosk runs for months).
    history: deque[Printed] = field(default_factory=lambda: deque(maxlen=256))


@dataclass(frozen=True)
class _Press:
    service: str
    priority: bool
    at: float


#: Put on the inbox to make the worker re-check and republish its status.
_REFRESH = _Press("", False, 0.0)
