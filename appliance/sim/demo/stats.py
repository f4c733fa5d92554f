"""Figures of a day, read from the master's database (read-only)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ...master.queries import Records
from ..figures import percentile

#: A priority ticket counts as served in time when called within this many minutes.
PRIORITY_TARGET_MIN = 10.0


@dataclass
class DaySummary:
    tickets: int
    served: int
    no_shows: int
    voided: int
    still_waiting: int  #: in the hall at closing, not yet called
    at_window: int  #: called to a window at closing, being served
    mean_wait_min: float | None
    p90_wait_min: float | None
    priority_tickets: int
    priority_within_target: float | None  # share of priority tickets called within the target
    priority_target_min: float = PRIORITY_TARGET_MIN

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(db_path: str | Path) -> DaySummary:
    with Records(db_path) as records:
        rows = [
            (str(t.state), t.priority, t.issued_at, t.first_called_at)
            for t in records.tickets(arrivals=True)
        ]
    waits = [(called - issued) / 60 for _, _, issued, called in rows if called is not None]
    prio = [(issued, called) for _, p, issued, called in rows if p]
    in_time = [c is not None and (c - i) / 60 <= PRIORITY_TARGET_MIN for i, c in prio]
    states = [r[0] for r in rows]
    return DaySummary(
        tickets=len(rows),
        served=states.count("served") + states.count("transferred"),
        no_shows=states.count("no_show"),
        voided=states.count("voided"),
        still_waiting=states.count("waiting"),
        at_window=states.count("called"),
        mean_wait_min=round(sum(waits) / len(waits), 1) if waits else None,
        p90_wait_min=round(percentile(waits, 90), 1) if waits else None,
        priority_tickets=len(prio),
        priority_within_target=round(sum(in_time) / len(in_time), 3) if in_time else None,
    )
