"""The counter display's narrow interface, what it is told, and its faults."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Literal

from ...errors import HardwareError

OpKind = Literal["number", "text", "blink", "clear", "brightness", "ping"]


@dataclass(frozen=True)
class Op:
    """One thing to tell a display: ``Op("number", "A123")``, ``Op("blink", "3")``."""

    kind: OpKind
    arg: str = ""


@dataclass(frozen=True)
class Reply:
    """A display's answer to frame ``seq``: an ACK (``ok``) or a NAK with ``reason``."""

    address: int
    seq: int
    ok: bool
    reason: str = ""
    data: bytes = b""


FaultCode = Literal["no_ack", "nak", "port_missing", "port_busy", "port_gone", "rs485"]


class DisplayError(HardwareError):
    """The display did not take a command.  ``fault`` says why, in the words
    of the status topic: ``no_ack`` (no answer after the retries), ``nak``
    (refused every retry), ``port_missing``, ``port_busy``, ``port_gone``
    (it vanished while in use), ``rs485`` (kernel RS-485 mode refused)."""

    def __init__(self, fault: FaultCode, message: str) -> None:
        self.fault: FaultCode = fault
        super().__init__(message)


class Display(abc.ABC):
    """A counter's LED number display.  Every method raises
    :class:`DisplayError` when the display did not take the command; the next
    call tries again from scratch (reopening the port if it had gone)."""

    @abc.abstractmethod
    def send(self, op: Op) -> bytes:
        """Deliver ``op``; return what the display answered (ping: its identity)."""

    def show_number(self, number: str) -> None:
        self.send(Op("number", number))

    def show_text(self, text: str) -> None:
        self.send(Op("text", text))

    def blink(self, times: int = 0) -> None:
        """Blink what is shown ``times`` times; 0: until the next command."""
        self.send(Op("blink", str(times)))

    def clear(self) -> None:
        self.send(Op("clear"))

    def brightness(self, level: int) -> None:
        self.send(Op("brightness", f"{max(0, min(15, level)):X}"))

    def ping(self) -> str:
        return self.send(Op("ping")).decode("ascii", "replace")

    def close(self) -> None:  # noqa: B027 - backends without resources need nothing
        """Release the port."""
