"""Host display driver → pty → the firmware code → simulated MAX7219 registers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import ndp  # firmware/ndp.py
import pytest
import serial

from appliance.drivers.sign import DisplayError, Op, PortSettings, SerialDisplay, open_port
from appliance.drivers.sign.nidaa import COMMANDS, NidaaDecoder, NidaaFramer, crc8
from appliance.drivers.sign.simulated import SimulatedBoard, SimulatedDisplay
from appliance.drivers.sign.simulated_vendor import VendorBoard
from appliance.drivers.sign.vendor import VendorFramer
from appliance.sim.harness.procs import wait_until
from tests.support.firmware import DOC_EXAMPLES, hexbytes

# Per-try reply timeout.  Generous where the display answers (a busy machine
# must not cause a spurious retry); short where the test waits it out.
TIMEOUT = 1.0
SHORT = 0.1


@pytest.fixture
def board() -> Iterator[SimulatedBoard]:
    with SimulatedBoard(address=1) as b:
        yield b


@pytest.fixture
def display(board: SimulatedBoard) -> Iterator[SerialDisplay]:
    d = SerialDisplay(PortSettings(board.port), NidaaFramer(), 1, timeout=TIMEOUT, retries=3)
    yield d
    d.close()


# -- the host framer, independently of the firmware ---------------------------


def test_host_framer_writes_the_documented_bytes() -> None:
    kinds = {v[0]: k for k, v in COMMANDS.items()}
    for (addr, seq, cmd, data), wire in DOC_EXAMPLES:
        if cmd in kinds:
            assert NidaaFramer().encode(addr, seq, Op(kinds[cmd], data.decode())) == hexbytes(wire)
    assert crc8(b"123456789") == 0xF4


def test_host_decoder_reads_documented_replies() -> None:
    (ack,) = NidaaDecoder().feed(b"\xff noise " + hexbytes("02 01 00 06 79 03"))
    assert (ack.address, ack.seq, ack.ok) == (1, 0, True)
    (nak,) = NidaaDecoder().feed(hexbytes("02 01 05 15 43 0E 03"))
    assert (nak.seq, nak.ok, nak.reason) == (5, False, "bad checksum")
    assert NidaaDecoder().feed(hexbytes("02 01 05 15 43 0F 03")) == []  # garbled reply


def test_vendor_framer_bytes() -> None:
    framer = VendorFramer()
    assert framer.encode(1, 0, Op("number", "A123")) == hexbytes("02 30 31 41 31 32 33 03")
    assert framer.encode(12, 0, Op("clear")) == hexbytes("02 31 32 03")
    assert framer.encode(1, 0, Op("blink", "3")) is None
    assert framer.encode(1, 0, Op("brightness", "F")) is None
    with pytest.raises(ValueError):
        framer.encode(100, 0, Op("text", "x"))


# -- through the pty -----------------------------------------------------------


def test_show_number_reaches_the_max7219_registers(
    board: SimulatedBoard, display: SerialDisplay
) -> None:
    assert board.text() == "----"  # boot text
    display.show_number("A123")
    assert board.text() == "A123"  # the ACK came after the firmware drew it
    assert board.chip.registers[1] == 0x79  # rightmost digit "3"
    display.show_text("OFF")
    assert board.text() == "OFF"
    display.brightness(3)
    assert board.chip.intensity == 3
    assert display.ping().startswith("NDP/1 fw=")
    display.show_number("B7")
    display.blink(0)
    assert board.text() == "B7" and not board.lit()
    display.clear()
    assert board.text() == "" and board.lit()
    assert display.retries_used == 0


def test_bad_checksum_is_nakked_and_the_host_retries(
    board: SimulatedBoard, display: SerialDisplay
) -> None:
    board.garble(2)
    display.show_number("C042")
    assert board.text() == "C042"
    assert display.retries_used == 2
    naks = [r for r in board.replies() if r.cmd == ndp.NAK]
    assert [r.data for r in naks] == [b"C", b"C"]


def test_nak_on_every_try_is_a_nak_fault_then_recovers(
    board: SimulatedBoard, display: SerialDisplay
) -> None:
    board.garble(4)
    with pytest.raises(DisplayError) as err:
        display.show_number("A1")
    assert err.value.fault == "nak" and "bad checksum" in str(err.value)
    assert board.text() == "----"
    display.show_number("A2")  # the display answers again
    assert board.text() == "A2"


def test_refused_text_is_a_nak_fault(display: SerialDisplay, board: SimulatedBoard) -> None:
    with pytest.raises(DisplayError) as err:
        display.show_text("A#1")
    assert err.value.fault == "nak" and "cannot draw" in str(err.value)


def test_silent_display_is_reported_then_recovers(board: SimulatedBoard) -> None:
    display = SerialDisplay(PortSettings(board.port), NidaaFramer(), 1, timeout=SHORT, retries=3)
    board.silent = True
    with pytest.raises(DisplayError) as err:
        display.show_number("A5")
    assert err.value.fault == "no_ack"
    # the first try and three retries (the board thread may still be reading the last)
    assert wait_until(lambda: board.received.count(bytes([ndp.STX])) == 4, 5), board.received
    board.silent = False
    display.show_number("A6")
    assert board.text() == "A6"
    display.close()


def test_frame_for_another_address_gets_no_answer(board: SimulatedBoard) -> None:
    other = SerialDisplay(PortSettings(board.port), NidaaFramer(), 2, timeout=SHORT, retries=1)
    with pytest.raises(DisplayError) as err:
        other.show_number("A9")
    other.close()
    assert err.value.fault == "no_ack"
    assert board.text() == "----" and board.sent == b""


def test_noise_and_a_truncated_frame_on_the_line_are_ignored(
    board: SimulatedBoard, display: SerialDisplay
) -> None:
    display.ping()
    port = display._ensure_port()
    port.write(b"\xff\x00line noise" + NidaaFramer().encode(1, 99, Op("number", "E1"))[:5])
    display.show_number("D12")
    assert board.text() == "D12"


def test_missing_port_is_a_clear_error(tmp_path: Path) -> None:
    d = SerialDisplay(PortSettings(str(tmp_path / "ttyNONE")), NidaaFramer(), 1)
    with pytest.raises(DisplayError) as err:
        d.show_number("A1")
    assert err.value.fault == "port_missing" and "ttyNONE" in str(err.value)


def test_busy_port_is_a_clear_error(board: SimulatedBoard) -> None:
    holder = serial.Serial(board.port, exclusive=True)
    try:
        d = SerialDisplay(PortSettings(board.port), NidaaFramer(), 1)
        with pytest.raises(DisplayError) as err:
            d.show_number("A1")
        assert err.value.fault == "port_busy" and board.port in str(err.value)
    finally:
        holder.close()


def test_port_gone_then_back_under_the_same_name(tmp_path: Path) -> None:
    link = tmp_path / "ttyDISPLAY"  # like a udev /dev/serial/by-id link
    first = SimulatedBoard(address=1).start()
    link.symlink_to(first.port)
    d = SerialDisplay(PortSettings(str(link)), NidaaFramer(), 1, timeout=SHORT, retries=1)
    d.show_number("A1")
    first.hang_up()
    faults = []
    for _ in range(2):
        with pytest.raises(DisplayError) as err:
            d.show_number("A2")
        faults.append(err.value.fault)
    assert faults[0] in ("port_gone", "port_missing") and faults[1] == "port_missing"
    with SimulatedBoard(address=1) as second:
        link.unlink()
        link.symlink_to(second.port)
        d.show_number("A3")
        assert second.text() == "A3"
    d.close()


def test_rs485_mode_is_guarded_on_a_pty(board: SimulatedBoard) -> None:
    port = open_port(PortSettings(board.port, rs485="auto"))
    assert port.is_open and port.rs485_mode is None
    port.close()
    with pytest.raises(DisplayError) as err:
        open_port(PortSettings(board.port, rs485="kernel"))
    assert err.value.fault == "rs485"


def test_simulated_backend_owns_its_board() -> None:
    d = SimulatedDisplay(address=5, digits=4)
    try:
        d.show_number("E999")
        assert d.board.text() == "E999"
    finally:
        d.close()
    assert not os.path.exists(d.board.port) or d.board._master == -1


def test_vendor_display_over_a_pty() -> None:
    with VendorBoard() as vb:
        d = SerialDisplay(PortSettings(vb.port), VendorFramer(), 3)
        d.show_number("A123")
        d.blink(3)  # no such frame: skipped, not an error
        d.show_text("----")
        assert vb.wait_for(3, "----")
        assert vb.shown[3] == ["A123", "----"]
        d.close()
