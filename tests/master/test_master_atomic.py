"""Atomic commands: a failure at any step of any command leaves the master's
memory equal to its database (issue 12, item 6).

Every command of the master's table is run again and again against the real
daemon's pipeline and a real SQLite file, with the n-th database statement
of that run failing (a storage error, then a plain bug), for every n until
the command runs through.  After each run the in-memory queue must equal a
fresh load of the file, and the command must have been answered.
"""

from __future__ import annotations

import json
import sqlite3
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Any

from appliance.bus.client import Message
from appliance.bus.topics import Topics
from appliance.config.branch import load_config
from appliance.master.store import Store
from tests.support import EXAMPLE_CONFIG
from tests.support.master import OfflineMaster

CONFIG = load_config(EXAMPLE_CONFIG)
T = Topics(CONFIG.branch.id)
UNIT = "atomic-test"  # no unit of the branch: a tool on an open broker
REPLY = T.reply(UNIT, UNIT)
NOW = 1_800_000_000.0


class Injected(Exception):
    """The bug a test plants."""


class FaultyConnection:
    """A sqlite3 connection whose ``arm``-th statement fails."""

    def __init__(self, real: sqlite3.Connection) -> None:
        self.real = real
        self.count = 0
        self.arm: int | None = None
        self.kind: type[Exception] = sqlite3.OperationalError
        self.fired = False
        self.in_sms = False

    def _step(self) -> None:
        self.count += 1
        if self.count == self.arm:
            self.fired = True
            # A bug while making SMS stage events is logged and skipped by
            # design (the queue goes on without them), all of them or none.
            frames = {f.name for f in traceback.extract_stack()}
            self.in_sms = "after_change" in frames and self.kind is Injected
            raise self.kind(f"injected at statement {self.count}")

    def execute(self, *args: Any) -> sqlite3.Cursor:
        self._step()
        return self.real.execute(*args)

    def executemany(self, *args: Any) -> sqlite3.Cursor:
        self._step()
        return self.real.executemany(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class Master(OfflineMaster):
    def __init__(self, db: Path) -> None:
        super().__init__(CONFIG, db, NOW)
        self.faulty = FaultyConnection(self.store.db)
        self.store.db = self.requests.db = self.faulty  # type: ignore[assignment]


def memory_equals_database(master: Master, db: Path) -> None:
    live = master.engine.state
    fresh = Store(db)
    try:
        loaded = master._new_engine(fresh.load_state(master._keep_days())).state
    finally:
        fresh.close()
    assert {k: asdict(v) for k, v in loaded.tickets.items()} == {
        k: asdict(v) for k, v in live.tickets.items()
    }
    assert {k: asdict(v) for k, v in loaded.counters.items()} == {
        k: asdict(v) for k, v in live.counters.items()
    }
    assert loaded.sequences == live.sequences
    assert loaded.service_times == live.service_times
    assert loaded.next_ticket_id == live.next_ticket_id


def run(master: Master, db: Path, topic: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """``body`` with a failure at every statement in turn, then cleanly;
    the clean run's answer (None for a command that is never answered)."""
    payload = json.dumps(body).encode()
    answerless = topic.endswith("/ack")
    n = 1
    while True:
        for kind in (sqlite3.OperationalError, Injected):  # storage trouble, then a bug
            master.faulty.count, master.faulty.arm, master.faulty.kind = 0, n, kind
            master.faulty.fired = False
            before = len(master.answers)
            master.handle(Message(topic, payload, response_topic=REPLY, correlation=b"c"))
            master.faulty.arm = None
            memory_equals_database(master, db)
            if not answerless:
                assert len(master.answers) == before + 1, f"{topic} unanswered at step {n}"
            if not master.faulty.fired or master.faulty.in_sms:
                return master.answers[-1] if not answerless else None
            if not answerless and not topic.endswith("/snapshot"):  # a read stays true
                answer = master.answers[-1]
                assert answer["ok"] is False, (topic, n, kind, answer)
        n += 1


def test_a_failure_at_any_step_of_any_command_leaves_memory_equal_to_the_database(
    tmp_path: Path,
) -> None:
    db = tmp_path / "master.db"
    master = Master(db)
    seen: set[str] = set()
    ids = iter(range(1_000))

    def ok(topic: str, **body: Any) -> dict[str, Any]:
        seen.add(T.parse_command(topic).name)
        answer = run(master, db, topic, {"id": f"c{next(ids)}", **body})
        assert answer is not None and answer["ok"], (topic, answer)
        return dict(answer["result"])

    building = "building"
    first = ok(T.ticket_cmd(UNIT, "issue"), service=building)["ticket"]
    second = ok(T.ticket_cmd(UNIT, "issue"), service=building, priority=True)["ticket"]
    ok(T.ticket_cmd(UNIT, "void"), ticket_id=second["id"], reason="print failed")
    assert ok(T.counter_cmd(UNIT, "w1", "call-next"))["ticket"]["id"] == first["id"]
    request = ok(T.request_cmd(UNIT, "register"), ticket=first["number"], phone="010 1234 5678")
    ref = request["request"]["ref"]
    stage = ok(T.request_cmd(UNIT, "stage"), ref=ref, stage="ready")
    ok(T.request_cmd(UNIT, "test"), phone="010 1234 5678")
    seen.add("request/ack")
    run(master, db, T.request_cmd(UNIT, "ack"), {"event": stage["event"]})
    ok(T.counter_cmd(UNIT, "w1", "recall"))
    ok(T.counter_cmd(UNIT, "w1", "done"))
    ok(T.counter_cmd(UNIT, "w1", "feedback"), ticket_id=first["id"], rating="satisfied")
    ok(T.ticket_cmd(UNIT, "issue"), service=building)
    ok(T.counter_cmd(UNIT, "w2", "call-next"))
    ok(T.counter_cmd(UNIT, "w2", "transfer"), service="reconcile")
    ok(T.ticket_cmd(UNIT, "issue"), service=building)
    ok(T.counter_cmd(UNIT, "w3", "call-next"))
    ok(T.counter_cmd(UNIT, "w3", "no-show"))
    ok(T.counter_cmd(UNIT, "w4", "pause"))
    ok(T.counter_cmd(UNIT, "w4", "resume"))
    ok(T.queue_cmd(UNIT, "snapshot"))
    every = {f"{g}/{a}" for g, a in master.commands}
    every = {c for c in every if not c.startswith("counter/")}
    every |= {f"counter/{a}" for g, a in master.commands if g == "counter"}
    tried = {c if not c.startswith("counter/") else "counter/" + c.split("/")[-1] for c in seen}
    assert tried == every, f"commands never tried: {every - tried}"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
