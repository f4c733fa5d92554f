"""Network (Ethernet / Wi-Fi) ESC/POS printer on TCP port 9100."""

from __future__ import annotations

import socket
from typing import Any

from ...errors import HardwareError
from .base import EscposPrinter


class NetworkPrinter(EscposPrinter):
    def __init__(
        self, host: str, port: int = 9100, *, timeout: float = 2.0, profile: str = "default"
    ) -> None:
        super().__init__(profile)
        self.host = host
        self.port = port
        self.timeout = timeout

    def check(self) -> None:
        try:
            socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise HardwareError(f"printer host {self.host!r} cannot be resolved: {exc}") from None

    def _open(self) -> Any:
        from escpos.printer import Network

        conn = Network(host=self.host, port=self.port, timeout=self.timeout, profile=self.profile)
        conn.open(raise_not_found=True)
        return conn

    def _flush_input(self, conn: Any) -> None:
        sock: socket.socket = conn.device
        sock.setblocking(False)
        try:
            while sock.recv(256):
                pass
        except BlockingIOError:
            pass
        finally:
            sock.settimeout(self.timeout)
