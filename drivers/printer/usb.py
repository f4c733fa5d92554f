"""USB ESC/POS printer through python-escpos and pyusb.

Find the vendor and product ids with ``lsusb`` (e.g. ``0416:5011``).  The
kiosk's user needs access to the device: a udev rule such as
``SUBSYSTEM=="usb", ATTRS{idVendor}=="0416", MODE="0660", GROUP="lp"``.
"""

from __future__ import annotations

import importlib
from typing import Any

from ...errors import HardwareError
from .base import EscposPrinter


def _usb_core() -> Any:
    try:
        return importlib.import_module("usb.core")
    except ImportError:
        raise HardwareError(
            "the USB printer backend needs pyusb: install the Debian package "
            "python3-usb or `pip install pyusb`"
        ) from None


class UsbPrinter(EscposPrinter):
    def __init__(
        self,
        vendor_id: int,
        product_id: int,
        *,
        in_ep: int = 0x82,
        out_ep: int = 0x01,
        timeout_ms: int = 1000,
        profile: str = "default",
    ) -> None:
        super().__init__(profile)
        self.vendor_id = vendor_id
        self.product_id = product_id
        self.in_ep = in_ep
        self.out_ep = out_ep
        self.timeout_ms = timeout_ms

    def check(self) -> None:
        core = _usb_core()
        try:
            device = core.find(idVendor=self.vendor_id, idProduct=self.product_id)
        except Exception as exc:  # pyusb's NoBackendError when libusb is missing
            raise HardwareError(
                f"cannot search the USB bus ({exc}); install the Debian package libusb-1.0-0"
            ) from None
        if device is None:
            raise HardwareError(
                f"no USB printer {self.vendor_id:04x}:{self.product_id:04x} is plugged in"
            )

    def _open(self) -> Any:
        _usb_core()
        from escpos.printer import Usb

        conn = Usb(
            idVendor=self.vendor_id,
            idProduct=self.product_id,
            timeout=self.timeout_ms,
            in_ep=self.in_ep,
            out_ep=self.out_ep,
            profile=self.profile,
        )
        conn.open(raise_not_found=True)
        return conn
