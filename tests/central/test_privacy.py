"""Citizens' phone numbers never leave the branch: the central store has no
place for one, and none is found in it after it is filled as the branches
fill it (docs/security.md, "What leaves the branch for the centre")."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.support.dashboard import central_text, fill, phone_problems, utcnow


def test_the_scan_finds_a_phone(store_db: psycopg.Connection[Any]) -> None:
    """The check itself: a number slipped into a name is caught."""
    fill(store_db, utcnow())
    store_db.execute("UPDATE branches SET name_en = 'call +20 100 123 4567' WHERE branch = 'alex-raml'")
    assert phone_problems(store_db) == ["branches.name_en = 'call +20 100 123 4567'"]


def test_no_phone_in_the_central_store(store_db: psycopg.Connection[Any]) -> None:
    fill(store_db, utcnow())
    assert central_text(store_db)  # the scan read something
    assert phone_problems(store_db) == []
