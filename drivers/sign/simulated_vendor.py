"""A simulated vendor-style (EDI-type) numeric display on a pty: it takes
``STX aa text ETX`` frames, answers nothing, and records what each address
was told to show."""

from __future__ import annotations

import contextlib
import os
import select
import threading
import tty


class VendorBoard:
    def __init__(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self.shown: dict[int, list[str]] = {}
        self._buf = bytearray()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vendor-display", daemon=True)

    def __enter__(self) -> VendorBoard:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def text(self, address: int) -> str | None:
        with self._cond:
            seen = self.shown.get(address)
            return seen[-1] if seen else None

    def wait_for(self, address: int, text: str, timeout: float = 5.0) -> bool:
        with self._cond:
            return bool(self._cond.wait_for(lambda: self.text(address) == text, timeout))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], 0.05)
                chunk = os.read(self._master, 4096) if ready else b""
            except (OSError, ValueError):
                return
            with self._cond:
                self._buf += chunk
                self._parse()
                self._cond.notify_all()

    def _parse(self) -> None:
        while True:
            start = self._buf.find(b"\x02")
            end = self._buf.find(b"\x03", start + 1)
            if start < 0 or end < 0:
                return
            body, self._buf = bytes(self._buf[start + 1 : end]), self._buf[end + 1 :]
            if len(body) >= 2 and body[:2].isdigit():
                self.shown.setdefault(int(body[:2]), []).append(body[2:].decode("ascii", "replace"))
