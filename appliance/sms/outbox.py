"""The gateway's outbox: every SMS is on disk before the modem sees it.

One SQLite file of the gateway's own, in WAL mode with ``synchronous=FULL``:
a message exists once :meth:`Outbox.enqueue` returned, and survives a
``kill -9`` or a power cut.  Each part has its own state::

    pending ──> sending ──> accepted (+CMGS <mr>) ──> delivered (+CDS)
       ^           │             │
       └───────────┴─────────────┘  failure, or a final "not delivered" report

``sending`` is committed before the PDU goes to the modem.  A part found in
``sending`` at start-up was interrupted between writing the PDU and reading
``+CMGS``: the modem may have sent it.  It is sent again (at least once, never
lost) and counted in ``status()["resent_after_crash"]``; docs/sms.md says
exactly what a citizen may receive twice.

A message whose later part failed keeps its accepted parts and resends only
the others, with the same concatenation reference, so the phone still joins
them.  Event ids are UNIQUE: a stage event delivered twice is stored once.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..drivers.modem.pdu import encode
from ..errors import NidaaError
from .phone import mask

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id           INTEGER PRIMARY KEY,
    event_id     TEXT    NOT NULL UNIQUE,
    number       TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    reference    INTEGER NOT NULL,
    state        TEXT    NOT NULL,   -- pending | sent | delivered | dead
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL    NOT NULL,
    last_error   TEXT,
    created_at   REAL    NOT NULL,
    updated_at   REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_due ON messages(state, next_attempt);
CREATE TABLE IF NOT EXISTS parts (
    message_id   INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    total        INTEGER NOT NULL,
    pdu          TEXT    NOT NULL,
    length       INTEGER NOT NULL,
    state        TEXT    NOT NULL,   -- pending | sending | accepted | delivered
    message_ref  INTEGER,
    sends        INTEGER NOT NULL DEFAULT 0,
    accepted_at  REAL,
    delivered_at REAL,
    PRIMARY KEY (message_id, seq)
);
CREATE INDEX IF NOT EXISTS parts_ref ON parts(message_ref, state);
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


class OutboxError(NidaaError, OSError):
    """The outbox database cannot be opened (permissions, a corrupt file)."""

    code = "storage"


@dataclass(frozen=True)
class OutPart:
    message_id: int
    seq: int
    total: int
    pdu: str
    length: int
    state: str
    message_ref: int | None


@dataclass(frozen=True)
class OutMessage:
    id: int
    event_id: str
    number: str
    text: str
    state: str
    attempts: int
    last_error: str | None


class Outbox:
    """The persistent SMS queue.  Thread-safe: the bus thread enqueues while
    the sender thread sends."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_attempts: int = 8,
        backoff_s: float = 30.0,
        max_backoff_s: float = 3600.0,
    ) -> None:
        self.path = Path(path)
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
            self._recover()
        except (OSError, sqlite3.Error) as exc:
            raise OutboxError(f"cannot open the SMS outbox {self.path}: {exc}") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _recover(self) -> None:
        """Parts left in ``sending`` by a crash are sent again."""
        with self._tx() as db:
            n = db.execute("UPDATE parts SET state = 'pending' WHERE state = 'sending'").rowcount
            if n:
                db.execute(
                    "INSERT INTO counters VALUES ('resent_after_crash', ?) ON CONFLICT(name) "
                    "DO UPDATE SET value = value + excluded.value",
                    (n,),
                )

    # -- writing -------------------------------------------------------------------
    def enqueue(self, event_id: str, number: str, text: str, now: float) -> int | None:
        """Store a message and its parts; None when ``event_id`` is already stored.

        ``number`` must already be normalised (E.164).  Encoding happens here,
        once: a resent part is byte for byte the part first sent.
        """
        with self._tx() as db:
            if db.execute("SELECT 1 FROM messages WHERE event_id = ?", (event_id,)).fetchone():
                return None
            cur = db.execute(
                "INSERT INTO messages (event_id, number, text, reference, state, next_attempt,"
                " created_at, updated_at) VALUES (?, ?, ?, 0, 'pending', ?, ?, ?)",
                (event_id, number, text, now, now, now),
            )
            mid = int(cur.lastrowid or 0)
            reference = mid % 256  # consecutive messages never share a reference
            db.execute("UPDATE messages SET reference = ? WHERE id = ?", (reference, mid))
            for p in encode(number, text, reference=reference):
                db.execute(
                    "INSERT INTO parts (message_id, seq, total, pdu, length, state)"
                    " VALUES (?, ?, ?, ?, ?, 'pending')",
                    (mid, p.seq, p.total, p.pdu, p.length),
                )
            return mid

    def mark_sending(self, message_id: int, seq: int) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE parts SET state = 'sending', sends = sends + 1"
                " WHERE message_id = ? AND seq = ?",
                (message_id, seq),
            )

    def mark_accepted(self, message_id: int, seq: int, message_ref: int, now: float) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE parts SET state = 'accepted', message_ref = ?, accepted_at = ?"
                " WHERE message_id = ? AND seq = ?",
                (message_ref, now, message_id, seq),
            )
            self._settle(db, message_id, now)

    def mark_failed(
        self,
        message_id: int,
        seq: int,
        error: str,
        now: float,
        *,
        permanent: bool = False,
        counts: bool = True,
    ) -> str:
        """A part was not accepted.  Returns the message's new state.

        ``counts`` is False for faults of the modem rather than of the message
        (unplugged, no network): those never push a message to the dead letters.
        """
        with self._tx() as db:
            db.execute(
                "UPDATE parts SET state = 'pending' WHERE message_id = ? AND seq = ?",
                (message_id, seq),
            )
            return self._retry_later(db, message_id, error, now, permanent, counts)

    def _retry_later(
        self,
        db: sqlite3.Connection,
        message_id: int,
        error: str,
        now: float,
        permanent: bool,
        counts: bool,
    ) -> str:
        row = db.execute("SELECT attempts FROM messages WHERE id = ?", (message_id,)).fetchone()
        attempts = int(row["attempts"]) + (1 if counts else 0)
        dead = permanent or attempts >= self.max_attempts
        delay = min(self.backoff_s * 2 ** max(attempts - 1, 0), self.max_backoff_s)
        state = "dead" if dead else "pending"
        db.execute(
            "UPDATE messages SET state = ?, attempts = ?, last_error = ?, next_attempt = ?,"
            " updated_at = ? WHERE id = ?",
            (state, attempts, error, now + delay, now, message_id),
        )
        return state

    def mark_report(
        self, message_ref: int, delivered: bool, final: bool, now: float
    ) -> OutPart | None:
        """Apply a delivery report to the newest accepted part with that reference."""
        if not final:
            return None
        with self._tx() as db:
            row = db.execute(
                "SELECT * FROM parts WHERE message_ref = ? AND state = 'accepted'"
                " ORDER BY accepted_at DESC LIMIT 1",
                (message_ref,),
            ).fetchone()
            if row is None:
                return None
            mid, seq = row["message_id"], row["seq"]
            if delivered:
                db.execute(
                    "UPDATE parts SET state = 'delivered', delivered_at = ?"
                    " WHERE message_id = ? AND seq = ?",
                    (now, mid, seq),
                )
                self._settle(db, mid, now)
            else:
                # The network gave up on this part: send it again.
                db.execute(
                    "UPDATE parts SET state = 'pending' WHERE message_id = ? AND seq = ?",
                    (mid, seq),
                )
                self._retry_later(db, mid, "delivery report: not delivered", now, False, True)
            return _part(row)

    def _settle(self, db: sqlite3.Connection, message_id: int, now: float) -> None:
        states = {
            r[0] for r in db.execute("SELECT state FROM parts WHERE message_id = ?", (message_id,))
        }
        if states == {"delivered"}:
            new = "delivered"
        elif states <= {"accepted", "delivered"}:
            new = "sent"
        else:
            return
        db.execute(
            "UPDATE messages SET state = ?, updated_at = ? WHERE id = ? AND state != 'dead'",
            (new, now, message_id),
        )

    def retry_dead(self, now: float) -> int:
        """Give every dead letter a fresh set of attempts (after the technician
        fixed the cause); parts already accepted are not sent again."""
        with self._tx() as db:
            return db.execute(
                "UPDATE messages SET state = 'pending', attempts = 0, next_attempt = ?,"
                " updated_at = ? WHERE state = 'dead'",
                (now, now),
            ).rowcount

    def purge(self, before: float) -> int:
        """Forget finished messages (and their phone numbers) older than ``before``."""
        with self._tx() as db:
            return db.execute(
                "DELETE FROM messages WHERE state IN ('sent', 'delivered', 'dead')"
                " AND updated_at < ?",
                (before,),
            ).rowcount

    # -- reading -------------------------------------------------------------------
    def due(self, now: float, limit: int = 20) -> list[OutMessage]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM messages WHERE state = 'pending' AND next_attempt <= ?"
                " ORDER BY next_attempt, id LIMIT ?",
                (now, limit),
            ).fetchall()
        return [_message(r) for r in rows]

    def next_due(self) -> float | None:
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(next_attempt) FROM messages WHERE state = 'pending'"
            ).fetchone()
        return None if row[0] is None else float(row[0])

    def unsent_parts(self, message_id: int) -> list[OutPart]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM parts WHERE message_id = ? AND state IN ('pending', 'sending')"
                " ORDER BY seq",
                (message_id,),
            ).fetchall()
        return [_part(r) for r in rows]

    def parts(self, message_id: int) -> list[OutPart]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM parts WHERE message_id = ? ORDER BY seq", (message_id,)
            ).fetchall()
        return [_part(r) for r in rows]

    def message(self, message_id: int) -> OutMessage | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        return _message(row) if row else None

    def accepted_since(self, since: float) -> int:
        """Parts the modem accepted since ``since`` (for the rate limit; survives restarts)."""
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM parts WHERE accepted_at >= ?", (since,)
            ).fetchone()
        return int(row[0])

    def status(self) -> dict[str, Any]:
        """Counts per state and the dead letters, phone numbers masked."""
        with self._lock:
            counts = dict(
                self._db.execute("SELECT state, COUNT(*) FROM messages GROUP BY state").fetchall()
            )
            dead = self._db.execute(
                "SELECT id, event_id, number, attempts, last_error FROM messages"
                " WHERE state = 'dead' ORDER BY id DESC LIMIT 20"
            ).fetchall()
            undelivered = self._db.execute(
                "SELECT COUNT(*) FROM parts WHERE state = 'accepted'"
            ).fetchone()[0]
            resent = self._db.execute(
                "SELECT value FROM counters WHERE name = 'resent_after_crash'"
            ).fetchone()
        return {
            "pending": counts.get("pending", 0),
            "sent": counts.get("sent", 0),
            "delivered": counts.get("delivered", 0),
            "dead": counts.get("dead", 0),
            "parts_awaiting_report": undelivered,
            "resent_after_crash": int(resent[0]) if resent else 0,
            "dead_letters": [
                {
                    "id": r["id"],
                    "event": r["event_id"],
                    "phone": mask(r["number"]),
                    "attempts": r["attempts"],
                    "error": r["last_error"],
                }
                for r in dead
            ],
        }


def _part(r: sqlite3.Row) -> OutPart:
    return OutPart(
        r["message_id"], r["seq"], r["total"], r["pdu"], r["length"], r["state"], r["message_ref"]
    )


def _message(r: sqlite3.Row) -> OutMessage:
    return OutMessage(
        r["id"], r["event_id"], r["number"], r["text"], r["state"], r["attempts"], r["last_error"]
    )
