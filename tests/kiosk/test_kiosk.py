"""The kiosk end to end: MockFactory pin presses → real Mosquitto → the master
as a real process → the simulated printer's bytes, decoded back to the ticket.

The kiosk runs in this process (its pins are MockFactory pins the test
drives) with an injected clock for debounce, hold and cooldown; the master is
a real process with its own SQLite file.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import ImageChops

from appliance.drivers.buttons import pin_factory, reset_mock_factory
from appliance.drivers.printer import PrinterState, decode_raster
from appliance.drivers.printer.simulated import SimulatedPrinter
from appliance.errors import ConfigError, HardwareError
from appliance.kiosk.config import KioskButton, PrinterSettings
from appliance.kiosk.daemon import KioskDaemon
from appliance.kiosk.ticket import face_from_answer, render_ticket
from appliance.sim.harness.broker import Mosquitto
from appliance.sim.harness.procs import wait_until
from tests.support import running_branch
from tests.support.kiosk import (
    BUZZER,
    LED_FAULT,
    LED_OK,
    PIN_BUILDING,
    PIN_PRIORITY,
    PIN_PRIORITY_BUILDING,
    PIN_RECONCILE,
    Rig,
    kiosk_unit,
    rig,
    tickets,
)


def assert_prints_ticket(r: Rig, job: bytes, result: dict[str, Any]) -> None:
    cfg = r.branch.config
    expected = render_ticket(cfg, face_from_answer(cfg, result), 384, r.kiosk.unit.ticket)
    printed = decode_raster(job)
    assert printed.size == expected.size
    assert ImageChops.difference(printed.convert("L"), expected.convert("L")).getbbox() is None


# -- the normal path ----------------------------------------------------------


def test_press_prints_the_masters_ticket(tmp_path: Path, broker: Mosquitto) -> None:
    with rig(tmp_path, broker) as r:
        assert r.led(LED_OK) and not r.led(LED_FAULT)
        r.press(PIN_BUILDING)
        assert r.wait_printed(1, timeout=15)
        printed = r.kiosk.counts.history[0]
        ticket = printed.result["ticket"]
        assert ticket["number"] == "A001" and ticket["priority"] is False
        assert printed.job_sha256 == hashlib.sha256(r.printer.jobs[0]).hexdigest()
        assert_prints_ticket(r, r.printer.jobs[0], printed.result)
        r.press(PIN_RECONCILE)
        assert r.wait_printed(2, timeout=15)
        assert r.kiosk.counts.history[1].result["ticket"]["number"] == "B001"
        assert wait_until(
            lambda: (r.watch.latest(r.status_topic) or {}).get("tickets_printed") == 2, 10
        )
        assert r.wait_status("online")["presses"] == 2
    assert tickets(r.branch.db) == {"A001": "waiting", "B001": "waiting"}


def test_past_its_tickets_a_minute_a_kiosk_is_refused_and_shows_the_fault(
    tmp_path: Path, broker: Mosquitto
) -> None:
    one = {"[master]\n": "[master]\ntickets_per_minute = 1\n"}
    with running_branch(tmp_path, broker.url, replace=one) as branch:
        r = Rig(branch, kiosk_unit())
        try:
            r.press(PIN_BUILDING)
            assert r.wait_printed(1, timeout=15)
            r.clock.advance(3)  # past the button's cooldown
            r.press(PIN_BUILDING)
            body = r.wait_status("degraded", "rate_limited")
            assert body["presses"] == 2 and len(r.printer.jobs) == 1
        finally:
            r.close()
    assert tickets(branch.db) == {"A001": "waiting"}


def test_priority_buttons(tmp_path: Path, broker: Mosquitto) -> None:
    with rig(tmp_path, broker) as r:
        r.press(PIN_PRIORITY_BUILDING)  # a priority button of its own service
        assert r.wait_printed(1, timeout=15)
        r.press(PIN_PRIORITY)  # the general priority button marks the next press
        r.press(PIN_RECONCILE)
        assert r.wait_printed(2, timeout=15)
        r.clock.advance(3)
        r.press(PIN_RECONCILE)  # unmarked again
        assert r.wait_printed(3, timeout=15)
        results = [p.result["ticket"] for p in r.kiosk.counts.history]
        assert [(t["service"], t["priority"]) for t in results] == [
            ("building", True),
            ("reconcile", True),
            ("reconcile", False),
        ]
        assert_prints_ticket(r, r.printer.jobs[1], r.kiosk.counts.history[1].result)


# -- buttons: bounce, hold, cooldown --------------------------------------------


def test_bounce_hold_and_cooldown_give_one_ticket_each(tmp_path: Path, broker: Mosquitto) -> None:
    with rig(tmp_path, broker) as r:
        pin = r.factory.pin(PIN_BUILDING)
        for _ in range(5):  # a chattering contact
            pin.drive_low()
            r.clock.advance(0.004)
            pin.drive_high()
            r.clock.advance(0.003)
        pin.drive_low()
        r.clock.advance(30)  # then held for half a minute
        pin.drive_high()
        r.clock.advance(0.3)
        for _ in range(4):  # hammered by a child within the cooldown... of the next press
            r.press(PIN_RECONCILE, hold=0.1)
        # Both buttons gave exactly one press: a third button's ticket comes
        # next, so nothing else was queued in between.
        r.press(PIN_PRIORITY_BUILDING)
        assert r.wait_printed(3, timeout=20)
        numbers = [p.result["ticket"]["number"] for p in r.kiosk.counts.history]
        assert numbers == ["A001", "B001", "A002"]
        assert r.kiosk.buttons.detectors["b0"].counts.bounces >= 5
        assert r.kiosk.buttons.detectors["b1"].counts.cooldown == 3
    assert len(tickets(r.branch.db)) == 3


# -- faults -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (PrinterState.PAPER_OUT, "printer_paper_out"),
        (PrinterState.COVER_OPEN, "printer_cover_open"),
        ("garbage", "printer_unknown"),
    ],
)
def test_printer_fault_takes_no_number_and_recovers(
    tmp_path: Path, broker: Mosquitto, fault: Any, code: str
) -> None:
    with rig(tmp_path, broker) as r:
        if fault == "garbage":
            r.printer.garble_status(b"\xff\x00")
        else:
            r.printer.set_state(fault)
        r.press(PIN_BUILDING)
        body = r.wait_status("degraded", code)
        assert body["printer"]["state"] == code.removeprefix("printer_")
        assert wait_until(lambda: r.kiosk.counts.refused == 1, 10)
        assert r.led(LED_FAULT) and not r.led(LED_OK)
        assert wait_until(lambda: len(r.factory.pin(BUZZER).states) >= 6, 10)  # three beeps
        assert r.printer.jobs == []
        assert tickets(r.branch.db) == {}, "a number was taken with the printer down"
        r.printer.set_state(PrinterState.READY)
        r.wait_status("online")  # by itself, no press needed
        assert r.led(LED_OK) and not r.led(LED_FAULT)
        r.clock.advance(3)
        r.press(PIN_BUILDING)
        assert r.wait_printed(1, timeout=15)
    assert tickets(r.branch.db) == {"A001": "waiting"}


def test_print_failure_after_issue_voids_the_ticket(tmp_path: Path, broker: Mosquitto) -> None:
    with rig(tmp_path, broker) as r:
        r.printer.fail_next_job(after_bytes=300, then=PrinterState.PAPER_OUT)
        r.press(PIN_BUILDING)
        body = r.wait_status("degraded", "print_failed")
        assert "A001" in " ".join(f["message"] for f in body["faults"])
        assert wait_until(lambda: r.kiosk.counts.voided == 1, 10)
        assert len(r.printer.failed_jobs) == 1 and r.printer.jobs == []
        assert tickets(r.branch.db) == {"A001": "voided"}
        snapshot = r.branch.snapshot()
        assert all(s["waiting"] == 0 for s in snapshot["services"])


def test_master_down_no_ticket_then_recovers(tmp_path: Path, broker: Mosquitto) -> None:
    with rig(tmp_path, broker) as r:
        r.branch.master.kill()  # its Last Will says offline
        r.wait_status("degraded", "master_unreachable")
        assert r.led(LED_FAULT)
        r.press(PIN_BUILDING)
        assert wait_until(lambda: r.kiosk.counts.refused == 1, 10)
        assert r.printer.jobs == []
        r.branch.master.start()
        r.wait_status("online")
        r.clock.advance(3)
        r.press(PIN_BUILDING)
        assert r.wait_printed(1, timeout=15)
        assert r.kiosk.counts.history[0].result["ticket"]["number"] == "A001"


def test_master_silent_times_out_and_the_press_is_refused(
    tmp_path: Path, broker: Mosquitto
) -> None:
    import signal

    with rig(tmp_path, broker) as r:
        r.branch.master.signal(signal.SIGSTOP)  # alive for the broker, deaf to us
        try:
            r.press(PIN_BUILDING)
            r.wait_status("degraded", "master_unreachable")
            assert r.printer.jobs == [] and r.kiosk.counts.refused == 1
        finally:
            r.branch.master.signal(signal.SIGCONT)
        # Whatever the master did with the late command, no waiting ticket
        # without a printed paper is left behind.
        assert wait_until(lambda: tickets(r.branch.db).get("A001", "voided") == "voided", 20)
        assert wait_until(lambda: not r.kiosk._orphans and not r.kiosk._pending_voids, 20)
        r.clock.advance(3)
        r.press(PIN_RECONCILE)
        assert r.wait_printed(1, timeout=15)
        r.wait_status("online")


# -- start-up errors ----------------------------------------------------------


def test_missing_printer_is_a_startup_error(tmp_path: Path, broker: Mosquitto) -> None:
    with running_branch(tmp_path, broker.url) as branch:
        reset_mock_factory()
        unit = kiosk_unit(
            printer=PrinterSettings(backend="serial", serial_port=str(tmp_path / "ttyUSB7"))
        )
        with pytest.raises(HardwareError, match="ttyUSB7"):
            KioskDaemon(branch.config, unit, factory=pin_factory("mock", environ={}))


def test_pin_used_twice_is_a_config_error(tmp_path: Path) -> None:
    from appliance.config.branch import parse_config
    from tests.support import EXAMPLE_CONFIG

    text = EXAMPLE_CONFIG.read_text(encoding="utf-8").replace("buzzer_pin = 27", "buzzer_pin = 5")
    with pytest.raises(ConfigError, match="GPIO5 is used more than once") as err:
        parse_config(text)
    assert err.value.problems[0][0] == "kiosks[0]"


def test_unknown_service_on_a_button(tmp_path: Path, broker: Mosquitto) -> None:
    with running_branch(tmp_path, broker.url) as branch:
        cfg = replace(branch.config, kiosks=[kiosk_unit(buttons=[KioskButton(pin=4, service="Z")])])
        with pytest.raises(ConfigError, match=r"kiosks\[0\]\.buttons\[0\]\.service"):
            KioskDaemon(cfg, cfg.kiosks[0], printer=SimulatedPrinter(), factory=None)


def test_paper_nearly_out_is_reported_but_tickets_go_on(tmp_path: Path, broker: Mosquitto) -> None:
    with rig(tmp_path, broker) as r:
        r.printer.set_state(PrinterState.READY, paper_low=True)
        assert wait_until(
            lambda: (r.watch.latest(r.status_topic) or {}).get("printer", {}).get("paper_low"), 10
        )
        assert r.wait_status("online")["printer"]["reason"] == "paper roll nearly empty"
        r.press(PIN_BUILDING)
        assert r.wait_printed(1, timeout=15)
        assert r.led(LED_OK) and not r.led(LED_FAULT)


def test_a_ticket_that_cannot_be_drawn_is_voided(
    tmp_path: Path, broker: Mosquitto, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("font file vanished")

    with rig(tmp_path, broker) as r:
        monkeypatch.setattr(r.kiosk.tickets, "job", broken)
        r.press(PIN_BUILDING)
        body = r.wait_status("degraded", "print_failed")
        assert "font file vanished" in " ".join(f["message"] for f in body["faults"])
        assert wait_until(lambda: r.kiosk.counts.voided == 1, 10)
        assert tickets(r.branch.db) == {"A001": "voided"} and r.printer.jobs == []
