"""The master as a real process against a real Mosquitto."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from appliance.errors import QueueError
from appliance.sim.harness.broker import Mosquitto
from tests.support import Watcher, running_branch


def db_rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql))


def test_issue_call_and_finish_a_ticket(broker: Mosquitto, tmp_path: Path) -> None:
    with running_branch(tmp_path, broker.url) as b:
        t = b.topics = b.config_topics()
        watch = Watcher(b.config, t.event("call"), t.all_counter_states, t.all_service_states)
        first = b.issue("A")["ticket"]
        second = b.issue("building")
        assert first["number"] == "A001" and first["service"] == "building"
        assert first["issued_at"].endswith("+02:00")  # Cairo time
        assert second["ticket"]["number"] == "A002"
        assert second["estimate"]["people_ahead"] == 1

        called = b.counter("w2", "call-next")
        assert called["ticket"]["number"] == "A001" and called["ticket"]["window"] == 2
        event = watch.wait_for(lambda m: m.topic == t.event("call"))
        assert event.json()["ticket"] == "A001" and event.json()["window"] == 2
        state = watch.wait_for(
            lambda m: m.topic == t.counter_state("w2") and m.json()["state"] == "serving"
        )
        assert state.json()["ticket"]["number"] == "A001"

        again = b.counter("w2", "call-next")  # finishes A001, calls A002
        assert again["finished"]["number"] == "A001" and again["finished"]["state"] == "served"
        assert again["ticket"]["number"] == "A002"
        assert b.counter("w2", "done")["ticket"]["state"] == "served"
        assert b.counter("w2", "call-next")["ticket"] is None
        watch.close()
    states = dict(db_rows(b.db, "SELECT label, state FROM tickets"))
    assert states == {"A001": "served", "A002": "served"}


def test_priority_window_and_policies(broker: Mosquitto, tmp_path: Path) -> None:
    with running_branch(tmp_path, broker.url) as b:
        b.issue("A")
        b.issue("A", priority=True)
        # w1 is the priority window: the priority ticket first.
        called = b.counter("w1", "call-next")["ticket"]
        assert called["number"] == "A002" and called["priority"] is True
        assert b.counter("w1", "call-next")["ticket"]["number"] == "A001"


def test_recall_no_show_transfer_pause(broker: Mosquitto, tmp_path: Path) -> None:
    with running_branch(tmp_path, broker.url) as b:
        for _ in range(3):
            b.issue("B")
        b.counter("w4", "call-next")
        assert b.counter("w4", "recall")["ticket"]["recalls"] == 1
        assert b.counter("w4", "recall")["ticket"]["recalls"] == 2
        auto = b.counter("w4", "recall")["ticket"]  # max_recalls = 2
        assert auto["number"] == "B001" and auto["state"] == "no_show"

        b.counter("w4", "call-next")
        moved = b.counter("w4", "transfer", service="inquiries")["ticket"]
        assert moved["number"] == "B002" and moved["service"] == "inquiries"
        assert moved["state"] == "waiting"
        assert b.counter("w6", "call-next")["ticket"]["number"] == "B002"

        assert b.counter("w4", "pause")["counter"]["state"] == "paused"
        with pytest.raises(QueueError) as info:
            b.counter("w4", "call-next")
        assert info.value.code == "counter_paused"
        assert b.counter("w4", "resume")["counter"]["state"] in ("idle", "serving")
        assert b.counter("w4", "call-next")["ticket"]["number"] == "B003"
        assert b.counter("w4", "no-show")["ticket"]["state"] == "no_show"


def test_a_repeated_command_id_is_applied_once(broker: Mosquitto, tmp_path: Path) -> None:
    with running_branch(tmp_path, broker.url) as b:
        one = b.issue("C", id="kiosk1-press-1")
        two = b.issue("C", id="kiosk1-press-1")
        assert one == two
        assert b.issue("C")["ticket"]["number"] == "C002"
        with pytest.raises(QueueError) as info:
            b.counter("w5", "call-next", id="kiosk1-press-1")
        assert info.value.code == "id_reused"
    assert db_rows(b.db, "SELECT COUNT(*) FROM tickets") == [(2,)]


@pytest.mark.parametrize(
    ("topic_args", "payload", "code"),
    [
        (("ticket", "issue"), b"{not json", "bad_json"),
        (("ticket", "issue"), b'{"service": "A"}', "bad_request"),
        (("ticket", "issue"), b'{"id": "x1", "service": "Z"}', "unknown_service"),
        (("ticket", "issue"), b'{"id": "x2", "service": 7}', "bad_request"),
        (("ticket", "issue"), b"[1, 2]", "bad_json"),
        (("ticket", "frobnicate"), b'{"id": "x3"}', "unknown_command"),
        (("counter", "w9", "call-next"), b'{"id": "x4"}', "unknown_counter"),
        (("counter", "w2", "done"), b'{"id": "x5"}', "no_current_ticket"),
        (("ticket", "void"), b'{"id": "x6", "ticket_id": 999, "reason": "x"}', "unknown_ticket"),
    ],
)
def test_bad_commands_get_an_error_and_change_nothing(
    broker: Mosquitto, tmp_path: Path, topic_args: tuple[str, ...], payload: bytes, code: str
) -> None:
    import uuid

    from paho.mqtt.packettypes import PacketTypes

    from appliance.bus.wire import properties

    with running_branch(tmp_path, broker.url) as b:
        t = b.config_topics()
        b.issue("A")
        before = db_rows(b.db, "SELECT * FROM tickets")
        reply = Watcher(b.config)
        topic = f"{t.base}/cmd/{reply.bus.sender}/{'/'.join(topic_args)}"
        reply.watch(reply.bus.reply_topic)
        props = properties(PacketTypes.PUBLISH)
        props.ResponseTopic = reply.bus.reply_topic
        props.CorrelationData = uuid.uuid4().bytes
        reply.bus.publish(topic, payload, properties=props)
        answer = reply.wait_for(lambda m: m.topic == reply.bus.reply_topic).json()
        reply.close()
        assert answer["ok"] is False
        assert answer["error"]["code"] == code
        assert answer["error"]["message"]
        # still serving, nothing written
        assert b.issue("A")["ticket"]["number"] == "A002"
    after = db_rows(b.db, "SELECT * FROM tickets WHERE label = 'A001'")
    assert after == before


def test_transferring_a_finished_ticket_is_refused(broker: Mosquitto, tmp_path: Path) -> None:
    with running_branch(tmp_path, broker.url) as b:
        b.issue("A")
        b.counter("w2", "call-next")
        b.counter("w2", "done")
        with pytest.raises(QueueError) as info:
            b.counter("w2", "transfer", service="shops")
        assert info.value.code == "no_current_ticket"
        with pytest.raises(QueueError) as info:
            b.counter("w2", "transfer", service="nowhere")
        assert info.value.code in ("unknown_service", "no_current_ticket")


def test_last_will_marks_a_killed_master_offline(broker: Mosquitto, tmp_path: Path) -> None:
    with running_branch(tmp_path, broker.url) as b:
        topic = b.config_topics().status("master", "master")
        b.master.kill()
        msg = b.watch.wait_for(lambda m: m.topic == topic and m.json()["state"] == "offline", 30)
        assert msg.json()["role"] == "master"
        b.master.start()
        b.wait_master_online()
        assert b.issue("A")["ticket"]["number"] == "A001"


def test_snapshot_reports_waiting_and_serving(broker: Mosquitto, tmp_path: Path) -> None:
    with running_branch(tmp_path, broker.url) as b:
        b.issue("D")
        b.issue("D", priority=True)
        b.issue("E")
        b.counter("w6", "call-next")
        snap = b.snapshot()
        services = {s["service"]: s for s in snap["services"]}
        assert services["utilities"]["waiting"] + services["inquiries"]["waiting"] == 2
        counters = {c["counter"]: c for c in snap["counters"]}
        assert counters["w6"]["state"] == "serving"
        assert counters["w1"]["priority_window"] is True
        assert counters["w2"]["state"] == "closed"
        json.dumps(snap)  # plain JSON all the way down
