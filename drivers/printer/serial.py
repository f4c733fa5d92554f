"""Serial (RS-232 / USB-serial) ESC/POS printer through python-escpos.

Wiring: the printer's serial port to a USB-serial adapter (``/dev/ttyUSB0``)
or the Pi's UART (``/dev/serial0``, through a MAX3232 level shifter: the
printer speaks ±12 V RS-232, the Pi 3.3 V).  Set the printer's baud rate
(printed on its self-test page) in the configuration.  A ticket is one
raster image of 60-150 KB: set the printer to 115200 baud with hardware flow
control, or prefer USB or Ethernet.
"""

from __future__ import annotations

import os
from typing import Any

from ...errors import HardwareError
from .base import EscposPrinter


class SerialPrinter(EscposPrinter):
    def __init__(
        self,
        port: str,
        baudrate: int = 9600,
        *,
        timeout: float = 1.0,
        write_timeout: float = 20.0,
        profile: str = "default",
    ) -> None:
        super().__init__(profile)
        self.write_timeout = write_timeout
        self.port = port
        self.baudrate = baudrate
        self.timeout = timeout

    def check(self) -> None:
        if not os.path.exists(self.port):
            raise HardwareError(f"printer serial port {self.port} does not exist")

    def _open(self) -> Any:
        from escpos.printer import Serial

        conn = Serial(
            devfile=self.port, baudrate=self.baudrate, timeout=self.timeout, profile=self.profile
        )
        conn.open(raise_not_found=True)
        # A printer that stops taking data (flow control held) must fail the
        # job, not hang the kiosk: a ticket is at most ~150 KB, about 13 s at
        # 115200 baud.
        conn.device.write_timeout = self.write_timeout
        return conn

    def _flush_input(self, conn: Any) -> None:
        conn.device.reset_input_buffer()

    def _read_answer(self, conn: Any) -> bytes:
        # python-escpos reads 16 bytes and so always waits the full timeout;
        # a status answer is one byte.
        return bytes(conn.device.read(1))
