"""What the dashboard shows, read from the central store (read-only).

One :class:`Snapshot` holds every branch and every service as of one moment:
the dashboard reads it once per refresh and renders every page and every
live update from it, so the store's load does not grow with the number of
screens watching.

Definitions (docs/central.md says the same):

* **today** is, for each branch, its current business day by the centre's
  clock and the branch's own calendar (its ``timezone`` and
  ``day_reset_hour``, sent in its ``sync/branch``): at 7 a.m. a branch
  whose day starts at 5 shows today, with zeros until its first ticket.  A
  branch whose calendar was never heard (a master older than this) shows
  its latest business day with a ticket, of the calendar day in the
  centre's time zone or the day before, and the page says which day it is;
* **waiting now**: today's tickets in state ``waiting``; the **longest
  current wait** is now − the issue time of the oldest of them;
* **average wait** = first call − issue, over today's tickets called so far;
  **within target**: the share of those called within their service's
  ``target_wait_s`` (the centre's default when the branch sent none);
* **served**, **no-shows**: today's tickets in those states;
* **satisfaction**: the share of ``satisfied`` among today's ratings.

Nothing here writes; every query reads only the contract's columns
(``appliance/central/schema.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class ServiceNow:
    """One service of one branch, today."""

    service: str
    name_ar: str
    name_en: str
    target_wait_s: int
    tickets: int = 0
    waiting: int = 0
    oldest_waiting: datetime | None = None
    served: int = 0
    no_shows: int = 0
    called: int = 0
    wait_s_total: float = 0.0  #: sum of (first call − issue) over the called
    within_target: int = 0
    satisfied: int = 0
    neutral: int = 0
    unsatisfied: int = 0

    @property
    def name(self) -> str:
        return self.name_ar or self.name_en or self.service

    @property
    def avg_wait_s(self) -> float | None:
        return self.wait_s_total / self.called if self.called else None

    @property
    def ratings(self) -> int:
        return self.satisfied + self.neutral + self.unsatisfied


def _longest(oldest: datetime | None, now: datetime) -> float | None:
    return None if oldest is None else max(0.0, (now - oldest).total_seconds())


@dataclass(frozen=True)
class BranchNow:
    """One branch: its link and its services, today."""

    branch: str
    name_ar: str
    name_en: str
    online: bool
    link_since: datetime | None
    last_seen: datetime | None
    services: tuple[ServiceNow, ...] = ()
    day: date | None = None  #: the business day of the figures (None: no ticket lately)

    @property
    def name(self) -> str:
        return self.name_ar or self.name_en or self.branch

    def total(self, attr: str) -> int:
        return sum(int(getattr(s, attr)) for s in self.services)

    @property
    def oldest_waiting(self) -> datetime | None:
        return min((s.oldest_waiting for s in self.services if s.oldest_waiting), default=None)

    @property
    def avg_wait_s(self) -> float | None:
        called = self.total("called")
        return sum(s.wait_s_total for s in self.services) / called if called else None

    @property
    def within_target_share(self) -> float | None:
        called = self.total("called")
        return self.total("within_target") / called if called else None

    @property
    def satisfaction(self) -> float | None:
        rated = sum(s.ratings for s in self.services)
        return self.total("satisfied") / rated if rated else None


@dataclass(frozen=True)
class Snapshot:
    """Every branch as of ``at`` (``error``: the store could not be read)."""

    day: date
    at: datetime
    branches: tuple[BranchNow, ...] = ()
    error: str | None = None
    by_id: dict[str, BranchNow] = field(default_factory=dict, compare=False)

    def longest_wait_s(self, branch_or_service: BranchNow | ServiceNow) -> float | None:
        return _longest(branch_or_service.oldest_waiting, self.at)


_BRANCHES = """
SELECT branch, coalesce(name_ar, ''), coalesce(name_en, ''), link = 'online', link_since,
       last_seen, timezone, day_reset_hour
