"""A business day's figures from the master's SQLite database, as CSV.

Read-only: the database is opened with ``mode=ro`` so a report can run on
the master while it serves.  Definitions (docs/report.md says the same):

* an *arrival* is a ticket issued at a kiosk (``origin_id IS NULL``); a
  transfer continues the same citizen's visit under another service;
* *wait* = first call − issue, for arrivals that were called; an arrival
  never called by closing (the last activity of the day) counts as waiting
  until then, so the waiting figures include the citizens left waiting;
* *service time* = end − the call the citizen answered, for served tickets
  (transferred ones count for the service they were transferred from);
* the *priority service level* is the share of priority arrivals called
  within the target; voided tickets are left out, and one never called
  counts as late;
* the *accounting* follows each arrival through its transfers to where its
  visit stood at closing: served, no-show, voided or still waiting (waiting
  or called to a window), which sum to the day's tickets.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter as Tally
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ..config.branch import Config
from ..errors import NidaaError
from ..master.queries import Records
from ..queue.model import RATINGS

#: Upper bounds (minutes) of the distribution buckets; the last is open.
BUCKETS = (5, 10, 15, 20, 30, 45, 60)


@dataclass(frozen=True)
class Row:
    id: int
    label: str
    service: str
    priority: bool
    issued_at: float
    state: str
    called_at: float | None
    first_called_at: float | None
    served_at: float | None
    finished_at: float | None
    counter: str | None
    recalls: int
    origin_id: int | None
    rating: str | None


@dataclass
class ServiceFigures:
    service: str
    arrivals: int = 0
    transfers_in: int = 0
    served: int = 0
    no_shows: int = 0
    transferred: int = 0
    voided: int = 0
    waiting: int = 0  #: still waiting or called at closing
    waits: list[float] = field(default_factory=list)
    uncalled_waits: list[float] = field(default_factory=list)  #: never called: until closing
    service_times: list[float] = field(default_factory=list)


class NoDataError(NidaaError, LookupError):
    """The master's database holds no ticket of the day asked for."""

    code = "no_data"


@dataclass
class CounterFigures:
    counter: str
    window: int | None
    served: int = 0
    no_shows: int = 0
    transferred: int = 0
    service_times: list[float] = field(default_factory=list)
    ratings: Tally[str] = field(default_factory=Tally)


@dataclass
class DayReport:
    day: str
    branch: str
    name_ar: str
    name_en: str
    priority_target_min: float
    hours: dict[int, Tally[str]]  #: local hour → arrivals per service
    services: dict[str, ServiceFigures]
    counters: dict[str, CounterFigures]
    priority_arrivals: int
    priority_in_time: int
    names: dict[str, str] = field(default_factory=dict)  #: service id → English name
    names_ar: dict[str, str] = field(default_factory=dict)  #: service id → Arabic name
    outcomes: Tally[str] = field(default_factory=Tally)  #: visit → where it stood at closing
    transferred_visits: int = 0  #: visits that went through at least one transfer
    closing: float | None = None  #: last activity of the day
    english: bool = False  #: English beside the Arabic on the page

    @property
    def arrivals(self) -> int:
        return sum(s.arrivals for s in self.services.values())

    @property
    def waits(self) -> list[float]:
        return [w for s in self.services.values() for w in s.waits]

    @property
    def uncalled_waits(self) -> list[float]:
        return [w for s in self.services.values() for w in s.uncalled_waits]

    @property
    def all_waits(self) -> list[float]:
        """Every arrival's wait, the never-called ones until closing (voided ones
        never called are left out: they left)."""
        return self.waits + self.uncalled_waits

    @property
    def service_times(self) -> list[float]:
        return [t for s in self.services.values() for t in s.service_times]

    @property
    def priority_level(self) -> float | None:
        if not self.priority_arrivals:
            return None
        return self.priority_in_time / self.priority_arrivals

    @property
    def ratings(self) -> Tally[str]:
        total: Tally[str] = Tally()
        for c in self.counters.values():
            total.update(c.ratings)
        return total


