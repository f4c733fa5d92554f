"""Counter LED display: one interface, a serial backend with pluggable
framers (Nidaa's NDP/1 and the vendor STX-address-text-ETX style), and a
simulated board that runs the real firmware code on a pty.

``open_display(settings)`` builds the display a configuration asks for.
"""

from __future__ import annotations

from typing import Literal, Protocol

from .base import Display, DisplayError, Op, Reply
from .framing import Framer, framer_for
from .port import PortSettings, RS485Mode, open_port
from .serial_display import SerialDisplay


class SignSettings(Protocol):
    """What :func:`open_display` reads (the counter's ``[counter_units.display]``
    section has these fields)."""

    @property
    def backend(self) -> Literal["serial", "simulated", "none"]: ...
    @property
    def port(self) -> str: ...
    @property
    def protocol(self) -> Literal["nidaa", "vendor"]: ...
    @property
    def address(self) -> int: ...
    @property
    def digits(self) -> int: ...
    @property
    def baudrate(self) -> int: ...
    @property
    def parity(self) -> Literal["N", "E", "O"]: ...
    @property
    def stopbits(self) -> int: ...
    @property
    def rs485(self) -> RS485Mode: ...
    @property
    def timeout_ms(self) -> int: ...
    @property
    def retries(self) -> int: ...
    @property
    def record_file(self) -> str: ...


def open_display(cfg: SignSettings) -> Display | None:
    """The display backend the configuration names (no port is opened yet)."""
    timeout = cfg.timeout_ms / 1000
    if cfg.backend == "none":
        return None
    if cfg.backend == "simulated":
        from .simulated import SimulatedDisplay

        return SimulatedDisplay(
            cfg.address,
            cfg.digits,
            timeout=timeout,
            retries=cfg.retries,
            record_file=cfg.record_file or None,
        )
    settings = PortSettings(
        cfg.port, baudrate=cfg.baudrate, parity=cfg.parity, stopbits=cfg.stopbits, rs485=cfg.rs485
    )
    return SerialDisplay(
        settings, framer_for(cfg.protocol), cfg.address, timeout=timeout, retries=cfg.retries
    )


__all__ = [
    "Display",
    "DisplayError",
    "Framer",
    "Op",
    "PortSettings",
    "Reply",
    "SerialDisplay",
    "SignSettings",
    "framer_for",
    "open_display",
    "open_port",
]
