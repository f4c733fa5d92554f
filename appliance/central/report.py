"""The cross-branch report: a day's (or a range of days') figures of every
branch, from the central store (read-only), as CSV.

The same conventions as the branch's day report (docs/report.md), with what
the centre can know:

* a **ticket** is one citizen's arrival at a kiosk (``origin_id`` NULL); a
  transfer continues the same visit under another service (its
  ``origin_id`` names the ticket it continued) and counts as a transfer in
  there, not as a new ticket.  A **visit** ends where the last ticket of its
  chain stands: the accounting line is tickets = served + no-shows + voided
  + still in (waiting or at a window at closing), per service tickets +
  transfers in = those + transfers out.  A master of an earlier release did
  not send ``origin_id``: its continuations count as tickets;
* **wait** = first call − issue, per arrival (a citizen transferred waited
  once, at the service of arrival); an arrival never called counts as
  waiting until closing (its branch's last activity of that day), a voided
  one never called is left out;
* **within target**: the share of waits within the service's target
  (``services.target_wait_s``; the default when the branch sent none);
* **service time** = end − the call answered, for served and transferred
  tickets.
"""

from __future__ import annotations

import csv
import io
from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..errors import NidaaError
from ..queue.model import RATINGS
from ..tech.report import NoDataError, bucket_labels, histogram, stat

_ROWS = """
SELECT t.branch, t.business_day, t.service, t.state,
       extract(epoch FROM t.issued_at)::float8, extract(epoch FROM t.first_called_at)::float8,
       extract(epoch FROM t.called_at)::float8, extract(epoch FROM t.served_at)::float8,
       extract(epoch FROM t.finished_at)::float8, t.rating, s.target_wait_s, t.origin_id
FROM tickets t LEFT JOIN services s ON s.branch = t.branch AND s.service = t.service
WHERE t.business_day BETWEEN %s AND %s
ORDER BY t.branch, t.business_day, t.ticket_id
"""


@dataclass
class ServiceTally:
    service: str
    name_ar: str = ""
    name_en: str = ""
    tickets: int = 0  #: arrivals
    transfers_in: int = 0  #: continuations of transfers from another service
    outcomes: Tally[str] = field(default_factory=Tally)  #: state → tickets
    waits: list[float] = field(default_factory=list)  #: minutes, the never-called included
    in_target: int = 0
    service_times: list[float] = field(default_factory=list)
    ratings: Tally[str] = field(default_factory=Tally)

    @property
    def still_in(self) -> int:
        return self.outcomes["waiting"] + self.outcomes["called"]

    @property
    def visits(self) -> int:
        """Visits that ended (or stand) here."""
        return self.tickets + self.transfers_in - self.outcomes["transferred"]

    @property
    def within_target(self) -> float | None:
        return self.in_target / len(self.waits) if self.waits else None


@dataclass
class BranchTally(ServiceTally):
    """A branch: its totals (the inherited fields, ``service`` holding the
    branch id) and its services."""

    services: dict[str, ServiceTally] = field(default_factory=dict)
    hours: Tally[int] = field(default_factory=Tally)  #: local hour → tickets
    days: Tally[str] = field(default_factory=Tally)  #: business day → tickets

    @property
    def branch(self) -> str:
        return self.service

    @property
    def satisfaction(self) -> float | None:
        rated = sum(self.ratings[r] for r in RATINGS)
        return self.ratings["satisfied"] / rated if rated else None


@dataclass
class CentralReport:
    first: str
    last: str
    timezone: str
    branches: dict[str, BranchTally]

    @property
    def one_day(self) -> bool:
        return self.first == self.last

    @property
    def period(self) -> str:
        return self.first if self.one_day else f"{self.first} – {self.last}"

    @property
    def total(self) -> BranchTally:
        """Every branch together."""
        total = BranchTally("all")
        for b in self.branches.values():
            _add(total, b)
            total.days.update(b.days)
            total.hours.update(b.hours)
        return total


def _add(into: ServiceTally, part: ServiceTally) -> None:
    into.tickets += part.tickets
    into.transfers_in += part.transfers_in
    into.outcomes.update(part.outcomes)
    into.waits += part.waits
    into.in_target += part.in_target
    into.service_times += part.service_times
    into.ratings.update(part.ratings)


