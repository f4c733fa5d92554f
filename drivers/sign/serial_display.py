"""A display on a serial port, in any framer's protocol: the real backend.

One command at a time: write the frame, wait for the reply with the same
address and sequence number, retry on NAK or silence.  A port that fails
is closed and reopened on the next command, so a display that was unplugged
and plugged back in (or a USB adapter that came back) recovers by itself.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from .base import Display, DisplayError, FaultCode, Op, Reply
from .framing import Framer, ReplyDecoder
from .port import PortSettings, open_port

log = logging.getLogger(__name__)


class SerialDisplay(Display):
    def __init__(
        self,
        settings: PortSettings,
        framer: Framer,
        address: int,
        *,
        timeout: float = 0.15,
        retries: int = 3,
        opener: Callable[[PortSettings], Any] = open_port,
    ) -> None:
        self.settings = settings
        self.framer = framer
        self.address = address
        self.timeout = timeout
        self.retries = retries
        self._opener = opener
        self._port: Any = None
        self._decoder: ReplyDecoder = framer.decoder()
        self._lock = threading.Lock()
        # A random start makes a restarted host unlikely to repeat the last
        # sequence number the display saw (which it would only re-ACK).
        self._seq = random.randrange(256)
        #: Frames written and replies taken, for diagnostics and tests.
        self.frames_sent = 0
        self.retries_used = 0

    # -- Display ------------------------------------------------------------
    def send(self, op: Op) -> bytes:
        with self._lock:
            self._seq = (self._seq + 1) & 0xFF
            wire = self.framer.encode(self.address, self._seq, op)
            if wire is None:
                return b""  # this protocol has no such command
            last = "no answer"
            for attempt in range(self.retries + 1):
                if attempt:
                    self.retries_used += 1
                self._write(wire)
                if not self.framer.acknowledged:
                    return b""
                reply = self._await_reply(self._seq)
                if reply is None:
                    last = f"no answer within {self.timeout * 1000:.0f} ms"
                elif reply.ok:
                    return reply.data
                else:
                    last = f"refused: {reply.reason}"
            fault: FaultCode = "nak" if last.startswith("refused") else "no_ack"
            raise DisplayError(
                fault,
                f"display {self.address} on {self.settings.device}: {last} "
                f"({self.retries + 1} tries of {op.kind})",
            )

    def close(self) -> None:
        with self._lock:
            self._drop_port()

    @property
    def is_open(self) -> bool:
        return self._port is not None

    # -- the port -----------------------------------------------------------
    def _ensure_port(self) -> Any:
        if self._port is None:
            self._port = self._opener(self.settings)
            self._decoder = self.framer.decoder()
            log.info("display port %s open", self.settings.device)
        return self._port

    def _drop_port(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:  # closing a dead port may fail in any way
                log.debug("closing %s failed", self.settings.device, exc_info=True)

    def _gone(self, exc: BaseException) -> DisplayError:
        self._drop_port()
        return DisplayError("port_gone", f"display port {self.settings.device} failed: {exc}")

    def _write(self, wire: bytes) -> None:
        port = self._ensure_port()
        try:
            port.write(wire)
            port.flush()
        except (OSError, ValueError) as exc:  # SerialException is an OSError
            raise self._gone(exc) from None
        self.frames_sent += 1

    def _await_reply(self, seq: int) -> Reply | None:
        port = self._port
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                chunk = port.read(1)
                if chunk and port.in_waiting:
                    chunk += port.read(port.in_waiting)
            except (OSError, ValueError) as exc:
                raise self._gone(exc) from None
            for reply in self._decoder.feed(chunk):
                # Stale answers to an earlier try, or another display's, are skipped.
                if reply.address == self.address and reply.seq == seq:
                    return reply
        return None
