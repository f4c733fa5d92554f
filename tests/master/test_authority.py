"""Who asks: the master takes the requester from the command topic's unit
level, answers only under that unit's reply topic, and bounds each unit by
its role (appliance/master/authority.py).  The broker's half, that a unit
may publish only under its own id, is in tests/tech/test_provision_broker.py
and the drill (tests/master/test_security.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from appliance.bus.client import Message
from appliance.bus.topics import Topics
from appliance.config.branch import load_config
from tests.support import EXAMPLE_CONFIG
from tests.support.master import OfflineMaster

CONFIG = load_config(EXAMPLE_CONFIG)
T = Topics(CONFIG.branch.id)
NOW = 1_800_000_000.0


class Master(OfflineMaster):
    def __init__(self, db: Path) -> None:
        super().__init__(CONFIG, db, NOW)
        self.n = 0

    def send(self, topic: str, reply: str | None, **body: Any) -> dict[str, Any] | None:
        """The answer, or None when the master answered nothing."""
        self.n += 1
        before = len(self.answers)
        payload = json.dumps({"id": f"c{self.n}", **body}).encode()
        self.handle(Message(topic, payload, response_topic=reply, correlation=b"c"))
        return self.answers[-1] if len(self.answers) > before else None


def own(unit: str) -> str:
    return T.reply(unit, unit)


def test_the_requester_is_the_topics_unit_not_the_reply_topic(tmp_path: Path) -> None:
    m = Master(tmp_path / "master.db")
    ticket = m.send(T.ticket_cmd("k1", "issue"), own("k1"), service="building")
    assert ticket is not None and ticket["ok"]
    tid = ticket["result"]["ticket"]["id"]
    assert m.store.issuer(tid) == "k1"
    # Another unit's reply topic on k1's own command topic: refused, unanswered,
    # nothing applied (the release before voided it, as "k1" was the requester).
    assert m.send(T.ticket_cmd("counter-w1", "void"), own("k1"), ticket_id=tid, reason="x") is None
    assert m.engine.ticket(tid).state == "waiting"
    # A reply topic of the sender's own but a payload naming another unit: ignored.
    answer = m.send(T.ticket_cmd("k1", "void"), own("k1"), ticket_id=tid, reason="x", unit="k9")
    assert answer is not None and answer["ok"] and m.engine.ticket(tid).state == "voided"


def test_a_reply_topic_not_under_the_senders_unit_is_refused_before_anything(
    tmp_path: Path,
) -> None:
    m = Master(tmp_path / "master.db")
    for reply in (
        own("counter-w1"),
        T.reply("k2", "k1"),
        T.legacy_reply("k1"),
        f"{T.base}/reply/k1/#",
        f"{T.base}/reply/k1/+",
        f"{T.base}/reply/k1/a/b",
        T.event("call"),
        None,
    ):
        assert m.send(T.ticket_cmd("k1", "issue"), reply, service="building") is None, reply
    assert m.engine.state.tickets == {}
    # The technician's tools: each its own client id under the tech's unit.
    answer = m.send(
        T.ticket_cmd("tech", "issue"), T.reply("tech", "tech-pi-42"), service="building"
    )
    assert answer is not None and answer["ok"]


def test_the_previous_layout_is_not_a_command(tmp_path: Path) -> None:
    m = Master(tmp_path / "master.db")
    legacy = T.legacy_ticket_cmd("issue")
    assert m.send(legacy, T.legacy_reply("k1"), service="building") is None
    assert m.send(legacy, own("k1"), service="building") is None
    assert m.send(f"{T.base}/cmd/counter/w1/call-next", own("w1")) is None
    assert m.engine.state.tickets == {}


def test_each_unit_sends_only_what_its_role_may(tmp_path: Path) -> None:
    m = Master(tmp_path / "master.db")
    refused = [
        (T.counter_cmd("k1", "w1", "call-next"), "k1"),
        (T.counter_cmd("counter-w2", "w1", "call-next"), "counter-w2"),
        (T.ticket_cmd("counter-w1", "issue"), "counter-w1"),
        (T.ticket_cmd("d1", "issue"), "d1"),
        (T.request_cmd("k1", "register"), "k1"),
        (T.ticket_cmd("sms1", "issue"), "sms1"),
    ]
    for topic, unit in refused:
        answer = m.send(topic, own(unit), service="building", ticket="A001", phone="0101234567")
        assert answer is not None and answer["error"]["code"] == "forbidden", topic
    assert m.engine.state.tickets == {}
    assert (m.send(T.counter_cmd("counter-w1", "w1", "call-next"), own("counter-w1")) or {})["ok"]


def test_rate_limits_and_lanes_are_keyed_on_the_topics_unit(tmp_path: Path) -> None:
    m = Master(tmp_path / "master.db")
    limit = CONFIG.master.tickets_per_minute
    for _ in range(limit):
        assert (m.send(T.ticket_cmd("k1", "issue"), own("k1"), service="building") or {})["ok"]
    over = m.send(T.ticket_cmd("k1", "issue"), own("k1"), service="building")
    assert over is not None and over["error"]["code"] == "rate_limited"
    # k1's flood named another unit's reply topic: nothing counted against it.
    for _ in range(limit):
        assert m.send(T.ticket_cmd("k1", "issue"), own("tech"), service="building") is None
    assert (m.send(T.ticket_cmd("tech", "issue"), own("tech"), service="building") or {})["ok"]
    msg = Message(T.ticket_cmd("k1", "issue"), b"{}", response_topic=own("tech"))
    assert m.authority.lane(msg) == ("ticket", "k1")
