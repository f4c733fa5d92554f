"""`nidaa test printer` against an ESC/POS emulator at the far end of a pty."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.cli.env import ExitCode
from appliance.drivers.printer import PrinterState, decode_raster
from appliance.errors import HardwareError
from appliance.tech.selftest import printer
from appliance.tech.selftest.hints import daemon_running
from tests.support.printer import FarEnd, printer_on_pty
from tests.support.selftest import assert_shape, branch, nidaa, nidaa_json


@pytest.fixture
def far_end() -> Iterator[tuple[str, FarEnd]]:
    with printer_on_pty() as port_and_far:
        yield port_and_far


def serial_printer(port: str) -> str:
    return f'backend = "serial"\nserial_port = "{port}"\nprofile = "TM-T20II"\ntimeout_s = 0.3'


def test_prints_a_test_ticket_as_wide_as_the_paper(
    tmp_path: Path, far_end: tuple[str, FarEnd]
) -> None:
    port, far = far_end
    config = branch(tmp_path, printer=serial_printer(port))
    code, out, _ = nidaa("test", "printer", "--config", str(config))
    assert code == ExitCode.OK, out
    assert out.strip().splitlines()[-1] == "PASS printer test of k1"
    assert "ok   status: ready" in out
    assert far.emulator.status_requests >= 3  # DLE EOT 1, 2 and 4
    sent = int(out.split("test ticket sent (")[1].split(" bytes")[0])
    assert far.emulator.wait_printed(sent, timeout=10)
    printed = bytes(far.emulator.printed)
    assert printed.endswith(b"\x1dV\x00"), "the ticket is cut (GS V 0)"
    page = decode_raster(printed).convert("L")
    assert page.width == 576  # TM-T20II: 80 mm paper
    # The ruler's end marks: black at both edges of the paper on the last rows.
    bottom = page.height - 20
    assert page.getpixel((0, bottom)) == 0 and page.getpixel((575, bottom)) == 0


@pytest.mark.parametrize(
    ("state", "said"),
    [
        (PrinterState.PAPER_OUT, "paper_out"),
        (PrinterState.COVER_OPEN, "cover_open"),
    ],
)
def test_not_ready_fails_and_says_why(
    tmp_path: Path, far_end: tuple[str, FarEnd], state: PrinterState, said: str
) -> None:
    port, far = far_end
    far.emulator.state = state
    config = branch(tmp_path, printer=serial_printer(port))
    code, obj = nidaa_json("test", "printer", "--config", str(config))
    assert code == ExitCode.HARDWARE
    assert_shape(obj, "printer")
    assert obj["verdict"].startswith(f"FAIL printer test of k1: status: {said}")
    assert obj["details"]["state"] == said
    assert not far.emulator.printed, "nothing is printed on a printer that is not ready"
    assert any("paper roll" in c or "cover" in c for c in obj["checks"])


def test_silent_printer_is_offline(tmp_path: Path, far_end: tuple[str, FarEnd]) -> None:
    port, far = far_end
    far.answering = False
    config = branch(tmp_path, printer=serial_printer(port))
    code, out, _ = nidaa("test", "printer", "--config", str(config))
    assert code == ExitCode.HARDWARE
    assert "FAIL printer test of k1: status: offline" in out
    assert "printer's power" in out and "nidaa-kiosk" in out


def test_missing_port_fails(tmp_path: Path) -> None:
    config = branch(tmp_path, printer=serial_printer(str(tmp_path / "ttyUSB9")))
    code, obj = nidaa_json("test", "printer", "--config", str(config))
    assert code == ExitCode.HARDWARE
    assert_shape(obj, "printer")
    assert "does not exist" in obj["verdict"] and obj["steps"][0]["step"] == "found"


def test_write_error_fails(tmp_path: Path) -> None:
    # A 'file' printer whose path is a directory: status is fine, the write is not.
    config = branch(tmp_path, printer=f'backend = "file"\npath = "{tmp_path}"')
    code, obj = nidaa_json("test", "printer", "--config", str(config))
    assert code == ExitCode.HARDWARE
    assert [s["step"] for s in obj["steps"]] == ["found", "status", "print"]
    assert obj["steps"][-1]["ok"] is False and "print failed" in obj["steps"][-1]["detail"]


def test_status_only(tmp_path: Path, far_end: tuple[str, FarEnd]) -> None:
    port, far = far_end
    config = branch(tmp_path, printer=serial_printer(port))
    code, obj = nidaa_json("test", "printer", "--config", str(config), "--no-print")
    assert code == ExitCode.OK
    assert_shape(obj, "printer")
    assert [s["step"] for s in obj["steps"]] == ["found", "status"]
    assert not far.emulator.printed


def test_a_running_daemon_is_noticed() -> None:
    def systemctl(argv: list[str], **_: object) -> subprocess.CompletedProcess[bytes]:
        assert argv == ["systemctl", "is-active", "--quiet", "nidaa-kiosk.service"]
        return subprocess.CompletedProcess(argv, 0)

    def missing(argv: list[str], **_: object) -> subprocess.CompletedProcess[bytes]:
        raise FileNotFoundError("systemctl")

    assert daemon_running("kiosk", systemctl)
    assert not daemon_running("kiosk", missing)


def test_an_unforeseen_device_error_still_gives_one_verdict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise HardwareError("the USB bus fell over")

    monkeypatch.setattr(printer, "run", broken)
    code, obj = nidaa_json("test", "printer", "--config", str(branch(tmp_path)))
    assert code == ExitCode.HARDWARE
    assert_shape(obj, "printer")
    assert obj["verdict"] == "FAIL printer test of this unit: device: the USB bus fell over"
