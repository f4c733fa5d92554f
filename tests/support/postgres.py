"""A private PostgreSQL for the central store's tests (one per test module
that asks: initdb costs about a second)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from appliance.central.schema import apply_schema
from appliance.sim.harness.postgres import Postgres


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A running private PostgreSQL with the empty ``nidaa`` database."""
    with Postgres() as pg:
        yield pg


@pytest.fixture
def central_db(postgres: Postgres) -> Iterator[psycopg.Connection[Any]]:
    """A connection to a freshly emptied central store at the latest schema."""
    with psycopg.connect(postgres.dsn) as conn:
        apply_schema(conn)
        conn.execute("TRUNCATE branches, services, tickets, events")
        conn.commit()
        yield conn
