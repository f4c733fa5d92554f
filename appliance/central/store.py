"""The central copy in PostgreSQL: idempotent writes, and where each branch's
numbers have holes.

Every write is keyed: an event by (branch, seq), a ticket by (branch,
ticket id) and kept only when its change is newer than the row's
(``seq``).  So a change delivered twice, replayed, or delivered by two
consumers, or out of order, leaves the same rows: the central copy converges
to each branch's own.  ``branches.last_seq`` is the last number up to which
the centre holds every change of the branch, without a hole.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from .changes import Change
from .schema import apply_schema

log = logging.getLogger(__name__)

_TICKET_COLUMNS = (
    "branch", "ticket_id", "business_day", "number", "label", "service", "priority", "state",
    "issued_at", "first_called_at", "called_at", "served_at", "finished_at", "counter",
    "recalls", "rating", "seq", "origin_id",
)  # fmt: skip
_TIMES = {"issued_at", "first_called_at", "called_at", "served_at", "finished_at"}
_UPSERT_TICKET = (
    f"INSERT INTO tickets ({', '.join(_TICKET_COLUMNS)}) VALUES ("
    + ", ".join("to_timestamp(%s)" if c in _TIMES else "%s" for c in _TICKET_COLUMNS)
    + ") ON CONFLICT (branch, ticket_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _TICKET_COLUMNS[2:])
    + " WHERE tickets.seq < excluded.seq"
)
_INSERT_EVENT = (
    "INSERT INTO events (branch, seq, kind, ticket_id, at, replayed)"
    " VALUES (%s, %s, %s, %s, to_timestamp(%s), %s) ON CONFLICT (branch, seq) DO NOTHING"
)
# The end of the run of numbers without a hole that starts after last_seq.
_ADVANCE = """
UPDATE branches SET last_seq = COALESCE((
    SELECT min(e.seq) FROM events e
    WHERE e.branch = branches.branch AND e.seq > branches.last_seq
      AND NOT EXISTS (SELECT 1 FROM events n WHERE n.branch = e.branch AND n.seq = e.seq + 1)
      AND EXISTS (SELECT 1 FROM events f WHERE f.branch = e.branch
                  AND f.seq = branches.last_seq + 1)
), last_seq), last_seen = clock_timestamp()
WHERE branch = %s
RETURNING last_seq, head_seq,
    (SELECT COALESCE(max(seq), 0) FROM events WHERE branch = %s)
