"""The central store's schema on a real private PostgreSQL (run as an
unprivileged user when the tests run as root)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from appliance.central.schema import MIGRATIONS, apply_schema
from appliance.sim.harness.postgres import Postgres
from tests.support.postgres import central_db, postgres
from tests.support.procs import processes_mentioning

__all__ = ["central_db", "postgres"]


def _columns(conn: psycopg.Connection[Any], table: str) -> dict[str, tuple[str, str]]:
    rows = conn.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_name = %s",
        (table,),
    ).fetchall()
    return {name: (kind, nullable) for name, kind, nullable in rows}


def test_contract_tables_and_columns(central_db: psycopg.Connection[Any]) -> None:
    tickets = _columns(central_db, "tickets")
    assert tickets["ticket_id"] == ("bigint", "NO")
    assert tickets["business_day"] == ("date", "NO")
    assert tickets["issued_at"] == ("timestamp with time zone", "NO")
    assert tickets["priority"] == ("boolean", "NO")
    assert tickets["seq"] == ("bigint", "NO")
    assert tickets["rating"] == ("text", "YES")
    assert set(_columns(central_db, "events")) >= {"branch", "seq", "kind", "ticket_id", "at"}
    assert set(_columns(central_db, "branches")) >= {
        "branch", "name_ar", "name_en", "link", "link_since", "last_seen", "last_seq", "resyncs"
    }
    assert set(_columns(central_db, "services")) >= {
        "branch", "service", "name_ar", "name_en", "target_wait_s"
    }
    # No phone number, in any table.
    every = central_db.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'public'"
    ).fetchall()
    assert not [c for c in every if "phone" in c[1]]


def test_defaults_and_checks(central_db: psycopg.Connection[Any]) -> None:
    central_db.execute("INSERT INTO branches (branch) VALUES ('giza-dokki')")
    row = central_db.execute(
        "SELECT link, last_seq, resyncs FROM branches WHERE branch = 'giza-dokki'"
    ).fetchone()
    assert row == ("offline", 0, 0)
    with pytest.raises(psycopg.errors.CheckViolation):
        central_db.execute("UPDATE branches SET link = 'maybe'")
    central_db.rollback()
    with pytest.raises(psycopg.errors.UniqueViolation):
        for _ in range(2):
            central_db.execute(
                "INSERT INTO events (branch, seq, kind, ticket_id, at)"
                " VALUES ('b', 1, 'issue', 1, now())"
            )
    central_db.rollback()


def test_apply_schema_is_idempotent_and_keeps_rows(central_db: psycopg.Connection[Any]) -> None:
    central_db.execute("INSERT INTO branches (branch, last_seq) VALUES ('b1', 42)")
    central_db.commit()
    assert apply_schema(central_db) == len(MIGRATIONS)
    assert apply_schema(central_db) == len(MIGRATIONS)
    assert central_db.execute("SELECT version FROM central_schema").fetchall() == [
        (len(MIGRATIONS),)
    ]
    assert central_db.execute("SELECT last_seq FROM branches").fetchall() == [(42,)]


def test_data_survives_a_restart_and_a_kill(postgres: Postgres) -> None:
    with psycopg.connect(postgres.dsn) as conn:
        apply_schema(conn)
        conn.execute("INSERT INTO branches (branch) VALUES ('kept') ON CONFLICT DO NOTHING")
        conn.commit()
    postgres.restart()
    postgres.restart(kill=True)
    with psycopg.connect(postgres.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM branches WHERE branch = 'kept'").fetchone() == (1,)


def test_trust_is_for_loopback_only(postgres: Postgres) -> None:
    hba = (postgres.data / "pg_hba.conf").read_text()
    hosts = [line.split() for line in hba.splitlines() if line.startswith("host")]
    assert hosts and all(fields[3] in ("127.0.0.1/32", "::1/128") for fields in hosts)


def test_close_leaves_no_process_and_no_folder() -> None:
    pg = Postgres().start()
    folder = pg.workdir
    assert processes_mentioning(str(pg.data))
    pg.close()
    assert not processes_mentioning(str(pg.data))
    assert not folder.exists()
