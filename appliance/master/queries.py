"""Read-only queries over the master's tables.

The day report, the demo, the chaos checks, the security drill and the
benchmarks read the master's database through these, never with their own
SQL: the schema (appliance/master/schema.py) can change in one place.  The
file is opened with ``mode=ro``, so a reader can run on the master while it
serves.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import NidaaError
from ..queue import Ticket
from .store import TICKET_COLUMNS, ticket_from_row


class Records:
    """The master's database, read-only."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise NidaaError(f"no master database at {self.path}")
        try:
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise NidaaError(f"cannot read the master database {self.path}: {exc}") from None

    def __enter__(self) -> Records:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise NidaaError(f"cannot read the master database {self.path}: {exc}") from None

    def tickets(self, *, day: str | None = None, arrivals: bool = False) -> list[Ticket]:
        """Tickets in id order: of one business day, and/or only arrivals
        (issued at a kiosk, not made by a transfer)."""
        where = ["1"]
        args: list[Any] = []
        if day is not None:
            where.append("business_day = ?")
            args.append(day)
        if arrivals:
            where.append("origin_id IS NULL")
        sql = f"SELECT {', '.join(TICKET_COLUMNS)} FROM tickets WHERE {' AND '.join(where)}"
        return [ticket_from_row(r) for r in self._rows(sql + " ORDER BY id", tuple(args))]

    def ticket_state(self, ticket_id: int) -> str | None:
        rows = self._rows("SELECT state FROM tickets WHERE id = ?", (ticket_id,))
        return str(rows[0][0]) if rows else None

    def issued_to(self, command_prefix: str) -> set[int]:
        """Ticket ids the master answered to issue commands whose ids start
        with ``command_prefix`` (a kiosk's ids start with its unit id)."""
        rows = self._rows(
            "SELECT response FROM commands WHERE id LIKE ? AND action = 'ticket/issue'",
            (f"{command_prefix}%",),
        )
        ids: set[int] = set()
        for (response,) in rows:
            ticket = json.loads(response).get("result", {}).get("ticket") or {}
            if isinstance(ticket.get("id"), int):
                ids.add(ticket["id"])
        return ids

    def call_events(self) -> list[dict[str, Any]]:
        """Every call event in order, with ``created`` (when it was stored)."""
        rows = self._rows("SELECT payload, created_at FROM events WHERE kind = 'call' ORDER BY seq")
        return [dict(json.loads(p)) | {"created": c} for p, c in rows]

    def stage_event_ids(self) -> list[str]:
        """Stage events that ask for an SMS (the master also marks, with an
        empty payload, a stage it decided not to send)."""
        return [r[0] for r in self._rows("SELECT id FROM sms_stage_events WHERE payload != '{}'")]
