"""The master's tables, and the migrations that create and upgrade them.

The schema is versioned with ``PRAGMA user_version``: version *n* is what
``MIGRATIONS[:n]`` made.  A change to the schema is a new entry at the end,
never an edit of an old one (a database made by an older release upgrades
in place at the master's next start).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

# v1: the queue (tickets, counters, numbering, service times), the applied
# command ids and the event outbox.
_V1 = """
CREATE TABLE tickets (
    id              INTEGER PRIMARY KEY,
    number          INTEGER NOT NULL,
    label           TEXT    NOT NULL,
    service         TEXT    NOT NULL,
    priority        INTEGER NOT NULL,
    business_day    TEXT    NOT NULL,
    issued_at       REAL    NOT NULL,
    state           TEXT    NOT NULL,
    called_at       REAL,
    first_called_at REAL,
    served_at       REAL,
    finished_at     REAL,
    counter         TEXT,
    recalls         INTEGER NOT NULL DEFAULT 0,
    origin_id       INTEGER REFERENCES tickets(id),
    reason          TEXT,
    rating          TEXT
);
CREATE INDEX tickets_day ON tickets(business_day, service);
CREATE INDEX tickets_active ON tickets(state) WHERE state IN ('waiting', 'called');
CREATE TABLE counters (
    id             TEXT PRIMARY KEY,
    paused         INTEGER NOT NULL,
    open           INTEGER NOT NULL,
    current        INTEGER REFERENCES tickets(id),
    regular_streak INTEGER NOT NULL
);
CREATE TABLE sequences (
    business_day TEXT NOT NULL,
    service      TEXT NOT NULL,
    last         INTEGER NOT NULL,
    PRIMARY KEY (business_day, service)
);
CREATE TABLE service_times (
    service TEXT PRIMARY KEY,
    samples TEXT NOT NULL
);
CREATE TABLE commands (
    id         TEXT PRIMARY KEY,
    action     TEXT NOT NULL,
    response   TEXT NOT NULL,
    applied_at REAL NOT NULL
);
CREATE INDEX commands_age ON commands(applied_at);
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at REAL NOT NULL,
    published  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX events_unpublished ON events(published) WHERE published = 0;
"""

# v2: SMS requests (a citizen's phone for a ticket) and their stage events
# (appliance/master/requests.py).
_V2 = """
CREATE TABLE sms_requests (
    ref        TEXT PRIMARY KEY,
    ticket_id  INTEGER NOT NULL,
    ticket     TEXT NOT NULL,
    phone      TEXT NOT NULL,
    stage      TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX sms_requests_ticket ON sms_requests(ticket_id);
CREATE TABLE sms_stage_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    ref        TEXT NOT NULL,
    stage      TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at REAL NOT NULL,
    sent_at    REAL,
    acked_at   REAL,
    error      TEXT
);
CREATE INDEX sms_stage_events_unacked ON sms_stage_events(acked_at) WHERE acked_at IS NULL;
CREATE INDEX sms_stage_events_ref ON sms_stage_events(ref, stage)
"""


# v3: every foreign key indexed (a ticket row updated or deleted must not
# scan the table for rows naming it), and what a command was: the digest of
# its body (the same id with another body is refused), who asked (the last
# level of its reply topic) and the ticket it issued (a kiosk voids only its own);
# SMS requests by age (every command looks at the last two days' only).
_V3 = """
CREATE INDEX tickets_origin ON tickets(origin_id) WHERE origin_id IS NOT NULL;
CREATE INDEX counters_current ON counters(current) WHERE current IS NOT NULL;
ALTER TABLE commands ADD COLUMN digest TEXT;
ALTER TABLE commands ADD COLUMN requester TEXT;
ALTER TABLE commands ADD COLUMN ticket_id INTEGER;
CREATE INDEX commands_ticket ON commands(ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX sms_requests_created ON sms_requests(created_at)
"""


# v4: the central store's feed, one numbered row per change of a ticket
# (issue, call, recall, serve, no-show, transfer, void, rating), written in
# the same transaction as the change.  Its numbers have no holes (a rolled
# back transaction gives its numbers back), so the centre knows from a gap
# that it missed something and asks for it again (docs/central.md).  The
# ticket is copied as it was after the change, without any phone number.
# Tickets of an older database enter the feed once, as `backfill`.
_V4 = """
CREATE TABLE ticket_changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    at        REAL    NOT NULL,
    ticket    TEXT    NOT NULL
);
CREATE INDEX ticket_changes_ticket ON ticket_changes(ticket_id);
INSERT INTO ticket_changes (ticket_id, kind, at, ticket)
    SELECT id, 'backfill', COALESCE(finished_at, called_at, issued_at), json_object(
        'id', id, 'number', number, 'label', label, 'service', service,
        'priority', json(CASE WHEN priority THEN 'true' ELSE 'false' END),
        'business_day', business_day, 'state', state, 'issued_at', issued_at,
        'first_called_at', first_called_at, 'called_at', called_at,
        'served_at', served_at, 'finished_at', finished_at, 'counter', counter,
        'recalls', recalls, 'rating', rating)
    FROM tickets ORDER BY id
"""


def run_script(db: sqlite3.Connection, script: str) -> None:
    """Run DDL statements inside the caller's transaction (``executescript``
    would commit on its own)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


#: Migrations by the schema version they produce.
MIGRATIONS: list[Callable[[sqlite3.Connection], object]] = [
    lambda db: run_script(db, _V1),
    lambda db: run_script(db, _V2),
    lambda db: run_script(db, _V3),
    lambda db: run_script(db, _V4),
]
