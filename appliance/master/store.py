"""The master's SQLite database: the queue state, applied commands, events.

WAL mode with ``synchronous=FULL``: a ticket exists only once the transaction
that created it has committed, and after a power cut the master restarts
with exactly the committed state.  The schema is versioned with
``PRAGMA user_version`` and upgraded by the migrations below, in order.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..errors import NidaaError
from ..queue import Changes, CounterState, EngineState, Ticket, TicketState
from . import change
from .schema import MIGRATIONS

#: Rows one purge transaction deletes at most: a deleted command id is at most
#: ~160 bytes of a log entry, so a step stays far below etcd's 1.5 MiB a request.
PURGE_STEP = 1000

TICKET_COLUMNS = [f.name for f in fields(Ticket)]
_STATE, _PRIORITY = TICKET_COLUMNS.index("state"), TICKET_COLUMNS.index("priority")
_UPSERT_TICKET = (
    f"INSERT INTO tickets ({', '.join(TICKET_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(TICKET_COLUMNS))}) ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in TICKET_COLUMNS if c != "id")
)


@dataclass(frozen=True)
class Applied:
    """A command already applied: its name, first answer and body digest."""

    action: str
    answer: dict[str, Any]
    digest: str | None


class StoreError(NidaaError, RuntimeError):
    code = "storage"


class Store:
    """The master's database.  Only the master process writes to it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._savepoints = 0
        #: Events added since the outbox was last read (a rolled-back one too).
        self.events_added = 0
        self._broken = False
        #: Called inside every replicated transaction just before it commits
        #: (the standby master's etcd log, appliance/master/standby.py); an
        #: exception from it rolls the transaction back.
        self.before_commit: Callable[[], None] | None = None
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA busy_timeout=5000")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the database {path}: {exc}") from None

    def close(self) -> None:
        self.db.close()

    @property
    def version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        current = self.version
        if current > len(MIGRATIONS):
            raise StoreError(
                f"database schema {current} is newer than this version of Nidaa "
                f"({len(MIGRATIONS)}); upgrade the software"
            )
        for version in range(current, len(MIGRATIONS)):
            with self.transaction():
                MIGRATIONS[version](self.db)
                self.db.execute(f"PRAGMA user_version = {version + 1}")

    @contextmanager
    def transaction(self, *, replicate: bool = True) -> Iterator[sqlite3.Connection]:
        """One durable transaction: everything inside commits or nothing does.

        ``replicate=False``: bookkeeping a standby may miss (an event marked
        published, which it would publish once more), sent with the next
        replicated transaction rather than on its own.

        Inside another transaction (the master's group commit) it is a
        savepoint: its writes are undone on an exception, and become durable
        with the enclosing transaction.
        """
        if self.db.in_transaction:
            self._savepoints += 1
            name = f"sp{self._savepoints}"
            self.db.execute(f"SAVEPOINT {name}")
            try:
                yield self.db
                self.db.execute(f"RELEASE {name}")
            except BaseException:
                try:
                    self.db.execute(f"ROLLBACK TO {name}")
                    self.db.execute(f"RELEASE {name}")
                except BaseException:
                    self._broken = True  # its writes may remain: the whole transaction goes
                    raise
                raise
            finally:
                self._savepoints -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._broken = False
        try:
            yield self.db
            if self._broken:
                raise StoreError("a failed command could not be undone alone")
            if replicate and self.before_commit is not None:
                self.before_commit()
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:  # also when COMMIT itself failed
                self.db.execute("ROLLBACK")
            raise

    # -- queue state ------------------------------------------------------
    def load_state(self, keep_days: set[str]) -> EngineState:
        """The engine's state: active tickets and those of ``keep_days``."""
        state = EngineState(tickets={}, counters={}, sequences={}, service_times={})
        marks = ",".join("?" * len(keep_days)) or "''"
        rows = self.db.execute(
            f"SELECT {', '.join(TICKET_COLUMNS)} FROM tickets "
            f"WHERE state IN ('waiting', 'called') OR business_day IN ({marks})",
            sorted(keep_days),
        )
        for row in rows:
            ticket = ticket_from_row(row)
            state.tickets[ticket.id] = ticket
        for cid, paused, is_open, current, streak in self.db.execute(
            "SELECT id, paused, open, current, regular_streak FROM counters"
        ):
            state.counters[cid] = CounterState(
                id=cid,
                paused=bool(paused),
                open=bool(is_open),
                current=current,
                regular_streak=streak,
            )
        for day, service, last in self.db.execute(
            "SELECT business_day, service, last FROM sequences"
        ):
            state.sequences[(day, service)] = last
        for service, samples in self.db.execute("SELECT service, samples FROM service_times"):
            state.service_times[service] = [float(x) for x in json.loads(samples)]
        top = self.db.execute("SELECT MAX(id) FROM tickets").fetchone()[0]
        state.next_ticket_id = (top or 0) + 1
        return state

    def write_changes(
        self, state: EngineState, changes: Changes, *, action: str = "", now: float = 0.0
    ) -> None:
        """Write exactly the rows ``changes`` names (inside a transaction),
        and one numbered change per ticket for the central feed: what
        ``action`` (the command, or ``day/close``) did to it."""
        # Rows are updated in place (an upsert), never deleted and inserted
        # again: with foreign keys on, a delete makes SQLite look for rows
        # that name the old one.
        for tid in sorted(changes.tickets):
            t = state.tickets[tid]
            row = [getattr(t, c) for c in TICKET_COLUMNS]
            row[_STATE], row[_PRIORITY] = str(t.state), int(t.priority)
            self.db.execute(_UPSERT_TICKET, row)
            self.db.execute(
                "INSERT INTO ticket_changes (ticket_id, kind, at, ticket) VALUES (?, ?, ?, ?)",
                (tid, change.change_kind(t, action), now, json.dumps(change.feed_ticket(t))),
            )
        for cid in sorted(changes.counters):
            c = state.counters[cid]
            self.db.execute(
                "INSERT INTO counters (id, paused, open, current, regular_streak) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET paused = excluded.paused,"
                " open = excluded.open, current = excluded.current,"
                " regular_streak = excluded.regular_streak",
                (c.id, int(c.paused), int(c.open), c.current, c.regular_streak),
            )
        for key in sorted(changes.sequences):
            self.db.execute(
                "INSERT INTO sequences (business_day, service, last) VALUES (?, ?, ?)"
                " ON CONFLICT(business_day, service) DO UPDATE SET last = excluded.last",
                (key[0], key[1], state.sequences[key]),
            )
        for service in sorted(changes.service_times):
            self.db.execute(
                "INSERT INTO service_times (service, samples) VALUES (?, ?)"
                " ON CONFLICT(service) DO UPDATE SET samples = excluded.samples",
                (service, json.dumps(state.service_times.get(service, []))),
            )

    # -- applied commands -------------------------------------------------
    def applied(self, command_id: str) -> Applied | None:
        row = self.db.execute(
            "SELECT action, response, digest FROM commands WHERE id = ?", (command_id,)
        ).fetchone()
        return None if row is None else Applied(row[0], json.loads(row[1]), row[2])

    def record_command(
        self,
        command_id: str,
        action: str,
        response: dict[str, Any],
        now: float,
        *,
        digest: str | None = None,
        requester: str | None = None,
        ticket_id: int | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO commands (id, action, response, applied_at, digest, requester,"
            " ticket_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                command_id,
                action,
                json.dumps(response, ensure_ascii=False),
                now,
                digest,
                requester,
                ticket_id,
            ),
        )

    def issuer(self, ticket_id: int) -> str | None:
        """Who asked for ``ticket_id`` (while its issue command is kept)."""
        row = self.db.execute(
            "SELECT requester FROM commands WHERE ticket_id = ? AND action = 'ticket/issue'",
            (ticket_id,),
        ).fetchone()
        return None if row is None else row[0]

    def purge_commands(self, before: float) -> int:
        return self.delete_in_steps("commands", "applied_at < ?", (before,))

    def delete_in_steps(self, table: str, where: str, args: tuple[Any, ...]) -> int:
        """Delete ``table``'s rows matching ``where``, at most :data:`PURGE_STEP`
        per transaction: with ``[ha]`` each transaction is one etcd request, and
        thousands of rows at once (a purge after a long stop) would not fit in
        one.  The number deleted."""
        total = 0
        while True:
            with self.transaction():
                n = self.db.execute(
                    f"DELETE FROM {table} WHERE rowid IN"
                    f" (SELECT rowid FROM {table} WHERE {where} LIMIT ?)",
                    (*args, PURGE_STEP),
                ).rowcount
            total += n
            if n < PURGE_STEP:
                return total

    # -- event outbox -----------------------------------------------------
    def add_event(self, event_id: str, kind: str, payload: dict[str, Any], now: float) -> int:
        self.events_added += 1
        cur = self.db.execute(
            "INSERT OR IGNORE INTO events (id, kind, payload, created_at) VALUES (?, ?, ?, ?)",
            (event_id, kind, json.dumps(payload, ensure_ascii=False), now),
        )
        return int(cur.lastrowid or 0)

    def unpublished_events(
        self, *, if_added: bool = False
    ) -> list[tuple[int, str, dict[str, Any]]]:
        """The outbox's unpublished events; with ``if_added``, none unless an
        event was added since the outbox was last read."""
        if if_added and not self.events_added:
            return []
        self.events_added = 0
        rows = self.db.execute(
            "SELECT seq, kind, payload FROM events WHERE published = 0 ORDER BY seq"
        ).fetchall()
        return [(seq, kind, json.loads(payload)) for seq, kind, payload in rows]

    def mark_published(self, seqs: list[int]) -> None:
        if not seqs:
            return
        with self.transaction(replicate=False):
            self.db.executemany(
                "UPDATE events SET published = 1 WHERE seq = ?", [(s,) for s in seqs]
            )

    # -- the central feed (appliance/master/feed.py) -------------------------
    def last_change_seq(self) -> int:
        row = self.db.execute("SELECT MAX(seq) FROM ticket_changes").fetchone()
        return int(row[0] or 0)

    def ticket_changes(self, first: int, limit: int) -> list[tuple[int, int, str, float, str]]:
        """Up to ``limit`` changes from number ``first`` on, in order."""
        return [
            (int(seq), int(tid), str(kind), float(at), str(ticket))
            for seq, tid, kind, at, ticket in self.db.execute(
                "SELECT seq, ticket_id, kind, at, ticket FROM ticket_changes"
                " WHERE seq >= ? ORDER BY seq LIMIT ?",
                (first, limit),
            )
        ]


def ticket_from_row(row: tuple[Any, ...]) -> Ticket:
    values = dict(zip(TICKET_COLUMNS, row, strict=True))
    values["state"] = TicketState(values["state"])
    values["priority"] = bool(values["priority"])
    return Ticket(**values)
