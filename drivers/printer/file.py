"""A printer reached as a file: a character device (``/dev/usb/lp0``) or
a plain file (to capture jobs).  It cannot read status back, so it is
ready whenever the file can be opened for writing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ...errors import HardwareError
from .base import EscposPrinter
from .status import PrinterState, PrinterStatus


class FilePrinter(EscposPrinter):
    can_read_status = False

    def __init__(self, path: str, *, profile: str = "default") -> None:
        super().__init__(profile)
        self.path = Path(path)

    def check(self) -> None:
        if not self.path.parent.is_dir():
            raise HardwareError(f"printer file {self.path}: directory does not exist")

    def status(self) -> PrinterStatus:
        if self.path.exists() and not os.access(self.path, os.W_OK):
            return PrinterStatus(PrinterState.OFFLINE, f"cannot write to {self.path}")
        if not self.path.exists() and not os.access(self.path.parent, os.W_OK):
            return PrinterStatus(PrinterState.OFFLINE, f"cannot create {self.path}")
        return PrinterStatus.ok()

    def _open(self) -> Any:
        return _AppendFile(self.path)


class _AppendFile:
    """One job per open: a device node is opened, written and closed, and a
    capture file keeps every job, in order."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _raw(self, data: bytes) -> None:
        with open(self.path, "ab") as fh:
            fh.write(data)
            fh.flush()

    def _read(self) -> bytes:
        return b""

    def close(self) -> None:
        pass