"""


@dataclass(frozen=True)
class Progress:
    """Where a branch stands after a write."""

    branch: str
    last_seq: int  #: every change up to here is held
    head_seq: int  #: the master's last number, as last heard
    seen_seq: int  #: the highest number held (beyond a hole when > last_seq)

    @property
    def behind(self) -> bool:
        return max(self.head_seq, self.seen_seq) > self.last_seq


class CentralStore:
    """One connection to the central PostgreSQL (one per consumer thread)."""

    def __init__(self, dsn: str, *, password: str | None = None) -> None:
        self.dsn = dsn
        self.password = password
        self.conn: psycopg.Connection[Any] | None = None

    def connect(self) -> psycopg.Connection[Any]:
        if self.conn is None or self.conn.closed:
            kwargs: dict[str, Any] = {"connect_timeout": 5}
            if self.password:
                kwargs["password"] = self.password
            self.conn = psycopg.connect(self.dsn, **kwargs)
            apply_schema(self.conn)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def drop_connection(self) -> None:
        """After an error: the next write connects again."""
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
            self.conn = None

    def _known(self, conn: psycopg.Connection[Any], branch: str) -> None:
        conn.execute("INSERT INTO branches (branch) VALUES (%s) ON CONFLICT DO NOTHING", (branch,))

    def apply(self, branch: str, changes: Iterable[Change]) -> Progress:
        """Write ``changes`` of ``branch`` in one transaction."""
        changes = list(changes)
        conn = self.connect()
        with conn.transaction():
            self._known(conn, branch)
            conn.execute("SELECT 1 FROM branches WHERE branch = %s FOR UPDATE", (branch,))
            with conn.cursor() as cur:
                cur.executemany(
                    _INSERT_EVENT,
                    [(branch, c.seq, c.kind, c.ticket_id, c.at, c.replayed) for c in changes],
                )
                cur.executemany(_UPSERT_TICKET, [_ticket_row(branch, c) for c in changes])
            row = conn.execute(_ADVANCE, (branch, branch)).fetchone()
        assert row is not None
        return Progress(branch, int(row[0]), int(row[1]), int(row[2]))

    def head(self, branch: str, seq: int) -> Progress:
        """The branch master's last number (``sync/head``)."""
        conn = self.connect()
        with conn.transaction():
            self._known(conn, branch)
            row = conn.execute(
                "UPDATE branches SET head_seq = %s, last_seen = clock_timestamp()"
                " WHERE branch = %s RETURNING last_seq, head_seq,"
                " (SELECT COALESCE(max(seq), 0) FROM events WHERE branch = %s)",
                (seq, branch, branch),
            ).fetchone()
        assert row is not None
        return Progress(branch, int(row[0]), int(row[1]), int(row[2]))

    def link(self, branch: str, online: bool) -> None:
        """The bridge's connection state; ``link_since`` moves only on a change."""
        conn = self.connect()
        state = "online" if online else "offline"
        with conn.transaction():
            self._known(conn, branch)
            conn.execute(
                "UPDATE branches SET link = %s, link_since = clock_timestamp()"
                " WHERE branch = %s AND (link <> %s OR link_since IS NULL)",
                (state, branch, state),
            )
            if online:
                conn.execute(
                    "UPDATE branches SET last_seen = clock_timestamp() WHERE branch = %s",
                    (branch,),
                )

    def describe(self, branch: str, info: dict[str, Any], target_wait_s: int) -> None:
        """The branch's names and services (``sync/branch``, already checked)."""
        conn = self.connect()
        with conn.transaction():
            self._known(conn, branch)
            conn.execute(
                "UPDATE branches SET name_ar = %s, name_en = %s, timezone = %s,"
                " day_reset_hour = %s WHERE branch = %s",
                (info["name_ar"], info["name_en"], info.get("timezone"),
                 info.get("day_reset_hour"), branch),
            )
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO services (branch, service, name_ar, name_en, target_wait_s)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (branch, service) DO UPDATE SET"
                    " name_ar = excluded.name_ar, name_en = excluded.name_en,"
                    " target_wait_s = COALESCE(services.target_wait_s, excluded.target_wait_s)",
                    [
                        (branch, s["service"], s["name_ar"], s["name_en"], target_wait_s)
                        for s in info["services"]
                    ],
                )

    def expect(self, branch: str, name_ar: str, name_en: str) -> None:
        """A branch of the configuration, before it was ever heard."""
        conn = self.connect()
        with conn.transaction():
            conn.execute(
                "INSERT INTO branches (branch, name_ar, name_en) VALUES (%s, %s, %s)"
                " ON CONFLICT (branch) DO UPDATE SET"
                " name_ar = COALESCE(branches.name_ar, excluded.name_ar),"
                " name_en = COALESCE(branches.name_en, excluded.name_en)",
                (branch, name_ar or None, name_en or None),
            )

    def claim_replay(self, branch: str, every_s: float) -> int | None:
        """Whether this consumer should ask ``branch`` to replay now (none
        asked in the last ``every_s``): the first number to ask for, or None."""
        conn = self.connect()
        with conn.transaction():
            row = conn.execute(
                "UPDATE branches SET replay_asked_at = clock_timestamp(), resyncs = resyncs + 1"
                " WHERE branch = %s AND (replay_asked_at IS NULL OR"
                " replay_asked_at < clock_timestamp() - make_interval(secs => %s))"
                " RETURNING last_seq",
                (branch, every_s),
            ).fetchone()
        return None if row is None else int(row[0]) + 1

    def behind(self) -> list[Progress]:
        """Every branch whose copy has a hole or lags its head."""
        conn = self.connect()
        with conn.transaction():
            rows = conn.execute(
                "SELECT b.branch, b.last_seq, b.head_seq,"
                " (SELECT COALESCE(max(seq), 0) FROM events e WHERE e.branch = b.branch)"
                " FROM branches b"
            ).fetchall()
        found = [Progress(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]
        return [p for p in found if p.behind]


def _ticket_row(branch: str, c: Change) -> tuple[Any, ...]:
    return (
        branch, c.ticket_id, c.business_day, c.number, c.label, c.service, c.priority, c.state,
        c.issued_at, c.first_called_at, c.called_at, c.served_at, c.finished_at, c.counter,
        c.recalls, c.rating, c.seq, c.origin_id,
    )  # fmt: skip
