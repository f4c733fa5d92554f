"""The central store's tables in PostgreSQL, and the migrations that make them.

The contract other parts read (the dashboard, the cross-branch report):

- ``branches``: one row per branch, its link state and the last event
  sequence the central copy holds without a gap;
- ``services``: each branch's services and their target wait;
- ``tickets``: one row per (branch, ticket id), the master's ticket as of its
  latest event (``seq``);
- ``events``: one row per (branch, event sequence), what changed and when.

No phone number is ever stored here: citizens' phones never leave the branch
(docs/security.md).  Columns may be added; none is renamed.

Versioned as the master's SQLite schema is: ``central_schema.version`` is
how many of :data:`MIGRATIONS` were applied, and a change is a new entry at
the end.  :func:`apply_schema` takes an advisory lock, so several consumers
starting at once apply each migration exactly once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

#: Any fixed number: the advisory lock held while migrating.
_LOCK_KEY = 0x4E494441  # "NIDA"

_V1 = """
CREATE TABLE branches (
    branch     text PRIMARY KEY,
    name_ar    text,
    name_en    text,
    link       text NOT NULL DEFAULT 'offline' CHECK (link IN ('online', 'offline')),
    link_since timestamptz,
    last_seen  timestamptz,
    last_seq   bigint NOT NULL DEFAULT 0,
    resyncs    integer NOT NULL DEFAULT 0
);
CREATE TABLE services (
    branch        text NOT NULL,
    service       text NOT NULL,
    name_ar       text,
    name_en       text,
    target_wait_s integer,
    PRIMARY KEY (branch, service)
);
CREATE TABLE tickets (
    branch          text NOT NULL,
    ticket_id       bigint NOT NULL,
    business_day    date NOT NULL,
    number          integer NOT NULL,
    label           text NOT NULL,
    service         text NOT NULL,
    priority        boolean NOT NULL,
    state           text NOT NULL CHECK (state IN
                        ('waiting', 'called', 'served', 'no_show', 'transferred', 'voided')),
    issued_at       timestamptz NOT NULL,
    first_called_at timestamptz,
    called_at       timestamptz,
    served_at       timestamptz,
    finished_at     timestamptz,
    counter         text,
    recalls         integer NOT NULL DEFAULT 0,
    rating          text,
    seq             bigint NOT NULL,
    PRIMARY KEY (branch, ticket_id)
);
CREATE INDEX tickets_day ON tickets (business_day, branch, service);
CREATE INDEX tickets_waiting ON tickets (branch, service) WHERE state = 'waiting';
CREATE TABLE events (
    branch    text NOT NULL,
    seq       bigint NOT NULL,
    kind      text NOT NULL,
    ticket_id bigint,
    at        timestamptz NOT NULL,
    PRIMARY KEY (branch, seq)
);
CREATE INDEX events_at ON events (at);
"""

# v2: what the consumer needs to resync: the branch master's last number as
# last heard (`head_seq`) and when a replay was last asked (one consumer
# asks, whichever many run); when each change reached the centre and
# whether it came live or replayed (the lag figures).
_V2 = """
ALTER TABLE branches ADD COLUMN head_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE branches ADD COLUMN replay_asked_at timestamptz;
ALTER TABLE events ADD COLUMN received_at timestamptz NOT NULL DEFAULT clock_timestamp();
ALTER TABLE events ADD COLUMN replayed boolean NOT NULL DEFAULT false
"""

# v3: each branch's own calendar (its `sync/branch`), so the dashboard knows
# the branch's business day before its first ticket of the day; and which
# ticket a transfer continued (one citizen, not two, in the report).
_V3 = """
ALTER TABLE branches ADD COLUMN timezone text;
ALTER TABLE branches ADD COLUMN day_reset_hour smallint;
ALTER TABLE tickets ADD COLUMN origin_id bigint
"""

#: Migrations in order; ``central_schema.version`` counts those applied.
MIGRATIONS: list[str] = [_V1, _V2, _V3]


def apply_schema(conn: psycopg.Connection[Any]) -> int:
    """Bring the database to the latest schema; return the version it had.

    Safe to call at every start and from several processes at once: applied
    migrations are skipped, and each runs in one transaction with the
    version bump (a failure leaves the previous version whole).
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute("CREATE TABLE IF NOT EXISTS central_schema (version integer NOT NULL)")
        row = conn.execute("SELECT version FROM central_schema").fetchone()
        if row is None:
            conn.execute("INSERT INTO central_schema (version) VALUES (0)")
            before = 0
        else:
            before = int(row[0])
        for version in range(before, len(MIGRATIONS)):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement.encode())
        conn.execute("UPDATE central_schema SET version = %s", (len(MIGRATIONS),))
    return before
