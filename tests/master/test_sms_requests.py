"""The master's side of SMS: requests, stages and the acknowledged stage outbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from appliance.bus.client import Message
from appliance.bus.topics import Topics
from appliance.config.branch import Config, load_config
from appliance.master.daemon import MasterDaemon
from appliance.master.requests import Requests
from appliance.queue import QueueEngine
from tests.support import EXAMPLE_CONFIG

PHONE = "+201012345678"


class FakeBus:
    """Records what the master publishes and answers."""

    def __init__(self, branch: str) -> None:
        self.topics = Topics(branch)
        self.connected = True
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.replies: list[dict[str, Any]] = []
        self.master: MasterDaemon | None = None

    def publish(self, topic: str, payload: dict[str, Any], **_: Any) -> None:
        self.published.append((topic, payload))

    def reply(self, _msg: Message, body: dict[str, Any]) -> None:
        self.replies.append(body)


class Clock:
    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Master(MasterDaemon):
    """The real master's command pipeline, answering into a :class:`FakeBus`."""

    def __init__(self, cfg: Config, db: Path, clock: Clock, bus: FakeBus) -> None:
        super().__init__(cfg, db_path=str(db), clock=clock)
        self.bus = self.requests.bus = bus  # type: ignore[assignment]
        self.requests.gateways["sms1"] = True  # the gateway says it is online

    def _answer(self, msg: Message, body: dict[str, Any]) -> None:
        self.bus.reply(msg, body)

    def publish_changes(self, changes: Any) -> None:
        pass

    def publish_events(self) -> None:
        pass


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Requests, FakeBus, QueueEngine, Clock, Config]:
    cfg = load_config(EXAMPLE_CONFIG)
    bus = FakeBus(cfg.branch.id)
    clock = Clock()
    bus.master = master = Master(cfg, tmp_path / "master.db", clock, bus)
    return master.requests, bus, master.engine, clock, cfg


def send(req: Requests, action: str, payload: bytes) -> None:
    bus: FakeBus = req.bus  # type: ignore[assignment]
    assert bus.master is not None
    topic = bus.topics.request_cmd("clerk", action)
    reply = bus.topics.reply("clerk", "clerk")
    bus.master.handle(Message(topic, payload, response_topic=reply, correlation=b"c"))


def command(req: Requests, action: str, **payload: Any) -> dict[str, Any]:
    bus: FakeBus = req.bus  # type: ignore[assignment]
    send(req, action, json.dumps(payload).encode())
    return bus.replies[-1]


def stage_events(bus: FakeBus) -> list[dict[str, Any]]:
    return [p for t, p in bus.published if t == bus.topics.event("stage")]


def test_register_emits_issued_with_the_full_number_and_answers_masked(setup: Any) -> None:
    req, bus, engine, clock, _ = setup
    for _ in range(6):
        engine.issue("A", False, clock())
    answer = command(req, "register", id="c1", ticket="A006", phone="010-1234-5678", ref="R1")
    assert answer["ok"], answer
    assert answer["result"]["request"] == {
        "ref": "R1",
        "ticket": "A006",
        "phone": "+20 10* *** **78",
        "stage": "issued",
    }
    (event,) = stage_events(bus)
    assert (event["stage"], event["phone"], event["ticket"], event["ref"]) == (
        "issued",
        PHONE,
        "A006",
        "R1",
    )
    # The same command again (a retried press): same answer, no second event.
    again = command(req, "register", id="c1", ticket="A006", phone="010-1234-5678", ref="R1")
    assert again == answer
    # The same id with another body is not a retry: refused, nothing applied.
    other = command(req, "register", id="c1", ticket="A006", phone=PHONE, ref="R1")
    assert other["error"]["code"] == "id_reused"
    req.publish(force=True)
    assert len({e["id"] for e in stage_events(bus)}) == 1


