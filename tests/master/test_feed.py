"""The central feed: every change of a ticket numbered without holes,
published after its commit, and replayed from SQLite on request."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from appliance.master.feed import REPLAY_REPEAT_S
from appliance.master.schema import MIGRATIONS
from appliance.master.store import Store
from appliance.sim.harness.broker import Mosquitto
from tests.support import Watcher, running_branch


def _messages(w: Watcher, topic: str) -> list[dict[str, Any]]:
    return [json.loads(m.payload) for m in list(w.messages) if m.topic == topic]


def _changes(w: Watcher, topic: str) -> list[dict[str, Any]]:
    """The changes of every message, in order (a commit's come in one)."""
    return [c for body in _messages(w, topic) for c in body["changes"]]


def test_every_ticket_change_is_published_numbered_and_replayed(
    broker: Mosquitto, tmp_path: Path
) -> None:
    with running_branch(tmp_path, broker.url) as b:
        t = b.config_topics()
        w = Watcher(b.config, t.sync("change"), t.sync("head"), t.sync("branch"))
        try:
            first = b.issue("A")["ticket"]
            b.issue("E")
            b.counter("w2", "call-next")
            b.counter("w2", "recall")
            b.counter("w2", "done")
            b.counter("w2", "feedback", ticket_id=first["id"], rating="satisfied")
            b.counter("w6", "call-next")
            b.counter("w6", "transfer", service="building")
            b.counter("w2", "call-next")
            b.counter("w2", "no-show")
            third = b.issue("C")["ticket"]
            b.cmd(t.ticket_cmd(b.client.sender, "void"), ticket_id=third["id"], reason="print_failed")
            w.wait_for(lambda m: m.topic == t.sync("head") and json.loads(m.payload)["seq"] >= 13)
            live = _changes(w, t.sync("change"))
            kinds = [(c["kind"], c["ticket"]["label"]) for c in live]
            assert kinds == [
                ("issue", "A001"), ("issue", "E001"), ("call", "A001"), ("recall", "A001"),
                ("serve", "A001"), ("rating", "A001"), ("call", "E001"),
                ("transfer", "E001"), ("transfer", "E001"),  # the old ticket ends, a new one waits
                ("call", "E001"), ("no_show", "E001"), ("issue", "C001"), ("void", "C001"),
            ]  # fmt: skip
            assert [c["seq"] for c in live] == list(range(1, 14))
            # One message per commit: the transfer's two changes travel together.
            messages = [[c["kind"] for c in m["changes"]] for m in _messages(w, t.sync("change"))]
            assert ["transfer", "transfer"] in messages and len(messages) == 12
            assert not any("replay" in m for m in _messages(w, t.sync("change")))
            # The transfer's new ticket names the one it continues (one citizen centrally).
            old, new = live[7]["ticket"], live[8]["ticket"]
            assert (old["state"], old["origin_id"]) == ("transferred", None)
            assert new["origin_id"] == old["id"] and new["service"] == "building"
            info = w.latest(t.sync("branch"))
            assert info is not None and info["day_reset_hour"] == b.config.branch.day_reset_hour
            rated = live[5]["ticket"]
            assert rated["rating"] == "satisfied" and rated["state"] == "served"
            assert not any("phone" in json.dumps(c) for c in live)
            info = w.latest(t.sync("branch"))
            assert info is not None and info["branch"] == b.config.branch.id
            assert [s["service"] for s in info["services"]][:2] == ["building", "reconcile"]

            # The centre asks for what it missed: the master answers from SQLite.
            w.messages.clear()
            b.client.publish(t.sync("replay"), {"from": 11})
            w.wait_for(lambda m: m.topic == t.sync("change") and b"\"seq\":13" in m.payload)
            assert [c["seq"] for c in _changes(w, t.sync("change"))] == [11, 12, 13]
            assert [c["kind"] for c in _changes(w, t.sync("change"))] == ["no_show", "issue", "void"]
            assert all(m["replay"] is True for m in _messages(w, t.sync("change")))

            # Requests that are not a number from 1 on are ignored; so is a
            # request right after another (a flood keeps no master replaying).
            w.messages.clear()
            for bad in (b"{", b'{"from": 0}', b'{"from": "1"}', b'{"from": true}', b"[]"):
                b.client.publish(t.sync("replay"), bad)
            time.sleep(REPLAY_REPEAT_S)  # the window after the last replay, not a wait for it
            for first in (13, 1, 1, 1):
                b.client.publish(t.sync("replay"), {"from": first})
            w.wait_for(lambda m: m.topic == t.sync("change"))
            b.snapshot()  # a command after the requests: answered once they were handled
            assert [c["seq"] for c in _changes(w, t.sync("change"))] == [13]
        finally:
            w.close()


def test_an_older_database_enters_the_feed_once_as_backfill(tmp_path: Path) -> None:
    db_path = tmp_path / "old.db"
    db = sqlite3.connect(db_path, isolation_level=None)
    for migrate in MIGRATIONS[:3]:
        migrate(db)
    db.execute("PRAGMA user_version = 3")
    db.execute(
        "INSERT INTO tickets (id, number, label, service, priority, business_day, issued_at,"
        " state, called_at, first_called_at, served_at, finished_at, counter, rating)"
        " VALUES (1, 1, 'A001', 'building', 1, '2026-11-30', 100.0, 'served', 110.0, 110.0,"
        " 110.0, 150.0, 'w1', 'neutral')"
    )
    db.close()
    store = Store(db_path)
    try:
        rows = store.ticket_changes(1, 10)
        assert [(seq, tid, kind, at) for seq, tid, kind, at, _ in rows] == [
            (1, 1, "backfill", 150.0)
        ]
        ticket = json.loads(rows[0][4])
        assert ticket["priority"] is True and ticket["label"] == "A001"
        assert ticket["state"] == "served" and ticket["rating"] == "neutral"
        assert store.last_change_seq() == 1
    finally:
        store.close()
