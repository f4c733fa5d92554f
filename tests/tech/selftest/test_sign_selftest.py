"""`nidaa test display` against the display firmware on a pty."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from appliance.cli.env import ExitCode
from appliance.drivers.sign.simulated import SimulatedBoard
from appliance.drivers.sign.simulated_vendor import VendorBoard
from tests.support.selftest import assert_shape, branch, nidaa, nidaa_json


@pytest.fixture
def board() -> Iterator[SimulatedBoard]:
    with SimulatedBoard(address=1, digits=4) as b:
        yield b


def display_on(port: str) -> str:
    return f'port = "{port}", address = 1, digits = 4, rs485 = "off", retries = 1, timeout_ms = 100'


def test_every_pattern_is_acknowledged(tmp_path: Path, board: SimulatedBoard) -> None:
    config = branch(tmp_path, display=display_on(board.port))
    code, out, _ = nidaa(
        "test", "display", "--config", str(config), "--unit", "counter-w1", "--pause", "0"
    )
    assert code == ExitCode.OK, out
    assert "ok   ping: answered 'NDP/1 fw=1.0 digits=4'" in out
    assert out.strip().splitlines()[-1] == "PASS display test of counter-w1"
    # What went over the wire: all segments with their dots, then window 1.
    wire = bytes(board.received)
    assert b"T8.8.8.8." in wire and b"N1" in wire and b"K3" in wire
    assert board.text() == "", "the test leaves the display clear"
    replies = board.replies()
    # ping, brightness, 8.8.8.8., window, blink, 5 brightness levels, restore, clear
    assert len(replies) == 12
    assert all(r.cmd == 0x06 for r in replies), "every command was ACKed"


def test_silent_display_fails_with_no_ack(tmp_path: Path, board: SimulatedBoard) -> None:
    board.silent = True
    config = branch(tmp_path, display=display_on(board.port))
    code, obj = nidaa_json(
        "test", "display", "--config", str(config), "--unit", "counter-w1", "--pause", "0"
    )
    assert code == ExitCode.HARDWARE
    assert_shape(obj, "display")
    assert obj["steps"] == [{"step": "ping", "ok": False, "detail": obj["steps"][0]["detail"]}]
    assert "no answer" in obj["verdict"]
    assert any("A to A, B to B" in c for c in obj["checks"])


def test_missing_port(tmp_path: Path) -> None:
    config = branch(tmp_path, display=display_on(str(tmp_path / "ttyUSB7")))
    code, out, _ = nidaa("test", "display", "--config", str(config), "--unit", "counter-w1")
    assert code == ExitCode.HARDWARE
    assert "cannot open display port" in out and "does not exist" in out


def test_busy_port_names_the_counter_daemon(tmp_path: Path, board: SimulatedBoard) -> None:
    config = branch(tmp_path, display=display_on(board.port))
    with serial.Serial(board.port, exclusive=True):  # the counter daemon has it
        code, obj = nidaa_json("test", "display", "--config", str(config), "--unit", "counter-w1")
    assert code == ExitCode.HARDWARE
    assert "busy" in obj["verdict"]
    assert any("systemctl stop nidaa-counter" in c for c in obj["checks"])


def test_unknown_unit_is_a_config_error(tmp_path: Path) -> None:
    code, obj = nidaa_json("test", "display", "--config", str(branch(tmp_path)), "--unit", "w9")
    assert code == ExitCode.CONFIG
    assert obj["ok"] is False and obj["device"] == "display"
    assert obj["problems"] == [{"path": "counter_units", "message": "no counter unit 'w9'"}]


def test_vendor_display_gets_its_frames_and_the_technician_is_told_to_look(
    tmp_path: Path,
) -> None:
    with VendorBoard() as vendor:
        table = f'port = "{vendor.port}", protocol = "vendor", address = 2, rs485 = "off"'
        config = branch(tmp_path, display=table)
        code, obj = nidaa_json(
            "test", "display", "--config", str(config), "--unit", "counter-w1", "--pause", "0"
        )
        assert code == ExitCode.OK
        assert_shape(obj, "display")
        assert [s["step"] for s in obj["steps"]] == ["all segments", "window number", "clear"]
        assert any("does not answer" in w for w in obj["warnings"])
        assert vendor.wait_for(2, "")
        assert vendor.shown[2] == ["8.8.8.8.", "1", ""]