def read_rows(db_path: Path, day: str) -> list[Row]:
    if not db_path.is_file():
        raise NidaaError(f"no master database at {db_path} (use --db PATH)")
    with Records(db_path) as records:
        tickets = records.tickets(day=day)
    if not tickets:
        raise NoDataError(
            f"no tickets for {day} in {db_path}: the centre was closed that day, or the "
            "database is another branch's or another day's (business days start at "
            "day_reset_hour)"
        )
    return [
        Row(t.id, t.label, t.service, t.priority, t.issued_at, str(t.state), t.called_at,
            t.first_called_at, t.served_at, t.finished_at, t.counter, t.recalls, t.origin_id,
            t.rating)
        for t in tickets
    ]  # fmt: skip


#: Where a visit can stand at closing.
OUTCOMES = ("served", "no_show", "voided", "waiting")


def _closing(rows: list[Row]) -> float:
    stamps = [r.issued_at for r in rows]
    for r in rows:
        stamps += [t for t in (r.called_at, r.first_called_at, r.served_at, r.finished_at) if t]
    return max(stamps)


def _outcomes(rows: list[Row]) -> tuple[Tally[str], int]:
    """Each arrival followed through its transfers: where its visit ended."""
    next_of = {r.origin_id: r for r in rows if r.origin_id is not None}
    outcomes: Tally[str] = Tally()
    transferred = 0
    for r in rows:
        if r.origin_id is not None:
            continue
        last = r
        if last.id in next_of:
            transferred += 1
        while last.id in next_of:
            last = next_of[last.id]
        state = last.state if last.state in OUTCOMES else "waiting"
        outcomes[state] += 1
    return outcomes, transferred


def build(cfg: Config, rows: list[Row], day: str, priority_target_min: float) -> DayReport:
    tz = ZoneInfo(cfg.branch.timezone)
    services = {s.id: ServiceFigures(s.id) for s in cfg.services}
    counters = {c.id: CounterFigures(c.id, c.number) for c in cfg.counters}
    hours: dict[int, Tally[str]] = {}
    prio_total = prio_in_time = 0
    closing = _closing(rows) if rows else None
    for r in rows:
        svc = services.setdefault(r.service, ServiceFigures(r.service))
        ctr = None
        if r.counter is not None:
            ctr = counters.setdefault(r.counter, CounterFigures(r.counter, None))
        if r.origin_id is None:
            svc.arrivals += 1
            hour = datetime.fromtimestamp(r.issued_at, tz).hour
            hours.setdefault(hour, Tally())[r.service] += 1
            if r.first_called_at is not None:
                svc.waits.append((r.first_called_at - r.issued_at) / 60)
            elif r.state != "voided" and closing is not None:
                svc.uncalled_waits.append((closing - r.issued_at) / 60)
            if r.priority and r.state != "voided":
                prio_total += 1
                called = r.first_called_at
                if called is not None and (called - r.issued_at) / 60 <= priority_target_min:
                    prio_in_time += 1
        else:
            svc.transfers_in += 1
        if r.state in ("waiting", "called"):
            svc.waiting += 1
        if r.state in ("served", "transferred") and r.finished_at is not None:
            start = r.served_at if r.served_at is not None else r.called_at
            minutes = (r.finished_at - start) / 60 if start is not None else None
            if r.state == "served":
                svc.served += 1
            else:
                svc.transferred += 1
            if minutes is not None:
                svc.service_times.append(minutes)
                if ctr is not None:
                    ctr.service_times.append(minutes)
            if ctr is not None:
                if r.state == "served":
                    ctr.served += 1
                else:
                    ctr.transferred += 1
        elif r.state == "no_show":
            svc.no_shows += 1
            if ctr is not None:
                ctr.no_shows += 1
        elif r.state == "voided":
            svc.voided += 1
        if r.rating in RATINGS and ctr is not None:
            ctr.ratings[r.rating] += 1
    outcomes, transferred = _outcomes(rows)
    return DayReport(
        day, cfg.branch.id, cfg.branch.name_ar, cfg.branch.name_en, priority_target_min,
        hours, services, counters, prio_total, prio_in_time,
        {s.id: s.name_en or s.id for s in cfg.services},
        {s.id: s.name_ar for s in cfg.services}, outcomes, transferred, closing,
        cfg.branch.report_english,
    )  # fmt: skip


