"""Opening the display's serial port with pyserial, RS-485 mode guarded."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from .base import DisplayError

log = logging.getLogger(__name__)

RS485Mode = Literal["auto", "kernel", "off"]


@dataclass(frozen=True)
class PortSettings:
    """How to open the port (the counter's ``[counter_units.display]`` section)."""

    device: str
    baudrate: int = 19200
    bytesize: int = 8
    parity: Literal["N", "E", "O"] = "N"
    stopbits: float = 1
    #: ``kernel``: the UART driver switches the transceiver through RTS
    #: (TIOCSRS485) and refusing it is a fault; ``auto``: use it where the
    #: port supports it, else rely on an auto-direction transceiver or adapter
    #: (and on a pty in tests); ``off``: never ask.
    rs485: RS485Mode = "auto"
    #: Seconds the reply read blocks at most per try; the display's timeout
    #: is counted separately, this only bounds one read call.
    read_slice: float = 0.01


def open_port(settings: PortSettings) -> Any:
    """An open ``serial.Serial``; :class:`DisplayError` with ``port_missing``,
    ``port_busy`` or ``rs485`` when it cannot be used."""
    try:
        import serial
        import serial.rs485
    except ImportError as exc:  # pragma: no cover - pyserial is a dependency
        raise DisplayError("port_missing", "pyserial is missing: pip install pyserial") from exc
    try:
        port = serial.Serial(
            settings.device,
            baudrate=settings.baudrate,
            bytesize=settings.bytesize,
            parity=settings.parity,
            stopbits=settings.stopbits,
            timeout=settings.read_slice,
            write_timeout=1.0,
            exclusive=True,  # a second program on the pair would garble both
        )
    except serial.SerialException as exc:
        text = str(exc)
        if "lock" in text.lower() or "busy" in text.lower() or getattr(exc, "errno", None) == 16:
            message = f"display port {settings.device} is busy: {text}"
            raise DisplayError("port_busy", message) from None
        raise DisplayError(
            "port_missing", f"cannot open display port {settings.device}: {text}"
        ) from None
    if settings.rs485 != "off":
        try:
            port.rs485_mode = serial.rs485.RS485Settings(
                rts_level_for_tx=True, rts_level_for_rx=False
            )
        except (ValueError, OSError, NotImplementedError, serial.SerialException) as exc:
            port.rs485_mode = None  # leave the port as it was; pyserial keeps the request
            if settings.rs485 == "kernel":
                port.close()
                raise DisplayError(
                    "rs485", f"{settings.device} does not support kernel RS-485 mode: {exc}"
                ) from None
            log.info("%s: no kernel RS-485 mode (%s); using the port as is", settings.device, exc)
    return port
