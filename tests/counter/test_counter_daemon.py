"""End to end: a MockFactory button → Mosquitto → the master process → the
display driver → pty → the firmware code → the simulated MAX7219."""

from __future__ import annotations

from pathlib import Path

import ndp  # firmware/ndp.py

from appliance.counter.daemon import CounterDaemon
from appliance.sim.harness.broker import Mosquitto
from tests.support import Watcher
from tests.support.counter import (
    NEXT,
    PAUSE,
    RECALL,
    SATISFIED,
    TRANSFER,
    board,
    counter_branch,
    tap,
)


def blinks(data: bytes) -> int:
    return sum(1 for f in ndp.Parser().feed(data) if f.cmd == ndp.CMD_BLINK)


def wait_call_shown(daemon: CounterDaemon, call: tuple[int, int]) -> None:
    """Until the display acknowledged the number and the blink of ``call``."""
    assert daemon.keeper is not None
    assert daemon.keeper.wait_shown(lambda v: v.call == call, 10), daemon.keeper.acked


def test_next_press_shows_the_number_on_the_display(broker: Mosquitto, tmp_path: Path) -> None:
    with counter_branch(tmp_path, broker.url) as (b, daemon, clock):
        sim = board(daemon)
        assert sim.wait_for("")  # closed: the clerk has not called anyone yet today
        b.issue("A")
        b.issue("A")
        tap(daemon, NEXT)
        assert sim.wait_for("A001"), sim.text()
        assert daemon.wait_outcome(1, 10)
        wait_call_shown(daemon, (1, 0))
        assert blinks(bytes(sim.received)) == 1  # a new call blinks

        left = daemon.next_guard_left()  # the guard, less the press's own release
        assert 0 < left < daemon.unit.next_guard_s
        tap(daemon, NEXT)  # a clumsy second press at once: no citizen skipped
        assert daemon.press("next") is False
        assert len(daemon.outcomes) == 1 and sim.text() == "A001"
        left = daemon.next_guard_left()
        clock.advance(left - 0.5)
        assert 0.4 < daemon.next_guard_left() < 0.6 and daemon.press("next") is False

        clock.advance(5)
        assert daemon.next_guard_left() == 0
        tap(daemon, NEXT)
        assert sim.wait_for("A002"), sim.text()
        wait_call_shown(daemon, (2, 0))
        assert blinks(bytes(sim.received)) == 2

        tap(daemon, RECALL)
        assert daemon.wait_outcome(3, 10)
        assert daemon.outcomes[-1][1]["ticket"]["recalls"] == 1  # type: ignore[index]
        wait_call_shown(daemon, (2, 1))
        assert blinks(bytes(sim.received)) == 3  # a recall blinks again
        assert sim.text() == "A002"


def test_pause_transfer_feedback_and_hold(broker: Mosquitto, tmp_path: Path) -> None:
    with counter_branch(tmp_path, broker.url) as (b, daemon, clock):
        sim = board(daemon)
        for _ in range(3):
            b.issue("A")
        tap(daemon, NEXT)
        assert sim.wait_for("A001")
        tap(daemon, SATISFIED)  # nobody's service has ended yet: nothing to rate
        clock.advance(5)
        tap(daemon, NEXT)
        assert sim.wait_for("A002")
        tap(daemon, SATISFIED)  # A001's citizen rates the service
        tap(daemon, SATISFIED)  # once only
        assert daemon.wait_outcome(3, 10)
        assert daemon.outcomes[2][0] == "feedback", daemon.outcomes
        rated = daemon.outcomes[2][1]["ticket"]  # type: ignore[index]
        assert rated["number"] == "A001" and rated.get("rating", "satisfied") == "satisfied"

        tap(daemon, TRANSFER)
        assert sim.wait_for("----")  # A002 went to inquiries; nobody at w2
        assert daemon.wait_outcome(4, 10)
        assert daemon.outcomes[3][1]["ticket"]["service"] == "inquiries"  # type: ignore[index]

        clock.advance(5)
        tap(daemon, NEXT)
        assert sim.wait_for("A003")
        pin = daemon.pin_factory.pin(RECALL)  # held 2 s: no-show
        pin.drive_low()
        clock.advance(2)
        assert daemon.buttons is not None
        daemon.buttons.board.tick()  # what the board's thread does every 50 ms
        pin.drive_high()
        assert daemon.wait_outcome(6, 10)
        assert daemon.outcomes[5][0] == "no-show"
        assert len(daemon.outcomes) == 6
        assert sim.wait_for("----")

        tap(daemon, PAUSE)
        assert sim.wait_for("PAU5")  # "PAUS": an S is a 5 on seven segments
        tap(daemon, PAUSE)
        assert sim.wait_for("----")


