"""End to end: stage command → master → gateway → simulated modem, with real
processes, a real broker and the modem on a pty."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.bus.client import BusClient, new_command_id
from appliance.cli.env import Environment, ExitCode
from appliance.cli.main import run
from appliance.config.branch import Config, load_config
from appliance.drivers.modem.sim import SimulatedModem
from appliance.errors import QueueError
from appliance.sim.harness.procs import Daemon, wait_until
from tests.support import Watcher, running_branch, write_config
from tests.support.sms import PHONE, expected, sms_replace

PHONE2 = "+201112345600"


def nidaa(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), Environment(stdout=out, stderr=err, environ={}))
    return code, out.getvalue(), err.getvalue()


class GatewayProcess:
    def __init__(self, tmp_path: Path, config_path: Path) -> None:
        self.config = load_config(config_path)
        self.daemon = Daemon(["sms-gateway", "--config", str(config_path)], tmp_path / "gw.log")
        from appliance.bus.topics import Topics

        self.topics = Topics(self.config.branch.id)
        self.watch = Watcher(
            self.config,
            self.topics.status("sms-gateway", "sms1"),
            self.topics.request_cmd("sms1", "ack"),
        )

    def status(self) -> dict[str, Any]:
        return self.watch.latest(self.topics.status("sms-gateway", "sms1")) or {}

    def start(self) -> GatewayProcess:
        self.daemon.start()
        ok = wait_until(lambda: self.status().get("state") == "online", 20)
        assert ok, f"gateway not online: {self.status()}\n{self.daemon.log()}"
        return self

    def acks(self, event_id: str) -> list[dict[str, Any]]:
        return [
            json.loads(m.payload)
            for m in list(self.watch.messages)
            if m.topic == self.topics.request_cmd("sms1", "ack")
            and json.loads(m.payload)["event"] == event_id
        ]

    def close(self) -> None:
        self.daemon.stop()
        self.watch.close()


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatedModem]:
    with SimulatedModem(tmp_path / "modem") as modem:
        yield modem


@pytest.mark.slow
def test_stage_commands_reach_the_citizen_in_arabic(
    tmp_path: Path, broker: Any, sim: SimulatedModem
) -> None:
    with running_branch(tmp_path, broker.url, sms_replace(tmp_path, sim.link)) as b:  # type: ignore[arg-type]
        cfg, path = b.config, str(b.config_path)
        everything = Watcher(cfg, f"{b.config_topics().base}/#")
        gw = GatewayProcess(tmp_path, b.config_path).start()
        try:
            tickets = [b.issue("A")["ticket"]["number"] for _ in range(5)]
            assert tickets == ["A001", "A002", "A003", "A004", "A005"]
            code, out, err = nidaa(
                "request",
                "register",
                "A005",
                "--phone",
                "010 1234 5678",
                "--ref",
                "R-1",
                "--config",
                path,
            )
            assert code == ExitCode.OK, err
            assert "+20 10* *** **78" in out and "R-1" in out
            assert sim.wait_for("messages", 1), gw.daemon.log()
            assert sim.messages[0] == (PHONE, expected(cfg, "issued", ticket="A005", ref="R-1"))

            # A001 has nobody ahead: registered without a separate "near".
            code, _, err = nidaa(
                "request",
                "register",
                "a001",
                "--phone",
                "01112345600",
                "--ref",
                "R-2",
                "--config",
                path,
            )
            assert code == ExitCode.OK, err
            assert sim.wait_for("messages", 2)

            # Window 2 calls A001: R-2 is called, and R-1 (A005) has 3 ahead: near.
            b.counter("w2", "call-next")
            assert sim.wait_for("messages", 4), gw.daemon.log()
            assert sorted(sim.messages[2:]) == sorted(
                [
                    (PHONE2, expected(cfg, "called", ticket="A001", ref="R-2", window=2)),
                    (PHONE, expected(cfg, "near", ticket="A005", ref="R-1")),
                ]
            )
            for stage in ("ready", "inspection"):  # a configured and a custom stage
                code, out, err = nidaa("request", "stage", "R-1", stage, "--config", path)
                assert code == ExitCode.OK, err
            assert sim.wait_for("messages", 6)
            assert sim.messages[4:] == [
                (PHONE, expected(cfg, "ready", ticket="A005", ref="R-1")),
                (PHONE, expected(cfg, "inspection", ticket="A005", ref="R-1")),
            ]
            assert len(encoded_parts := [p for p in sim.sent if p.submit.concat]) >= 2
            assert all(p.submit.encoding == "ucs2" for p in encoded_parts)

            # Bad input: clear refusals, nothing sent.
            code, _, err = nidaa("request", "stage", "R-1", "teleported", "--config", path)
            assert code == ExitCode.REFUSED and "unknown_stage" in err and "ready" in err
            code, _, err = nidaa("request", "stage", "R-404", "ready", "--config", path)
            assert code == ExitCode.REFUSED and "unknown_request" in err
            code, _, err = nidaa("request", "register", "A002", "--phone", "0123", "--config", path)
            assert code == ExitCode.USAGE and "not an Egyptian mobile number" in err
            code, _, err = nidaa("request", "register", "Z999", "--phone", PHONE, "--config", path)
            assert code == ExitCode.REFUSED and "unknown_ticket" in err
            with pytest.raises(QueueError) as info:  # the master checks too
                b.cmd(
                    b.config_topics().request_cmd(b.client.sender, "register"),
                    ticket="A002",
                    phone="+4477",
                )
            assert info.value.code == "bad_phone"

            # nidaa sms test goes the same way.
            code, out, err = nidaa("sms", "test", "0101 234 5678", "--config", path)
            assert code == ExitCode.OK, err
            assert sim.wait_for("messages", 7)
            assert sim.messages[6] == (PHONE, expected(cfg, "test", ref="test"))

            # Every stage event was acknowledged; the gateway reports what it sent.
            assert wait_until(lambda: gw.status().get("outbox", {}).get("pending") == 0, 10)
            assert len(sim.messages) == 7
            # Phone numbers travel in full only in the clerk's command to the
            # master and in the stage event the gateway consumes.
            t = b.config_topics()
            assert any(b"1012345678" in m.payload for m in everything.messages)
            for m in list(everything.messages):
                command = t.parse_command(m.topic) if "/cmd/" in m.topic else None
                carrier = command is not None and command.name in (
                    "request/register",
                    "request/test",
                )
                if m.topic != t.event("stage") and not carrier:
                    assert b"1012345678" not in m.payload, m.topic
                    assert b"1112345600" not in m.payload, m.topic
        finally:
            gw.close()
            everything.close()


def publish_event(cfg: Config, **event: Any) -> None:
    uid = new_command_id("pub")
    bus = BusClient(cfg, role="tool", unit=uid, client_id=uid, presence=False)
    bus.start()
    try:
        assert bus.wait_connected(10)
        info = bus.publish(bus.topics.event("stage"), event, qos=1)
        info.wait_for_publish(5)
    finally:
        bus.stop()


def stage_event(event_id: str, stage: str = "ready", phone: str = PHONE) -> dict[str, Any]:
    return {
        "id": event_id,
        "ref": "R-9",
        "stage": stage,
        "phone": phone,
        "ticket": "B012",
        "window": None,
        "at": 0,
    }


@pytest.mark.slow
def test_duplicate_events_send_one_sms_and_garbage_is_survived(
    tmp_path: Path, broker: Any, sim: SimulatedModem
) -> None:
    path = write_config(tmp_path, broker.url, replace=sms_replace(tmp_path, sim.link))  # type: ignore[arg-type]
    gw = GatewayProcess(tmp_path, path).start()
    cfg = gw.config
    try:
        publish_event(cfg, **stage_event("ev-1"))
        publish_event(cfg, **stage_event("ev-1"))  # the master's resend
        assert wait_until(lambda: len(gw.acks("ev-1")) == 2, 10), gw.daemon.log()
        assert sim.wait_for("messages", 1)
        assert sim.messages == [(PHONE, expected(cfg, "ready", ref="R-9", ticket="B012"))]

        # Garbage on the bus and on the serial line: refused clearly, still running.
        bus_garbage = BusClient(cfg, role="tool", unit="junk", client_id="junk", presence=False)
        bus_garbage.start()
        assert bus_garbage.wait_connected(10)
        bus_garbage.publish(bus_garbage.topics.event("stage"), b"\xff not json").wait_for_publish(5)
        bus_garbage.stop()
        publish_event(cfg, **stage_event("ev-bad-phone", phone="0123"))
        publish_event(cfg, **stage_event("ev-bad-stage", stage="teleported"))
        assert wait_until(lambda: gw.acks("ev-bad-phone") and gw.acks("ev-bad-stage"), 10)
        assert "not an Egyptian mobile number" in gw.acks("ev-bad-phone")[0]["error"]
        assert "teleported" in gw.acks("ev-bad-stage")[0]["error"]
        sim.inject(b"\r\n\x00\xffRUBBISH\r\n+CDS: 9\r\nZZ\r\n")
        publish_event(cfg, **stage_event("ev-2", stage="completed"))
        assert sim.wait_for("messages", 2), gw.daemon.log()
        assert sim.messages[1] == (PHONE, expected(cfg, "completed", ref="R-9", ticket="B012"))
        assert gw.daemon.alive()
        assert wait_until(lambda: gw.status().get("rejected_events") == 3, 10)
    finally:
        gw.close()


@pytest.mark.slow
@pytest.mark.parametrize("network_got_it", [False, True])
def test_kill_9_mid_send_loses_nothing(
    tmp_path: Path, broker: Any, sim: SimulatedModem, network_got_it: bool
) -> None:
    path = write_config(tmp_path, broker.url, replace=sms_replace(tmp_path, sim.link))  # type: ignore[arg-type]
    gw = GatewayProcess(tmp_path, path).start()
    cfg = gw.config
    try:
        # The first PDU meets a modem that says nothing; the network took it or not.
        sim.silence_next(sent=network_got_it)
        publish_event(cfg, **stage_event("ev-1", stage="ready"))
        assert sim.wait_for("received", 1), gw.daemon.log()
        gw.daemon.kill()  # kill -9 while it waits for +CMGS
        publish_event(cfg, **stage_event("ev-2", stage="completed"))  # queued by the broker
        gw.daemon.start()
        assert sim.wait_for("messages", 2, timeout=20), gw.daemon.log()
        assert sorted(sim.messages) == sorted(
            [
                (PHONE, expected(cfg, "ready", ref="R-9", ticket="B012")),
                (PHONE, expected(cfg, "completed", ref="R-9", ticket="B012")),
            ]
        )
        assert wait_until(
            lambda: gw.status().get("outbox", {}).get("resent_after_crash") == 1, 10
        ), gw.status()
        # The one documented duplicate: the part in flight, and only that one.
        parts = [p.submit.concat for p in sim.sent]
        first = parts[0]
        assert first is not None and first[2] == 1
        assert parts.count(first) == (2 if network_got_it else 1)
        assert len(parts) == len(set(parts)) + (1 if network_got_it else 0)
    finally:
        gw.close()


def test_a_template_with_an_unknown_field_stops_the_gateway_at_start(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, "mqtt://127.0.0.1:1", replace={"{ref}، وسيتصل": "{reference}، وسيتصل"}
    )
    code, _, err = nidaa("sms-gateway", "--config", str(path))
    assert code == ExitCode.CONFIG
    assert "sms.templates.inspection: unknown field {reference}" in err


@pytest.mark.slow
def test_events_emitted_while_the_gateway_was_away_arrive_later(
    tmp_path: Path, broker: Any, sim: SimulatedModem
) -> None:
    import sqlite3

    with running_branch(tmp_path, broker.url, sms_replace(tmp_path, sim.link)) as b:  # type: ignore[arg-type]
        b.issue("A")
        b.cmd(
            b.config_topics().request_cmd(b.client.sender, "register"),
            ticket="A001",
            phone=PHONE,
            ref="R-7",
        )
        # No gateway has ever connected: nobody holds the event yet.  The
        # master keeps publishing it until the gateway acknowledges it.
        gw = GatewayProcess(tmp_path, b.config_path).start()
        try:
            assert sim.wait_for("messages", 1, timeout=15), gw.daemon.log()
            assert sim.messages == [(PHONE, expected(b.config, "issued", ticket="A001", ref="R-7"))]

            def acked() -> bool:
                with sqlite3.connect(b.db) as db:
                    row = db.execute("SELECT COUNT(*) FROM sms_stage_events WHERE acked_at IS NULL")
                    return bool(row.fetchone()[0] == 0)

            assert wait_until(acked, 10)
        finally:
            gw.close()


@pytest.mark.slow
def test_bench_hook_reports_encoder_rate_and_gateway_memory(tmp_path: Path, broker: Any) -> None:
    from appliance.sim.bench.sms import bench_sms_gateway
    from appliance.sim.hooks import BenchContext

    path = write_config(tmp_path, broker.url)
    ctx = BenchContext(load_config(path), path, broker.url, tmp_path, samples=10)
    result = bench_sms_gateway(
        ctx, events=6
    )  # a few SMS: at 3 the CPU used can stay below one clock tick
    assert set(result) == {"sms_encode_per_s", "rss_mb_sms", "cpu_ms_per_ticket_sms_gateway"}
    assert result["sms_encode_per_s"] > 0 and result["cpu_ms_per_ticket_sms_gateway"] > 0
    assert 5 < result["rss_mb_sms"] < 500
