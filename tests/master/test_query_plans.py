"""A command costs the same with months of history (issue 15).

The hot commands run against the real master pipeline and a real SQLite
file holding 20,000 past tickets (with transfers, command ids and SMS
requests).  Every statement they execute is explained: none may scan a
table that grows with history.  And the SQLite virtual machine's work for
the same commands (counted by its progress handler, not by a clock) is the
same as on an empty database.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from appliance.bus.client import Message
from appliance.bus.topics import Topics
from appliance.config.branch import load_config
from appliance.sim.bench.history import fill_history
from tests.support import EXAMPLE_CONFIG
from tests.support.master import OfflineMaster

CONFIG = load_config(EXAMPLE_CONFIG)
T = Topics(CONFIG.branch.id)
NOW = 1_800_000_000.0
GROWING = ("tickets", "commands", "events", "sms_requests", "sms_stage_events")


class Master(OfflineMaster):
    def __init__(self, db: Path) -> None:
        super().__init__(CONFIG, db, NOW)


def hot_commands(master: Master) -> list[str]:
    """A day's hot path: issue (with an SMS request), call-next, done, void;
    the statements executed, with their values."""
    statements: list[str] = []
    ids = iter(range(10_000))

    def send(topic: str, **body: Any) -> dict[str, Any]:
        payload = json.dumps({"id": f"q{next(ids)}", **body}).encode()
        asker = T.parse_command(topic).unit  # each its own reply topic
        reply = T.reply(asker, asker)
        master.handle(Message(topic, payload, response_topic=reply, correlation=b"c"))
        answer = master.answers[-1]
        assert answer["ok"], answer
        return dict(answer["result"])

    master.store.db.set_trace_callback(statements.append)
    first = send(T.ticket_cmd("k1", "issue"), service="building")["ticket"]
    send(T.request_cmd("counter-w1", "register"), ticket=first["number"], phone="010 1234 5678")
    send(T.ticket_cmd("k1", "issue"), service="building")
    send(T.counter_cmd("counter-w1", "w1", "call-next"))
    send(T.counter_cmd("counter-w1", "w1", "done"))
    third = send(T.ticket_cmd("k1", "issue"), service="building")["ticket"]
    send(T.ticket_cmd("k1", "void"), ticket_id=third["id"], reason="paper jam")
    send(T.counter_cmd("counter-w1", "w1", "call-next"))
    send(T.counter_cmd("counter-w1", "w1", "transfer"), service="reconcile")
    master.store.db.set_trace_callback(None)
    return statements


def vm_steps(master: Master) -> int:
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    master.store.db.set_progress_handler(count, 100)
    hot_commands(master)
    master.store.db.set_progress_handler(None, 0)
    return steps[0]


def test_no_hot_statement_scans_a_table_that_grows(tmp_path: Path) -> None:
    db = tmp_path / "master.db"
    fill_history(db, CONFIG, 20_000, now=NOW)
    master = Master(db)
    scans = set()
    for sql in hot_commands(master):
        if sql.split()[0].upper() in ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK"):
            continue
        for row in master.store.db.execute(f"EXPLAIN QUERY PLAN {sql}"):
            detail = str(row[-1])
            if detail.startswith("SCAN") and detail.split()[1] in GROWING:
                scans.add(f"{detail}: {sql[:120]}")
    assert not scans, "\n".join(sorted(scans))
    master.store.close()


def test_the_hot_commands_do_the_same_work_with_20000_past_tickets(tmp_path: Path) -> None:
    empty = Master(tmp_path / "empty.db")
    fill_history(tmp_path / "full.db", CONFIG, 20_000, now=NOW)
    full = Master(tmp_path / "full.db")
    base, loaded = vm_steps(empty), vm_steps(full)
    # Foreign key checks of a replaced row scanned every ticket (issue 15):
    # tens of thousands of steps per command.  Index lookups grow by a level.
    assert loaded <= base * 1.3 + 50, (base, loaded)
    empty.store.close()
    full.store.close()


def test_rows_are_updated_in_place(tmp_path: Path) -> None:
    """No INSERT OR REPLACE (a delete and an insert) on a table others refer to."""
    master = Master(tmp_path / "master.db")
    replaced = [s for s in hot_commands(master) if "OR REPLACE" in s.upper()]
    assert replaced == []
    with sqlite3.connect(tmp_path / "master.db") as conn:
        keys = conn.execute(
            "SELECT m.name, p.'from' FROM sqlite_master m, pragma_foreign_key_list(m.name) p"
        ).fetchall()
        indexed = {
            (m, i[2])
            for (m,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            for idx in conn.execute(f"PRAGMA index_list({m})").fetchall()
            for i in conn.execute(f"PRAGMA index_info({idx[1]})").fetchall()[:1]
        }
    assert keys and all((table, col) in indexed for table, col in keys), (keys, indexed)
    master.store.close()
