"""Group commit and fair turns in the master's inbox (issue 15, issue 12 item 5)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from appliance.bus.client import Message
from appliance.bus.topics import Topics
from appliance.config.branch import load_config
from appliance.master.daemon import MasterDaemon
from appliance.master.inbox import Inbox
from tests.support import EXAMPLE_CONFIG

CONFIG = load_config(EXAMPLE_CONFIG)
T = Topics(CONFIG.branch.id)


class Master(MasterDaemon):
    """The real pipeline; answers and transaction boundaries in one record."""

    def __init__(self, db: Path) -> None:
        super().__init__(CONFIG, db_path=str(db), clock=lambda: 1_800_000_000.0)
        self.record: list[tuple[str, Any]] = []
        self.store.db.set_trace_callback(self._sql)

    def _sql(self, sql: str) -> None:
        if sql.split()[0].upper() in ("BEGIN", "COMMIT", "ROLLBACK"):
            self.record.append(("sql", sql.split()[0].upper()))

    def _answer(self, msg: Message, body: dict[str, Any]) -> None:
        self.record.append(("answer", body))

    def publish_changes(self, changes: Any) -> None:
        pass

    def publish_events(self) -> None:
        pass


def command(topic: str, requester: str, **body: Any) -> Message:
    payload = json.dumps({"id": f"{requester}-{len(body)}-{topic[-8:]}", **body}).encode()
    return Message(topic, payload, response_topic=T.reply(requester, requester), correlation=b"c")


def test_commands_waiting_together_commit_together_and_are_answered_after(
    tmp_path: Path,
) -> None:
    master = Master(tmp_path / "master.db")
    for k in range(8):
        msg = command(T.ticket_cmd(f"tool{k}", "issue"), f"tool{k}", service="building")
        master.inbox.put(master.authority.lane(msg), msg)
    controls, batch = master.inbox.take(64, 0)
    assert controls == [] and len(batch) == 8
    master.record.clear()
    master.handle_batch(batch)
    kinds = [k if k == "answer" else v for k, v in master.record]
    assert kinds == ["BEGIN", "COMMIT"] + ["answer"] * 8  # one durable commit, then answers
    numbers = sorted(
        body["result"]["ticket"]["number"] for k, body in master.record if k == "answer"
    )
    assert numbers == [f"A{n:03d}" for n in range(1, 9)]


def test_a_failed_commit_answers_every_command_of_the_batch_with_an_error(
    tmp_path: Path,
) -> None:
    master = Master(tmp_path / "master.db")
    batch = [
        command(T.ticket_cmd(f"tool{k}", "issue"), f"tool{k}", service="building") for k in range(3)
    ]
    real = master.store.db

    class FailingCommit:
        def execute(self, sql: str, *args: Any) -> Any:
            if sql == "COMMIT":
                raise sqlite3.OperationalError("disk I/O error")
            return real.execute(sql, *args)

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    master.store.db = master.requests.db = FailingCommit()  # type: ignore[assignment]
    master.record.clear()
    master.handle_batch(batch)
    answers = [body for k, body in master.record if k == "answer"]
    assert [a["error"]["code"] for a in answers] == ["storage"] * 3
    assert master.engine.state.tickets == {}  # memory as the database: nothing issued
    master.store.db = master.requests.db = real
    master.handle_batch(batch)  # the clients retry with the same ids
    answers = [body for k, body in master.record if k == "answer"][3:]
    assert [a["result"]["ticket"]["number"] for a in answers] == ["A001", "A002", "A003"]


def test_one_units_flood_never_goes_before_another_units_command() -> None:
    inbox = Inbox()
    flood = [command(T.ticket_cmd("k1", "issue"), "k1", service="building") for _ in range(3000)]
    for msg in flood:
        inbox.put(("ticket", "k1"), msg)
    call = command(T.counter_cmd("counter-w1", "w1", "call-next"), "counter-w1")
    inbox.put(("counter", "counter-w1"), call)
    _, first = inbox.take(2, 0)
    assert call in first  # taken at the next turn, not after 3,000
    _, rest = inbox.take(5000, 0)
    assert len(rest) == 3000 - 1 and rest == flood[1:]  # one unit's own order kept
