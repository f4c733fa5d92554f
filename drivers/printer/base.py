"""The printer interface every backend implements, and its ESC/POS core.

A kiosk asks two things of a printer: *can you print now?* (:meth:`status`)
and *print this ticket* (:meth:`print_ticket`).  The backends differ only in
how bytes reach the printer, so :class:`EscposPrinter` holds the shared part
(real-time status over DLE EOT, sending a job) and each backend supplies the
python-escpos connection in one small file.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from typing import Any

from PIL import Image

from ...errors import HardwareError
from .job import load_profile, paper_width_px, ticket_job
from .status import PrinterState, PrinterStatus, decode_status

log = logging.getLogger(__name__)

DLE_EOT = b"\x10\x04"
# DLE EOT n: 1 printer status, 2 offline cause, 4 paper roll sensor.
STATUS_QUERIES = (1, 2, 4)


class PrintError(HardwareError):
    """A print job did not reach the printer completely."""

    code = "print_failed"


class Printer(ABC):
    """One ticket printer.  Implementations are thread-safe."""

    #: python-escpos profile name; it gives the paper width in dots.
    profile: str

    @property
    def paper_width(self) -> int:
        """Printable width in dots (384 on 58 mm paper, 576 on 80 mm)."""
        return paper_width_px(self.profile)

    @abstractmethod
    def status(self) -> PrinterStatus:
        """Ask the printer whether it can print now.  Never raises."""

    @abstractmethod
    def print_raw(self, data: bytes) -> None:
        """Send one complete job; raises :class:`PrintError` if it fails."""

    def print_ticket(self, image: Image.Image, cut: bool = True) -> bytes:
        """Print ``image`` (at most :attr:`paper_width` wide) and cut; returns
        the exact bytes sent."""
        data = ticket_job(image, self.profile, cut=cut)
        self.print_raw(data)
        return data

    def check(self) -> None:
        """Raise :class:`HardwareError` if the configuration points at no
        printer at all (no such port, USB device or host).  A printer that
        exists but is offline is not an error here: that is :meth:`status`."""
        return None

    def close(self) -> None:
        """Release the connection (it reopens on the next use)."""
        return None


class EscposPrinter(Printer):
    """A printer reached through a python-escpos connection."""

    #: Whether the connection can read the printer's answers (DLE EOT).
    can_read_status = True

    def __init__(self, profile: str = "default") -> None:
        load_profile(profile)  # an unknown profile is a start-up error
        self.profile = profile
        self._conn: Any = None
        self._lock = threading.RLock()

    @abstractmethod
    def _open(self) -> Any:
        """Open and return the python-escpos connection; raise OSError or
        :class:`HardwareError` when the device cannot be reached."""

    def _flush_input(self, conn: Any) -> None:
        """Drop stale bytes (a late answer) before asking again."""

    def _read_answer(self, conn: Any) -> bytes:
        """One status answer (one byte on a real printer)."""
        return bytes(conn._read() or b"")

    def _connection(self) -> Any:
        if self._conn is None:
            try:
                self._conn = self._open()
            except HardwareError:
                raise
            except Exception as exc:  # python-escpos raises its own types
                raise HardwareError(f"cannot open the printer: {exc}") from exc
        return self._conn

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                try:
                    conn.close()
                except Exception:  # closing a dead link must not hide the first error
                    log.debug("closing printer connection failed", exc_info=True)

    def status(self) -> PrinterStatus:
        if not self.can_read_status:
            return PrinterStatus.ok()
        with self._lock:
            try:
                conn = self._connection()
                self._flush_input(conn)
                answers = []
                for n in STATUS_QUERIES:
                    conn._raw(DLE_EOT + bytes((n,)))
                    answers.append(self._read_answer(conn))
            except Exception as exc:
                # Whatever the link raised (timeout, unplugged cable, USB
                # error): the printer is not usable now; reopen next time.
                self.close()
                return PrinterStatus(PrinterState.OFFLINE, f"printer not reachable: {exc}")
            status = decode_status(*answers)
            if status.state in (PrinterState.OFFLINE, PrinterState.UNKNOWN):
                # Silence or noise may be a link the printer dropped (network
                # printers close idle connections): start afresh next time.
                self.close()
        return status

    def print_raw(self, data: bytes) -> None:
        with self._lock:
            try:
                self._connection()._raw(data)
            except Exception as exc:
                self.close()
                raise PrintError(f"print failed: {exc}") from exc
