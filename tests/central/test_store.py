"""The central copy's writes: idempotent, order-proof, holes found; and what a
branch sends checked before anything is written."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from appliance.central.changes import MAX_CHANGES, BadChange, Change, parse_change, parse_changes
from appliance.central.store import CentralStore
from appliance.sim.harness.postgres import Postgres
from tests.support.postgres import central_db, postgres

__all__ = ["central_db", "postgres"]

AT = 1_796_000_000.0


def _payload(seq: int, state: str = "waiting", kind: str = "issue", **ticket: Any) -> bytes:
    t = {"id": 1, "number": 1, "label": "A001", "service": "building", "priority": False,
         "business_day": "2026-12-04", "state": state, "issued_at": AT, "first_called_at": None,
         "called_at": None, "served_at": None, "finished_at": None, "counter": None,
         "recalls": 0, "rating": None, **ticket}  # fmt: skip
    return json.dumps({"seq": seq, "kind": kind, "at": AT + seq, "ticket": t}).encode()


def _change(seq: int, **kw: Any) -> Change:
    return parse_change(_payload(seq, **kw))


def test_writes_are_idempotent_and_the_newest_change_wins_in_any_order(
    postgres: Postgres, central_db: psycopg.Connection[Any]
) -> None:
    store = CentralStore(postgres.dsn)
    try:
        issue = _change(1)
        call = _change(2, state="called", kind="call", called_at=AT + 5, counter="w1")
        serve = _change(3, state="served", kind="serve", called_at=AT + 5, counter="w1",
                        served_at=AT + 5, finished_at=AT + 60)  # fmt: skip
        p = store.apply("b1", [serve])  # the last one first: a hole before it
        assert (p.last_seq, p.seen_seq, p.behind) == (0, 3, True)
        p = store.apply("b1", [issue, call, issue, serve])  # again, and twice
        assert (p.last_seq, p.behind) == (3, False)
        rows = central_db.execute(
            "SELECT state, counter, seq, extract(epoch FROM finished_at) FROM tickets"
        ).fetchall()
        assert rows == [("served", "w1", 3, pytest.approx(AT + 60))]
        assert central_db.execute("SELECT count(*) FROM events").fetchone() == (3,)
        p = store.head("b1", 5)  # the master has two more
        assert (p.last_seq, p.head_seq, p.behind) == (3, 5, True)
        assert [x.branch for x in store.behind()] == ["b1"]
        # One consumer claims the replay; another asking at once is told no.
        assert store.claim_replay("b1", 10) == 4
        assert store.claim_replay("b1", 10) is None
        assert central_db.execute("SELECT resyncs FROM branches").fetchone() == (1,)
    finally:
        store.close()


def test_link_since_moves_only_when_the_link_changes(
    postgres: Postgres, central_db: psycopg.Connection[Any]
) -> None:
    store = CentralStore(postgres.dsn)
    try:
        store.link("b1", True)
        first = central_db.execute("SELECT link, link_since FROM branches").fetchone()
        central_db.commit()
        store.link("b1", True)  # the retained "1" again after a consumer restart
        assert central_db.execute("SELECT link, link_since FROM branches").fetchone() == first
        central_db.commit()
        store.link("b1", False)
        row = central_db.execute("SELECT link, link_since > %s FROM branches", (first[1],))
        assert row.fetchone() == ("offline", True)
    finally:
        store.close()


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[]",
        json.dumps({"seq": 1, "kind": "issue", "at": AT}).encode(),
        _payload(0),
        _payload(1, kind="delete"),
        _payload(1, state="deleted"),
        _payload(1, rating="angry"),
        _payload(1, service="../x"),
        _payload(1, label="A" * 100),
        _payload(1, business_day="today"),
        _payload(1, issued_at=float("1e300")),
        _payload(1, priority=1),
        _payload(1, counter="w\n1"),
        _payload(1, id=True),
        b"{" * 100_000,
    ],
)
def test_a_malformed_change_is_refused_whole(payload: bytes) -> None:
    with pytest.raises(BadChange):
        parse_change(payload)


def _batch(*payloads: bytes, replay: bool | None = None) -> bytes:
    body: dict[str, Any] = {"changes": [json.loads(p) for p in payloads]}
    if replay is not None:
        body["replay"] = replay
    return json.dumps(body).encode()


def test_a_commits_changes_come_in_one_message_and_one_alone_still_does() -> None:
    both = parse_changes(_batch(_payload(7), _payload(8, state="called", kind="call")))
    assert [(c.seq, c.kind, c.replayed) for c in both] == [(7, "issue", False), (8, "call", False)]
    again = parse_changes(_batch(_payload(7), replay=True))
    assert [(c.seq, c.replayed) for c in again] == [(7, True)]
    assert [c.seq for c in parse_changes(_payload(9))] == [9]  # a branch of an earlier version


@pytest.mark.parametrize(
    "payload",
    [
        _batch(_payload(1), _payload(2, rating="angry")),  # one bad change refuses all
        _batch(*[_payload(i) for i in range(1, MAX_CHANGES + 2)]),
        json.dumps({"changes": []}).encode(),
        json.dumps({"changes": {"seq": 1}}).encode(),
        json.dumps({"changes": [1, 2]}).encode(),
        json.dumps([json.loads(_payload(1))]).encode(),
        b'{"changes": [' + b"{" * 100_000,
        _batch(*[_payload(i, label="A" * 20, service="x" * 30) for i in range(1, 60)]) + b" " * 70_000,
    ],
)
def test_a_malformed_message_of_changes_is_refused_whole(payload: bytes) -> None:
    with pytest.raises(BadChange):
        parse_changes(payload)


def test_a_change_carries_no_phone_number_even_if_sent_one() -> None:
    change = parse_change(_payload(1, phone="+201001234567"))
    assert "phone" not in vars(change) and "+2010" not in repr(change)


@pytest.mark.parametrize(
    "calendar",
    [{"timezone": "../../etc/passwd"}, {"timezone": "Mars/Olympus"}, {"day_reset_hour": 24},
     {"day_reset_hour": "5"}, {"day_reset_hour": True}],
)  # fmt: skip
def test_a_branch_description_with_a_bad_calendar_is_refused(calendar: dict[str, object]) -> None:
    from appliance.central.consumer import _branch_info

    body = {"name_ar": "فرع", "services": [], "timezone": "Africa/Cairo", "day_reset_hour": 5}
    assert _branch_info(json.dumps(body).encode())["day_reset_hour"] == 5
    with pytest.raises(BadChange):
        _branch_info(json.dumps(body | calendar).encode())
