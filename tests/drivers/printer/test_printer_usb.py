"""The USB backend through python-escpos, with pyusb replaced by a fake bus.

This machine has neither pyusb nor a USB printer, so a fake ``usb`` package
stands in for pyusb: its one device feeds what python-escpos writes to the
printer emulator and returns the emulator's answers on reads.
"""

from __future__ import annotations

import gc
import importlib
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image, ImageDraw

from appliance.drivers.printer import PrinterState, decode_raster
from appliance.drivers.printer.emulator import PrinterEmulator
from appliance.drivers.printer.usb import UsbPrinter
from appliance.errors import HardwareError

VENDOR, PRODUCT = 0x0416, 0x5011


class FakeBackend:
    """pyusb's backend object; python-escpos only looks at its module name."""


class FakeUsbDevice:
    def __init__(self, emulator: PrinterEmulator) -> None:
        self.emulator = emulator
        self.answers = b""
        self.backend = FakeBackend()  # not libusb1: no kernel-driver dance

    def set_configuration(self) -> None:
        pass

    def reset(self) -> None:
        pass

    def write(self, endpoint: int, data: bytes, timeout: Any = None) -> int:
        assert endpoint == 0x01
        self.answers += self.emulator.feed(bytes(data))
        return len(data)

    def read(self, endpoint: int, size: int, timeout: Any = None) -> bytes:
        assert endpoint == 0x82
        answers, self.answers = self.answers[:size], self.answers[size:]
        return answers


@pytest.fixture
def usb_bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    bus: dict[str, Any] = {"device": None}

    class USBError(OSError):
        pass

    def find(idVendor: int | None = None, idProduct: int | None = None, **_: Any) -> Any:
        return bus["device"] if (idVendor, idProduct) == (VENDOR, PRODUCT) else None

    usb = types.ModuleType("usb")
    core = types.ModuleType("usb.core")
    util = types.ModuleType("usb.util")
    core.find = find  # type: ignore[attr-defined]
    core.USBError = USBError  # type: ignore[attr-defined]
    core.Device = FakeUsbDevice  # type: ignore[attr-defined]
    util.dispose_resources = lambda device: None  # type: ignore[attr-defined]
    usb.core, usb.util = core, util  # type: ignore[attr-defined]
    for name, module in (("usb", usb), ("usb.core", core), ("usb.util", util)):
        monkeypatch.setitem(sys.modules, name, module)
    import escpos.printer
    import escpos.printer.usb

    reloaded = importlib.reload(escpos.printer.usb)  # now it finds "pyusb"
    monkeypatch.setattr(escpos.printer, "Usb", reloaded.Usb)
    yield bus
    # python-escpos closes its connections when collected: let it do so while
    # the fake pyusb is still in place.
    gc.collect()
    monkeypatch.undo()
    importlib.reload(escpos.printer.usb)


def test_usb_printer_status_and_bytes(usb_bus: dict[str, Any]) -> None:
    printer = UsbPrinter(VENDOR, PRODUCT, profile="POS-5890")
    with pytest.raises(HardwareError, match="0416:5011 is plugged in"):
        printer.check()
    assert printer.status().state is PrinterState.OFFLINE

    emulator = PrinterEmulator()
    usb_bus["device"] = FakeUsbDevice(emulator)
    printer.check()
    assert printer.status().ready
    emulator.state = PrinterState.COVER_OPEN
    assert printer.status().state is PrinterState.COVER_OPEN
    emulator.state = PrinterState.READY

    image = Image.new("1", (384, 200), 1)
    ImageDraw.Draw(image).rectangle((20, 20, 300, 180), fill=0)
    job = printer.print_ticket(image)
    assert bytes(emulator.printed) == job
    assert decode_raster(job).tobytes() == image.tobytes()
    printer.close()


def test_real_pyusb_without_that_printer_is_a_clear_error() -> None:
    # Real pyusb here: no libusb, or no such device: either way a clear error.
    with pytest.raises(HardwareError, match="USB"):
        UsbPrinter(0xDEAD, 0xBEEF, profile="POS-5890").check()
