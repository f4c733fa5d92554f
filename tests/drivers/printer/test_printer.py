"""Printer drivers: status decoding, job bytes, and every backend against a
printer emulator at the far end of a real pty or TCP socket."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw

from appliance.drivers.printer import (
    PrintError,
    PrinterState,
    decode_raster,
    decode_status,
    ink_rows,
    open_printer,
    paper_width_px,
    raster_blocks,
    ticket_job,
)
from appliance.drivers.printer.emulator import PrinterEmulator
from appliance.drivers.printer.network import NetworkPrinter
from appliance.drivers.printer.serial import SerialPrinter
from appliance.drivers.printer.simulated import SimulatedPrinter
from appliance.drivers.printer.status import status_bytes
from appliance.errors import ConfigError, HardwareError
from tests.support.printer import FarEnd, printer_on_pty


def sample_image(width: int, height: int = 300) -> Image.Image:
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)
    draw.rectangle((5, 5, width // 2, height // 3), fill=0)
    draw.ellipse((width // 3, height // 2, width - 10, height - 10), outline=0, width=4)
    return image


def same(a: Image.Image, b: Image.Image) -> bool:
    if a.size != b.size:
        return False
    return ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


# -- status bytes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "state"),
    [
        (status_bytes(), PrinterState.READY),
        (status_bytes(paper_low=True), PrinterState.READY),
        (status_bytes(paper_out=True), PrinterState.PAPER_OUT),
        (status_bytes(cover_open=True), PrinterState.COVER_OPEN),
        (status_bytes(error=True), PrinterState.OFFLINE),
        (status_bytes(offline=True), PrinterState.OFFLINE),
        ((b"", b"", b""), PrinterState.OFFLINE),
        ((b"\x12", b"", b"\x12"), PrinterState.UNKNOWN),
        ((b"\xff", b"\x12", b"\x12"), PrinterState.UNKNOWN),
        ((b"\x12", b"\x12", b"\x00"), PrinterState.UNKNOWN),
    ],
)
def test_decode_status(answers: tuple[bytes, bytes, bytes], state: PrinterState) -> None:
    status = decode_status(*answers)
    assert status.state is state
    assert status.ready == (state is PrinterState.READY)
    if not status.ready:
        assert status.reason


def test_paper_low_is_ready_but_said() -> None:
    status = decode_status(*status_bytes(paper_low=True))
    assert status.ready and status.paper_low and "paper" in status.reason


@given(st.binary(max_size=4), st.binary(max_size=4), st.binary(max_size=4))
def test_garbage_status_never_raises_and_is_never_ready_by_accident(
    a: bytes, b: bytes, c: bytes
) -> None:
    status = decode_status(a, b, c)
    if status.ready:  # only a well-formed "all fine" answer may say ready
        assert all(x and x[-1] & 0x93 == 0x12 for x in (a, b, c))
        assert not (b[-1] & 0x64 or c[-1] & 0x60 or a[-1] & 0x08)


# -- job bytes ------------------------------------------------------------------


def test_profile_widths() -> None:
    assert paper_width_px("POS-5890") == 384
    assert paper_width_px("TM-T20II") == 576
    with pytest.raises(ConfigError, match="no-such-printer"):
        paper_width_px("no-such-printer")
    with pytest.raises(ConfigError, match="paper width"):
        paper_width_px("default")


@pytest.mark.parametrize(("profile", "width"), [("POS-5890", 384), ("TM-T20II", 576)])
def test_job_carries_the_image_exactly(profile: str, width: int) -> None:
    image = sample_image(width, 2100)  # taller than one GS v 0 fragment
    job = ticket_job(image, profile)
    assert job.startswith(b"\x1b@")
    assert len(raster_blocks(job)) == 3
    assert same(decode_raster(job), image)


def test_a_dot_is_every_grey_darker_than_half() -> None:
    """Raster rows of every grey level, twice over a row of 512: levels 0–127
    are dots (set bits), 128–255 paper."""
    grey = Image.frombytes("L", (512, 1), bytes(range(256)) * 2)
    bits = int.from_bytes(ink_rows(grey))
    dots = [(bits >> (511 - x)) & 1 for x in range(512)]
    assert dots == ([1] * 128 + [0] * 128) * 2
    assert ink_rows(grey.convert("RGB")) == ink_rows(grey)


def test_narrow_image_is_centred() -> None:
    job = ticket_job(sample_image(200), "TM-T20II")
    back = decode_raster(job)
    assert back.width == 576
    assert same(back.crop((188, 0, 388, 300)), sample_image(200))
    assert back.crop((0, 0, 188, 300)).getextrema() == (255, 255)


def test_too_wide_image_is_refused() -> None:
    with pytest.raises(ValueError, match="384"):
        ticket_job(sample_image(400), "POS-5890")


def test_cut_follows_profile() -> None:
    assert ticket_job(sample_image(576), "TM-T20II").endswith(b"\x1dV\x00")
    # The 58 mm POS-5890 has no cutter: the job just feeds the paper out.
    assert not ticket_job(sample_image(384), "POS-5890").endswith(b"\x1dV\x00")


# -- simulated backend ----------------------------------------------------------


def test_simulated_records_exact_bytes_and_saves_png(tmp_path: Path) -> None:
    printer = SimulatedPrinter("POS-5890", output_dir=tmp_path)
    assert printer.status().ready
    image = sample_image(384)
    sent = printer.print_ticket(image)
    assert printer.jobs == [sent] == [ticket_job(image, "POS-5890")]
    assert same(Image.open(tmp_path / "ticket-0001.png"), image)
    assert (tmp_path / "ticket-0001.bin").read_bytes() == sent


@pytest.mark.parametrize(
    "state", [PrinterState.PAPER_OUT, PrinterState.COVER_OPEN, PrinterState.OFFLINE]
)
def test_simulated_faults(state: PrinterState) -> None:
    printer = SimulatedPrinter()
    printer.set_state(state)
    status = printer.status()
    assert status.state is state and status.reason
    with pytest.raises(PrintError):
        printer.print_ticket(sample_image(384))
    assert printer.jobs == []
    printer.set_state(PrinterState.READY)
    assert printer.status().ready


def test_simulated_garbage_status() -> None:
    printer = SimulatedPrinter()
    printer.garble_status(b"\xff\xff")
    status = printer.status()
    assert status.state is PrinterState.UNKNOWN and "ff ff" in status.reason


def test_simulated_fails_mid_print() -> None:
    printer = SimulatedPrinter()
    printer.fail_next_job(after_bytes=100)
    job = ticket_job(sample_image(384), "POS-5890")
    with pytest.raises(PrintError, match="100"):
        printer.print_raw(job)
    assert printer.failed_jobs == [job[:100]] and printer.jobs == []
    assert printer.status().state is PrinterState.PAPER_OUT


# -- serial backend over a pty --------------------------------------------------






@pytest.fixture
def serial_printer() -> Iterator[tuple[SerialPrinter, FarEnd]]:
    with printer_on_pty() as (port, far):
        printer = SerialPrinter(port, 19200, timeout=0.3, profile="TM-T20II")
        yield printer, far
        printer.close()


def test_serial_prints_the_exact_bytes(serial_printer: tuple[SerialPrinter, FarEnd]) -> None:
    printer, far = serial_printer
    printer.check()
    assert printer.status().ready
    image = sample_image(576)
    job = printer.print_ticket(image)
    assert far.emulator.wait_printed(len(job), timeout=10)
    assert bytes(far.emulator.printed) == job
    assert same(decode_raster(bytes(far.emulator.printed)), image)


@pytest.mark.parametrize("state", [PrinterState.PAPER_OUT, PrinterState.COVER_OPEN])
def test_serial_reads_faults(
    serial_printer: tuple[SerialPrinter, FarEnd], state: PrinterState
) -> None:
    printer, far = serial_printer
    far.emulator.state = state
    assert printer.status().state is state
    far.emulator.state = PrinterState.READY
    assert printer.status().ready


def test_serial_garbage_and_silence(serial_printer: tuple[SerialPrinter, FarEnd]) -> None:
    printer, far = serial_printer
    far.emulator.garbage = b"\x00\xfe"
    assert printer.status().state is PrinterState.UNKNOWN
    far.emulator.garbage = None
    far.answering = False
    status = printer.status()
    assert status.state is PrinterState.OFFLINE and "answer" in status.reason
    assert printer._conn is None, "after silence the port is opened afresh next time"
    far.answering = True
    assert printer.status().ready


def test_missing_serial_port_is_a_startup_error(tmp_path: Path) -> None:
    printer = open_printer("serial", port=str(tmp_path / "ttyUSB9"), profile="POS-5890")
    with pytest.raises(HardwareError, match="ttyUSB9"):
        printer.check()
    assert printer.status().state is PrinterState.OFFLINE


# -- network backend over TCP ---------------------------------------------------


@pytest.fixture
def network_printer() -> Iterator[tuple[NetworkPrinter, FarEnd]]:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted: list[socket.socket] = []
    connected = threading.Event()

    def read() -> bytes:
        if not accepted:
            server.settimeout(0.05)
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                return b""
            accepted[0].settimeout(0.05)
            connected.set()
        try:
            return accepted[0].recv(65536)
        except TimeoutError:
            return b""

    far = FarEnd(read, lambda data: accepted[0].sendall(data))
    printer = NetworkPrinter("127.0.0.1", port, timeout=0.5, profile="POS-5890")
    yield printer, far
    printer.close()
    far.stop()
    for conn in accepted:
        conn.close()
    server.close()


def test_network_prints_and_reads_status(network_printer: tuple[NetworkPrinter, FarEnd]) -> None:
    printer, far = network_printer
    printer.check()
    assert printer.status().ready
    far.emulator.state = PrinterState.PAPER_OUT
    assert printer.status().state is PrinterState.PAPER_OUT
    far.emulator.state = PrinterState.READY
    image = sample_image(384)
    job = printer.print_ticket(image)
    assert far.emulator.wait_printed(len(job), timeout=10)
    assert bytes(far.emulator.printed) == job


def test_network_printer_down_is_offline_not_a_crash() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    printer = NetworkPrinter("127.0.0.1", port, timeout=0.5, profile="POS-5890")
    assert printer.status().state is PrinterState.OFFLINE
    with pytest.raises(PrintError):
        printer.print_ticket(sample_image(384))


# -- file backend and the factory -----------------------------------------------


def test_file_backend_appends_jobs(tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    printer = open_printer("file", path=str(target), profile="POS-5890")
    printer.check()
    assert printer.status().ready
    first = printer.print_ticket(sample_image(384))
    second = printer.print_ticket(sample_image(384, 100))
    assert target.read_bytes() == first + second
    with pytest.raises(HardwareError, match="does not exist"):
        open_printer("file", path=str(tmp_path / "no" / "lp0"), profile="POS-5890").check()


def test_factory_refuses_unknowns() -> None:
    with pytest.raises(ValueError, match="backend 'bluetooth'"):
        open_printer("bluetooth")
    with pytest.raises(ConfigError, match="unknown printer profile"):
        open_printer("simulated", profile="XYZ-1")


def test_network_printer_that_drops_the_connection_is_reopened() -> None:
    """Network printers close idle connections; the next check reconnects."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(5)
    emulator = PrinterEmulator()
    connections: list[socket.socket] = []

    def serve() -> None:
        for _ in range(2):  # the first connection is dropped after one round
            try:
                conn, _ = server.accept()
            except OSError:
                return
            connections.append(conn)
            answered = 0
            while answered < 3:
                data = conn.recv(65536)
                if not data:
                    break
                answer = emulator.feed(data)
                answered += len(answer)
                conn.sendall(answer)
            if len(connections) == 1:
                conn.close()
                continue
            while conn.recv(65536):  # keep the second one open
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    printer = NetworkPrinter("127.0.0.1", server.getsockname()[1], timeout=0.5, profile="POS-5890")
    try:
        assert printer.status().ready
        dropped = printer.status()  # the printer hung up: no answer
        assert dropped.state is PrinterState.OFFLINE
        assert printer.status().ready  # a fresh connection
        assert len(connections) == 2
    finally:
        printer.close()
        server.close()
        thread.join(5)
