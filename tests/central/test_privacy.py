"""Citizens' phone numbers never leave the branch: the central store has no
place for one, and none is found in it after it is filled as the branches
fill it (docs/security.md, "What leaves the branch for the centre")."""

from __future__ import annotations

import re
from typing import Any

import psycopg

from tests.support.dashboard import fill, utcnow

#: Nine digits or more, maybe spaced or dashed, maybe after a +: a phone.
PHONE_LIKE = re.compile(r"\+?\d(?:[\s-]?\d){8,}")
PHONE_WORDS = re.compile(r"phone|msisdn|mobile|sms|tel", re.IGNORECASE)


def central_text(conn: psycopg.Connection[Any]) -> list[tuple[str, str, str]]:
    """Every text value of every table of the central database, with its
    table and column."""
    columns = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'json',"
        " 'jsonb')"
    ).fetchall()
    found = []
    for table, column in columns:
        query = f'SELECT "{column}"::text FROM "{table}" WHERE "{column}" IS NOT NULL'
        found += [(table, column, value) for (value,) in conn.execute(query.encode())]
    return found


def phone_problems(conn: psycopg.Connection[Any]) -> list[str]:
    every = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'public'"
    ).fetchall()
    problems = [f"column {t}.{c}" for t, c in every if PHONE_WORDS.search(c)]
    problems += [f"{t}.{c} = {v!r}" for t, c, v in central_text(conn) if PHONE_LIKE.search(v)]
    return problems


def test_the_scan_finds_a_phone(store_db: psycopg.Connection[Any]) -> None:
    """The check itself: a number slipped into a name is caught."""
    fill(store_db, utcnow())
    store_db.execute("UPDATE branches SET name_en = 'call +20 100 123 4567' WHERE branch = 'alex-raml'")
    assert phone_problems(store_db) == ["branches.name_en = 'call +20 100 123 4567'"]


def test_no_phone_in_the_central_store(store_db: psycopg.Connection[Any]) -> None:
    fill(store_db, utcnow())
    assert central_text(store_db)  # the scan read something
    assert phone_problems(store_db) == []
