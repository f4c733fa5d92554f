"""Builders shared by the queue engine tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from appliance.config import Branch, Counter, Policy, Service
from appliance.queue import QueueEngine

CAIRO = ZoneInfo("Africa/Cairo")
BRANCH = Branch(id="giza-dokki", name_ar="مركز الدقي", timezone="Africa/Cairo", day_reset_hour=4)


def cairo(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> float:
    """Epoch seconds of a Cairo wall-clock time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=CAIRO).timestamp()


#: A weekday morning in Cairo, after the 04:00 reset.
MORNING = cairo(2026, 11, 30, 9)


def service(
    sid: str, prefix: str, first: int = 1, last: int = 999, minutes: float = 5.0
) -> Service:
    return Service(
        id=sid, prefix=prefix, name_ar=sid, first=first, last=last, service_minutes=minutes
    )


SERVICES = [service("building", "A"), service("vehicles", "B")]


def counters(*specs: tuple[str, list[str], bool]) -> list[Counter]:
    return [
        Counter(id=cid, number=i + 1, services=svcs, priority=prio)
        for i, (cid, svcs, prio) in enumerate(specs)
    ]


def make_engine(
    services: list[Service] | None = None,
    counter_list: list[Counter] | None = None,
    **policy: Any,
) -> QueueEngine:
    """An engine with two services, two regular counters and a priority window."""
    if counter_list is None:
        counter_list = counters(
            ("c1", ["building"], False),
            ("c2", ["building", "vehicles"], False),
            ("pw", ["building", "vehicles"], True),
        )
    return QueueEngine(BRANCH, services or SERVICES, counter_list, Policy(**policy))
