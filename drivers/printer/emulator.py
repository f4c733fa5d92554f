"""A byte-level ESC/POS printer emulator.

It reads the stream a real printer would read: real-time status requests
(``DLE EOT n``) are answered at once according to the emulated state, raster
images are skipped over whole (their bytes could look like commands), and
everything else is collected as printed data.  The simulated backend uses it
in-process; tests put it at the far end of a pty or a TCP socket so the real
serial and network backends talk to something that answers like a printer.
"""

from __future__ import annotations

import threading

from .status import PrinterState, status_bytes

DLE_EOT = b"\x10\x04"
GS_V0 = b"\x1dv0"


class PrinterEmulator:
    """Thread-safe; :meth:`feed` takes bytes in any chunking."""

    def __init__(self, state: PrinterState = PrinterState.READY) -> None:
        self.state = state
        self.paper_low = False
        #: When set, every status request is answered with these bytes.
        self.garbage: bytes | None = None
        self.printed = bytearray()
        self.status_requests = 0
        self._pending = b""
        self._lock = threading.Lock()
        self.changed = threading.Condition(self._lock)

    def answer(self, n: int) -> bytes:
        if self.garbage is not None:
            return self.garbage
        if self.state is PrinterState.OFFLINE:
            return b""
        b1, b2, b4 = status_bytes(
            cover_open=self.state is PrinterState.COVER_OPEN,
            paper_out=self.state is PrinterState.PAPER_OUT,
            paper_low=self.paper_low,
            error=self.state is PrinterState.UNKNOWN,
        )
        return {1: b1, 2: b2, 4: b4}.get(n, b"")

    def reset(self) -> None:
        """Forget a half-received command (the printer was power-cycled)."""
        with self._lock:
            self._pending = b""

    def feed(self, data: bytes) -> bytes:
        """Consume ``data``; returns the bytes the printer sends back."""
        with self._lock:
            buf = self._pending + data
            out = bytearray()
            i = 0
            while i < len(buf):
                if buf.startswith(DLE_EOT, i) or buf[i:] in (b"\x10",):
                    if len(buf) - i < 3:
                        break
                    self.status_requests += 1
                    out += self.answer(buf[i + 2])
                    i += 3
                    continue
                if buf.startswith(GS_V0, i) or GS_V0.startswith(buf[i : i + 3]):
                    if len(buf) - i < 8:
                        break
                    size = (buf[i + 4] | buf[i + 5] << 8) * (buf[i + 6] | buf[i + 7] << 8)
                    if len(buf) - i < 8 + size:
                        break
                    self.printed += buf[i : i + 8 + size]
                    i += 8 + size
                    continue
                self.printed.append(buf[i])
                i += 1
            self._pending = buf[i:]
            self.changed.notify_all()
            return bytes(out)

    def wait_printed(self, predicate_len: int, timeout: float) -> bool:
        """Wait until at least ``predicate_len`` bytes were printed."""
        with self.changed:
            return self.changed.wait_for(lambda: len(self.printed) >= predicate_len, timeout)