FROM branches ORDER BY branch
"""

_SERVICES = """
SELECT branch, service, coalesce(name_ar, ''), coalesce(name_en, ''), target_wait_s
FROM services
"""

_TODAY = """
SELECT t.branch, t.service, t.business_day,
       count(*),
       count(*) FILTER (WHERE t.state = 'waiting'),
       min(t.issued_at) FILTER (WHERE t.state = 'waiting'),
       count(*) FILTER (WHERE t.state = 'served'),
       count(*) FILTER (WHERE t.state = 'no_show'),
       count(*) FILTER (WHERE t.first_called_at IS NOT NULL),
       coalesce(sum(extract(epoch FROM t.first_called_at - t.issued_at))
                FILTER (WHERE t.first_called_at IS NOT NULL), 0),
       count(*) FILTER (WHERE t.first_called_at - t.issued_at
                        <= make_interval(secs => coalesce(s.target_wait_s, %(target)s))),
       count(*) FILTER (WHERE t.rating = 'satisfied'),
       count(*) FILTER (WHERE t.rating = 'neutral'),
       count(*) FILTER (WHERE t.rating = 'unsatisfied')
FROM tickets t
JOIN (SELECT branch, day FROM unnest(%(known)s::text[], %(days)s::date[]) AS k(branch, day)
      UNION ALL
      SELECT branch, max(business_day) AS day FROM tickets
      WHERE business_day BETWEEN %(since)s AND %(day)s AND NOT branch = ANY(%(known)s)
      GROUP BY branch) d
  ON d.branch = t.branch AND d.day = t.business_day
LEFT JOIN services s ON s.branch = t.branch AND s.service = t.service
GROUP BY t.branch, t.service, t.business_day
"""


def business_day(now: datetime, timezone: str | None, reset_hour: int | None) -> date | None:
    """A branch's business day at ``now`` as its master reckons it (the
    local date ``reset_hour`` hours earlier); None when its calendar is unknown."""
    if timezone is None or reset_hour is None:
        return None
    try:
        tz = ZoneInfo(timezone)
    except (ValueError, ZoneInfoNotFoundError):
        return None
    return (now.astimezone(tz).replace(tzinfo=None) - timedelta(hours=reset_hour)).date()


def snapshot(
    conn: psycopg.Connection[Any], day: date, now: datetime, *, target_wait_s: int = 900
) -> Snapshot:
    """Every branch and its services for business day ``day``, in one
    read-only transaction (one consistent picture)."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        branches = conn.execute(_BRANCHES).fetchall()
        own = {r[0]: business_day(now, r[6], r[7]) for r in branches}
        by_calendar = {b: d for b, d in own.items() if d is not None}
        names = {
            (b, s): (ar, en, target) for b, s, ar, en, target in conn.execute(_SERVICES)
        }
        figures = conn.execute(
            _TODAY,
            {"day": day, "since": day - timedelta(days=1), "target": target_wait_s,
             "known": list(by_calendar), "days": list(by_calendar.values())},
        ).fetchall()  # fmt: skip
    services: dict[str, dict[str, ServiceNow]] = {}
    for (b, s), (ar, en, target) in names.items():
        services.setdefault(b, {})[s] = ServiceNow(s, ar, en, target or target_wait_s)
    days: dict[str, date] = dict(by_calendar)
    for b, s, branch_day, *row in figures:
        days[b] = branch_day
        known = services.setdefault(b, {}).get(s) or ServiceNow(s, "", "", target_wait_s)
        services[b][s] = ServiceNow(
            s, known.name_ar, known.name_en, known.target_wait_s,
            tickets=row[0], waiting=row[1], oldest_waiting=row[2], served=row[3],
            no_shows=row[4], called=row[5], wait_s_total=float(row[6]), within_target=row[7],
            satisfied=row[8], neutral=row[9], unsatisfied=row[10],
        )  # fmt: skip
    out = tuple(
        BranchNow(
            b, ar, en, bool(online), since, seen,
            tuple(services.get(b, {})[k] for k in sorted(services.get(b, {}))), days.get(b),
        )
        for b, ar, en, online, since, seen, _tz, _reset in branches
    )
    return Snapshot(day, now, out, by_id={b.branch: b for b in out})