def read(conn: Any, first: date, last: date, *, timezone: str = "Africa/Cairo",
         target_wait_s: int = 900) -> CentralReport:  # fmt: skip
    """The figures of business days ``first``..``last`` of every branch the
    store knows; :class:`NoDataError` when no branch has a ticket then."""
    if last < first:
        raise NidaaError(f"the range ends ({last}) before it starts ({first})")
    tz = ZoneInfo(timezone)
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        branches = conn.execute(
            "SELECT branch, coalesce(name_ar, ''), coalesce(name_en, '') FROM branches"
        ).fetchall()
        services = conn.execute(
            "SELECT branch, service, coalesce(name_ar, ''), coalesce(name_en, '') FROM services"
        ).fetchall()
        rows = conn.execute(_ROWS, (first, last)).fetchall()
    if not rows:
        raise NoDataError(
            f"no tickets of {first}" + ("" if first == last else f" to {last}")
            + " in the central store: no branch was open, or none has sent its tickets yet"
        )  # fmt: skip
    out = {b: BranchTally(b, ar, en) for b, ar, en in sorted(branches)}
    for b, s, ar, en in services:
        out.setdefault(b, BranchTally(b)).services[s] = ServiceTally(s, ar, en)
    closing: dict[tuple[str, date], float] = {}
    for r in rows:
        stamps = [t for t in r[4:9] if t is not None]
        key = (r[0], r[1])
        closing[key] = max(closing.get(key, 0.0), *stamps)
    for (branch, day, service, state, issued, first_call, called, served, finished, rating,
         target, origin) in rows:  # fmt: skip
        b = out.setdefault(branch, BranchTally(branch))
        s = b.services.setdefault(service, ServiceTally(service))
        target_min = (target or target_wait_s) / 60
        s.outcomes[state] += 1
        if origin is not None:  # a transfer's continuation: the same citizen
            s.transfers_in += 1
        else:
            s.tickets += 1
            b.days[day.isoformat()] += 1
            b.hours[datetime.fromtimestamp(issued, tz).hour] += 1
        if origin is not None:
            wait: float | None = None
        elif first_call is not None:
            wait = (first_call - issued) / 60
        elif state != "voided":
            wait = (closing[(branch, day)] - issued) / 60
        else:
            wait = None
        if wait is not None:
            s.waits.append(wait)
            s.in_target += wait <= target_min
        if state in ("served", "transferred") and finished is not None:
            start = served if served is not None else called
            if start is not None:
                s.service_times.append((finished - start) / 60)
        if rating in RATINGS:
            s.ratings[rating] += 1
    for b in out.values():
        for s in b.services.values():
            _add(b, s)
    return CentralReport(first.isoformat(), last.isoformat(), timezone, out)


def _csv(rows: list[list[object]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


_FIGURES = ["tickets", "transfers_in", "visits", "served", "no_shows", "voided", "still_in", "transfers",
            "mean_wait_min", "p90_wait_min", "within_target", "mean_service_min",
            *(f"feedback_{r}" for r in RATINGS)]  # fmt: skip


def _figures(t: ServiceTally) -> list[object]:
    o = t.outcomes
    return [
        t.tickets, t.transfers_in, t.visits, o["served"], o["no_show"], o["voided"], t.still_in,
        o["transferred"], stat(t.waits), stat(t.waits, 90), _share(t.within_target),
        stat(t.service_times), *(t.ratings[r] for r in RATINGS),
    ]  # fmt: skip


def tables(rep: CentralReport) -> dict[str, str]:
    """File name → CSV text."""
    branches: list[list[object]] = [["branch", *_FIGURES, "name_ar", "name_en"]]
    branches += [[b.branch, *_figures(b), b.name_ar, b.name_en] for b in rep.branches.values()]
    total = rep.total
    branches.append(["all", *_figures(total), "", ""])
    services: list[list[object]] = [["branch", "service", *_FIGURES, "name_ar", "name_en"]]
    for b in rep.branches.values():
        services += [[b.branch, s.service, *_figures(s), s.name_ar, s.name_en]
                     for s in b.services.values()]  # fmt: skip
    days = sorted(total.days)
    per_day: list[list[object]] = [["business_day", *rep.branches, "total"]]
    per_day += [[d, *(b.days[d] for b in rep.branches.values()), total.days[d]] for d in days]
    dist: list[list[object]] = [["minutes", *rep.branches, "total"]]
    columns = [histogram(b.waits) for b in rep.branches.values()] + [histogram(total.waits)]
    dist += [[label, *(c[i] for c in columns)] for i, label in enumerate(bucket_labels())]
    return {
        "branches.csv": _csv(branches),
        "services.csv": _csv(services),
        "tickets_per_day.csv": _csv(per_day),
        "wait_distribution.csv": _csv(dist),
    }