def test_offline_sign_when_the_master_goes_and_resync(broker: Mosquitto, tmp_path: Path) -> None:
    with counter_branch(tmp_path, broker.url) as (b, daemon, _):
        sim = board(daemon)
        b.issue("A")
        tap(daemon, NEXT)
        assert sim.wait_for("A001")
        b.master.stop()  # its status goes offline, as its Last Will would say
        assert sim.wait_for("OFF"), sim.text()
        b.master.start()
        b.wait_master_online()
        assert sim.wait_for("A001"), sim.text()  # resynced from the retained state


def test_display_faults_are_reported_and_calls_go_on(broker: Mosquitto, tmp_path: Path) -> None:
    extra = "timeout_ms = 50, retries = 1"
    with counter_branch(tmp_path, broker.url, extra) as (b, daemon, _):
        t = b.config_topics()
        status = t.status("counter", "cu-w2")
        watch = Watcher(b.config, status)
        sim = board(daemon)
        assert sim.wait_for("")
        sim.silent = True  # the display stops answering
        b.issue("A")
        tap(daemon, NEXT)
        assert daemon.wait_outcome(1, 10)
        assert daemon.outcomes[0][1]["ticket"]["number"] == "A001"  # type: ignore[index]
        bad = watch.wait_for(lambda m: m.topic == status and m.json()["state"] == "degraded")
        assert bad.json()["faults"][0]["code"] == "display_no_ack"
        sim.silent = False  # it answers again
        assert sim.wait_for("A001")
        watch.wait_for(
            lambda m: m is not bad and m.topic == status and m.json()["state"] == "online"
        )
        watch.close()


def test_missing_display_port_does_not_stop_the_counter(broker: Mosquitto, tmp_path: Path) -> None:
    extra = f'backend = "serial", port = "{tmp_path}/ttyNONE"'
    with counter_branch(tmp_path, broker.url, extra) as (b, daemon, _):
        t = b.config_topics()
        status = t.status("counter", "cu-w2")
        watch = Watcher(b.config, status)
        b.issue("A")
        tap(daemon, NEXT)
        assert daemon.wait_outcome(1, 10)
        assert daemon.outcomes[0][1]["ticket"]["number"] == "A001"  # type: ignore[index]
        bad = watch.wait_for(lambda m: m.topic == status and m.json()["state"] == "degraded")
        fault = bad.json()["faults"][0]
        assert fault["code"] == "display_port_missing" and "ttyNONE" in fault["message"]
        watch.close()


def test_broker_restart_shows_offline_then_resyncs(broker: Mosquitto, tmp_path: Path) -> None:
    with counter_branch(tmp_path, broker.url) as (b, daemon, _):
        sim = board(daemon)
        b.issue("A")
        tap(daemon, NEXT)
        assert sim.wait_for("A001")
        broker.stop()
        assert sim.wait_for("OFF", 10), sim.text()  # the broker is gone: so is the master
        broker.start()
        assert sim.wait_for("A001", 20), sim.text()  # resynced from the retained state
        b.wait_master_online()
