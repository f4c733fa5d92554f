"""The common vendor style of RS-485 numeric displays (EDI-type):
``STX`` two ASCII address digits, the text, ``ETX``; no checksum, no answer.

Such displays know only "show this text"; blink and brightness have no frame
here and are skipped, so a call still shows, steadily.
"""

from __future__ import annotations

from .base import Op, Reply

STX, ETX = b"\x02", b"\x03"


class _NoReplies:
    def feed(self, chunk: bytes) -> list[Reply]:
        return []


class VendorFramer:
    name = "vendor"
    acknowledged = False

    def encode(self, address: int, seq: int, op: Op) -> bytes | None:
        if not 0 <= address <= 99:
            raise ValueError(f"vendor display address must be 0..99, not {address}")
        if op.kind in ("number", "text"):
            text = op.arg
        elif op.kind == "clear":
            text = ""
        else:
            return None
        data = text.encode("ascii")
        if STX in data or ETX in data:
            raise ValueError(f"text {text!r} holds a framing byte")
        return STX + f"{address:02d}".encode() + data + ETX

    def decoder(self) -> _NoReplies:
        return _NoReplies()