# -- CSV ----------------------------------------------------------------------
def stat(values: list[float], q: float | None = None) -> str:
    if not values:
        return ""
    if q is None:
        return f"{statistics.fmean(values):.1f}"
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return f"{ordered[rank - 1]:.1f}"


def bucket_labels() -> list[str]:
    lows = (0, *BUCKETS)
    return [f"{lo}-{hi}" for lo, hi in zip(lows, BUCKETS, strict=False)] + [f"{BUCKETS[-1]}+"]


def histogram(values: list[float]) -> list[int]:
    counts = [0] * (len(BUCKETS) + 1)
    for v in values:
        counts[next((i for i, hi in enumerate(BUCKETS) if v < hi), len(BUCKETS))] += 1
    return counts


def _csv(rows: Sequence[Sequence[object]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def tables(rep: DayReport) -> dict[str, str]:
    """File name → CSV text."""
    sids = list(rep.services)
    hours = [[h, *(rep.hours[h][s] for s in sids), sum(rep.hours[h].values())]
             for h in sorted(rep.hours)]  # fmt: skip
    level = rep.priority_level
    summary: list[list[object]] = [
        ["day", rep.day], ["branch", rep.branch], ["tickets", rep.arrivals],
        # One line that sums to the tickets: where each visit stood at closing.
        ["served", rep.outcomes["served"]],
        ["no_shows", rep.outcomes["no_show"]],
        ["voided", rep.outcomes["voided"]],
        ["waiting_at_close", rep.outcomes["waiting"]],
        ["transferred", rep.transferred_visits],
        ["never_called", len(rep.uncalled_waits)],
        ["mean_wait_min", stat(rep.all_waits)], ["p90_wait_min", stat(rep.all_waits, 90)],
        ["mean_wait_called_min", stat(rep.waits)],
        ["mean_service_min", stat(rep.service_times)],
        ["priority_tickets", rep.priority_arrivals],
        ["priority_called_within_target", rep.priority_in_time],
        ["priority_target_min", f"{rep.priority_target_min:g}"],
        ["priority_service_level", "" if level is None else f"{level:.3f}"],
        *([f"feedback_{r}", rep.ratings[r]] for r in RATINGS),
    ]  # fmt: skip
    services = [
        ["service", "tickets", "transfers_in", "served", "no_shows", "transferred", "voided",
         "waiting_at_close", "mean_wait_min", "median_wait_min", "p90_wait_min",
         "mean_service_min", "p90_service_min", "name_ar", "name_en"],
    ] + [
        [s.service, s.arrivals, s.transfers_in, s.served, s.no_shows, s.transferred, s.voided,
         s.waiting, stat(s.waits + s.uncalled_waits), stat(s.waits + s.uncalled_waits, 50),
         stat(s.waits + s.uncalled_waits, 90), stat(s.service_times),
         stat(s.service_times, 90), rep.names_ar.get(s.service, ""),
         rep.names.get(s.service, "")]
        for s in rep.services.values()
    ]  # fmt: skip
    dist = [["minutes", "wait_tickets", "service_tickets"]] + [
        [label, w, s]
        for label, w, s in zip(
            bucket_labels(), histogram(rep.all_waits), histogram(rep.service_times), strict=True
        )
    ]
    counters = [
        ["counter", "window", "served", "no_shows", "transferred", "mean_service_min", *RATINGS]
    ] + [
        [c.counter, c.window or "", c.served, c.no_shows, c.transferred,
         stat(c.service_times), *(c.ratings[r] for r in RATINGS)]
        for c in rep.counters.values()
    ]  # fmt: skip
    return {
        "summary.csv": _csv(summary),
        "tickets_per_hour.csv": _csv([["hour", *sids, "total"], *hours]),
        "services.csv": _csv(services),
        "time_distribution.csv": _csv(dist),
        "counters.csv": _csv(counters),
    }