def test_near_and_called_follow_the_queue(setup: Any) -> None:
    req, bus, engine, clock, _ = setup
    for _ in range(5):
        engine.issue("A", False, clock())
    command(req, "register", id="c1", ticket="A005", phone=PHONE, ref="R1")  # 4 ahead
    with req.store.transaction():
        called, _ = engine.call_next("w2", clock())
        req.after_change(engine, [called] if called else [], clock())
    req.publish()
    assert [e["stage"] for e in stage_events(bus)] == ["issued", "near"]
    for _ in range(3):
        engine.call_next("w2", clock())
    with req.store.transaction():
        called, _ = engine.call_next("w3", clock())
        assert called is not None and called.label == "A005"
        req.after_change(engine, [called], clock())
    req.publish()
    events = stage_events(bus)
    assert [e["stage"] for e in events] == ["issued", "near", "called"]
    assert events[-1]["window"] == 3


def test_unacknowledged_events_are_published_again_until_acknowledged(setup: Any) -> None:
    req, bus, engine, clock, cfg = setup
    engine.issue("A", False, clock())
    command(req, "register", id="c1", ticket="A001", phone=PHONE, ref="R1")
    assert len(stage_events(bus)) == 1
    req.publish()  # too early to resend
    assert len(stage_events(bus)) == 1
    clock.now += cfg.sms.resend_unacked_s
    req.housekeeping(clock())
    assert len(stage_events(bus)) == 2
    event_id = stage_events(bus)[0]["id"]
    command(req, "ack", event=event_id)
    clock.now += cfg.sms.resend_unacked_s
    req.housekeeping(clock())
    assert len(stage_events(bus)) == 2
    bus.connected = False  # broker away: nothing counted as sent
    command(req, "stage", id="c2", ref="R1", stage="ready")
    bus.connected = True
    req.publish()
    assert [e["stage"] for e in stage_events(bus)][-1] == "ready"


def test_bad_requests_are_refused_clearly(setup: Any) -> None:
    req, bus, engine, clock, _ = setup
    engine.issue("A", False, clock())
    cases = [
        ("register", {"id": "a", "ticket": "A001", "phone": "0123"}, "bad_phone"),
        ("register", {"id": "b", "ticket": "A999", "phone": PHONE}, "unknown_ticket"),
        (
            "register",
            {"id": "c", "ticket": "A001", "phone": PHONE, "ref": "no spaces"},
            "bad_request",
        ),
        ("stage", {"id": "d", "ref": "nope", "stage": "ready"}, "unknown_request"),
        ("stage", {"id": "e", "ref": "R1", "stage": "teleported"}, "unknown_stage"),
        ("stage", {"ref": "R1", "stage": "ready"}, "bad_request"),
        ("launch", {"id": "f"}, "unknown_command"),
    ]
    for action, payload, code in cases:
        answer = command(req, action, **payload)
        assert answer["ok"] is False and answer["error"]["code"] == code, (action, answer)
        assert "1012345678" not in json.dumps(answer)
    assert stage_events(bus) == []
    send(req, "register", b"not json")
    assert bus.replies[-1]["error"]["code"] == "bad_json"


def test_phone_numbers_are_purged_after_the_retention(setup: Any) -> None:
    req, _bus, engine, clock, cfg = setup
    engine.issue("A", False, clock())
    command(req, "register", id="c1", ticket="A001", phone=PHONE, ref="R1")
    clock.now += cfg.sms.retention_days * 86400 + 3601
    req.housekeeping(clock())
    db = req.store.db
    assert db.execute("SELECT COUNT(*) FROM sms_requests").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM sms_stage_events").fetchone()[0] == 0
    assert command(req, "stage", id="c2", ref="R1", stage="ready")["error"]["code"] == (
        "unknown_request"
    )


def test_only_the_gateway_may_acknowledge_stage_events() -> None:
    from appliance.tech.accounts import Account, rules

    t = Topics("b")
    assert ("write", t.request_cmd("sms1", "ack")) in rules(t, Account("sms1", "sms-gateway"))
    for acc in (Account("w1", "counter"), Account("backoffice", "backoffice")):
        me = acc.username
        granted = rules(t, acc)
        assert not [topic for _, topic in granted if topic.endswith("/ack") or "#" in topic]
        assert ("write", t.request_cmd(me, "register")) in granted
        assert ("write", t.request_cmd(me, "stage")) in granted
