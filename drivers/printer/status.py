"""Decode ESC/POS real-time status bytes (answers to DLE EOT 1, 2 and 4).

Every answer byte has a fixed pattern: bit 1 and bit 4 set, bit 0 and bit 7
clear (``0xx1xx10``).  A byte that breaks the pattern is not a status at all
(line noise, a wrong baud rate, another device on the port), so the printer
is reported as *unknown* and never as ready.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

FIXED_MASK = 0x93
FIXED_BITS = 0x12

# DLE EOT 1 (printer status)
OFFLINE = 0x08
# DLE EOT 2 (offline cause)
COVER_OPEN = 0x04
PAPER_END_STOP = 0x20
ERROR = 0x40
# DLE EOT 4 (roll paper sensor)
NEAR_END = 0x0C
PAPER_END = 0x60


class PrinterState(enum.StrEnum):
    READY = "ready"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer said, in words a technician reads on the status topic."""

    state: PrinterState
    reason: str = ""
    paper_low: bool = False

    @property
    def ready(self) -> bool:
        return self.state is PrinterState.READY

    @classmethod
    def ok(cls, paper_low: bool = False) -> PrinterStatus:
        reason = "paper roll nearly empty" if paper_low else ""
        return cls(PrinterState.READY, reason, paper_low)


def is_status_byte(value: int) -> bool:
    return value & FIXED_MASK == FIXED_BITS


def decode_status(printer: bytes, offline: bytes, paper: bytes) -> PrinterStatus:
    """Turn the three answers into one status.  Never raises."""
    answers = {"printer": printer, "offline cause": offline, "paper sensor": paper}
    if not printer and not offline and not paper:
        return PrinterStatus(PrinterState.OFFLINE, "printer did not answer the status query")
    values: dict[str, int] = {}
    for name, answer in answers.items():
        if not answer:
            return PrinterStatus(PrinterState.UNKNOWN, f"no answer to the {name} query")
        # The last byte is the newest; earlier ones would be stale answers.
        value = answer[-1]
        if not is_status_byte(value):
            return PrinterStatus(
                PrinterState.UNKNOWN,
                f"unreadable {name} status {answer.hex(' ')} (not an ESC/POS status byte)",
            )
        values[name] = value
    if values["offline cause"] & COVER_OPEN:
        return PrinterStatus(PrinterState.COVER_OPEN, "printer cover is open")
    if values["paper sensor"] & PAPER_END or values["offline cause"] & PAPER_END_STOP:
        return PrinterStatus(PrinterState.PAPER_OUT, "paper roll is empty")
    if values["offline cause"] & ERROR:
        return PrinterStatus(PrinterState.OFFLINE, "printer reports an error (cutter jam?)")
    if values["printer"] & OFFLINE:
        return PrinterStatus(PrinterState.OFFLINE, "printer is offline")
    return PrinterStatus.ok(paper_low=bool(values["paper sensor"] & NEAR_END))


def status_bytes(
    *,
    offline: bool = False,
    cover_open: bool = False,
    paper_out: bool = False,
    paper_low: bool = False,
    error: bool = False,
) -> tuple[bytes, bytes, bytes]:
    """The answers a real printer gives in a state (for emulators and tests)."""
    offline = offline or cover_open or paper_out or error
    b1 = FIXED_BITS | (OFFLINE if offline else 0)
    b2 = (
        FIXED_BITS
        | (COVER_OPEN if cover_open else 0)
        | (PAPER_END_STOP if paper_out else 0)
        | (ERROR if error else 0)
    )
    b4 = FIXED_BITS | (PAPER_END if paper_out else 0) | (NEAR_END if paper_low or paper_out else 0)
    return bytes((b1,)), bytes((b2,)), bytes((b4,))
