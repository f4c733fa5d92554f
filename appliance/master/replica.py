"""The SQLite side of the standby master: what a commit changed, and applying it.

With ``[ha]``, temporary triggers (on this connection only, never in the
database file) note the primary key of every row a transaction inserts,
updates or deletes in the master's tables.  Before the transaction commits
:meth:`Replica.pending` turns them into the rows as they now are (or a
deletion): the command's effect, written to the etcd log
(:mod:`appliance.master.standby`).  A standby applies those entries to its
own database with :meth:`Replica.apply`, so both hold the same tickets,
counters, sequences, applied command ids and event outbox.

``ha_position`` (one row, created only with ``[ha]``) holds the last log
entry this database contains, written in the same transaction as the entry.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

#: One changed row: ``[table, primary key values, row values or None (deleted)]``.
Change = list[Any]


class Replica:
    """Change capture and replay on one SQLite connection (the master's store)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.execute(
            "CREATE TABLE IF NOT EXISTS ha_position"
            " (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL)"
        )
        db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS ha_changes"
            " (n INTEGER PRIMARY KEY, tbl TEXT NOT NULL, pk TEXT NOT NULL)"
        )
        names = [
            r[0]
            for r in db.execute(
                "SELECT name FROM main.sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'ha_%' ORDER BY name"
            )
        ]
        #: Each replicated table's columns and primary key columns.
        self.columns: dict[str, list[str]] = {}
        self.keys: dict[str, list[str]] = {}
        for table in names:
            info = list(db.execute(f"PRAGMA main.table_info({table})"))
            self.columns[table] = [r[1] for r in info]
            self.keys[table] = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5] > 0]
            for op, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
                pk = ", ".join(f"{row}.{c}" for c in self.keys[table])
                db.execute(
                    f"CREATE TEMP TRIGGER IF NOT EXISTS ha_{table}_{op.lower()} AFTER {op}"
                    f" ON main.{table} BEGIN INSERT INTO ha_changes (tbl, pk)"
                    f" VALUES ('{table}', json_array({pk})); END"
                )

    # -- position -----------------------------------------------------------------
    @property
    def position(self) -> int:
        row = self.db.execute("SELECT seq FROM ha_position WHERE id = 1").fetchone()
        return 0 if row is None else int(row[0])

    def set_position(self, seq: int) -> None:
        self.db.execute(
            "INSERT INTO ha_position (id, seq) VALUES (1, ?)"
            " ON CONFLICT(id) DO UPDATE SET seq = excluded.seq",
            (seq,),
        )

    # -- capture ------------------------------------------------------------------
    def pending(self) -> list[Change]:
        """Rows changed since the last :meth:`clear`, as they are now, in the
        order they were first changed (inside the writing transaction)."""
        seen: set[tuple[str, str]] = set()
        changes: list[Change] = []
        for table, pk in self.db.execute("SELECT tbl, pk FROM temp.ha_changes ORDER BY n"):
            if (table, pk) in seen:
                continue
            seen.add((table, pk))
            key = json.loads(pk)
            where = " AND ".join(f"{c} = ?" for c in self.keys[table])
            row = self.db.execute(
                f"SELECT {', '.join(self.columns[table])} FROM main.{table} WHERE {where}", key
            ).fetchone()
            changes.append([table, key, None if row is None else list(row)])
        return changes

    def clear(self) -> None:
        self.db.execute("DELETE FROM temp.ha_changes")

    # -- replay -------------------------------------------------------------------
    def apply(self, seq: int, changes: list[Change]) -> None:
        """Apply one log entry inside the caller's transaction.

        Foreign keys are checked at commit (a ticket and the counter naming
        it arrive in one entry); the triggers' notes of these writes are
        dropped: they came from the log, not from this master.
        """
        self.db.execute("PRAGMA defer_foreign_keys = ON")
        for table, key, row in changes:
            if table not in self.columns:
                raise ValueError(f"log entry {seq} names an unknown table {table!r}")
            where = " AND ".join(f"{c} = ?" for c in self.keys[table])
            if row is None:
                self.db.execute(f"DELETE FROM main.{table} WHERE {where}", key)
                continue
            cols = self.columns[table]
            if len(row) != len(cols):
                raise ValueError(f"log entry {seq}: {table} row of {len(row)} values")
            assign = ", ".join(f"{c} = ?" for c in cols)
            cur = self.db.execute(f"UPDATE main.{table} SET {assign} WHERE {where}", [*row, *key])
            if cur.rowcount == 0:
                marks = ", ".join("?" * len(cols))
                self.db.execute(
                    f"INSERT INTO main.{table} ({', '.join(cols)}) VALUES ({marks})", row
                )
        self.set_position(seq)
        self.clear()

    # -- snapshots ----------------------------------------------------------------
    def dump(self) -> dict[str, list[list[Any]]]:
        """Every row of every replicated table (a snapshot at :attr:`position`)."""
        return {
            table: [list(r) for r in self.db.execute(f"SELECT {', '.join(cols)} FROM main.{table}")]
            for table, cols in self.columns.items()
        }

    def restore(self, seq: int, tables: dict[str, list[list[Any]]]) -> None:
        """Replace every replicated row by a snapshot's (inside the caller's transaction)."""
        self.db.execute("PRAGMA defer_foreign_keys = ON")
        for table in self.columns:
            self.db.execute(f"DELETE FROM main.{table}")
        for table, rows in tables.items():
            if table not in self.columns:
                raise ValueError(f"snapshot {seq} names an unknown table {table!r}")
            cols = self.columns[table]
            marks = ", ".join("?" * len(cols))
            self.db.executemany(
                f"INSERT INTO main.{table} ({', '.join(cols)}) VALUES ({marks})", rows
            )
        self.set_position(seq)
        self.clear()
