"""A printer emulator at the far end of a pty (printer driver and self-test tests)."""

from __future__ import annotations

import os
import pty
import select
import threading
import tty
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from appliance.drivers.printer.emulator import PrinterEmulator


class FarEnd:
    """The printer end of a link: feeds what arrives to an emulator and
    writes its answers back, until stopped."""

    def __init__(self, read: Callable[[], bytes], write: Callable[[bytes], object]) -> None:
        self.emulator = PrinterEmulator()
        self.answering = True
        self._read, self._write = read, write
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._read()
            except OSError:
                return
            if data:
                answer = self.emulator.feed(data)
                if answer and self.answering:
                    self._write(answer)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@contextmanager
def printer_on_pty() -> Iterator[tuple[str, FarEnd]]:
    """A pty whose far end is the ESC/POS emulator; yields the port's name."""
    master, slave = pty.openpty()
    tty.setraw(master)

    def read() -> bytes:
        ready, _, _ = select.select([master], [], [], 0.05)
        return os.read(master, 65536) if ready else b""

    far = FarEnd(read, lambda data: os.write(master, data))
    try:
        yield os.ttyname(slave), far
    finally:
        far.stop()
        os.close(master)
        os.close(slave)
