"""Host side of Nidaa's own display protocol, NDP/1 (docs/counter-display.md).

Written independently of the firmware's ``ndp.py``: the two meet only on the
wire, so a mistake in one is caught by the tests that pair them.
"""

from __future__ import annotations

from .base import Op, Reply

STX, ETX, DLE, ACK, NAK = 0x02, 0x03, 0x10, 0x06, 0x15
_SPECIAL = frozenset((STX, ETX, DLE))
MAX_DATA = 32

COMMANDS = {
    "number": b"N",
    "text": b"T",
    "blink": b"K",
    "clear": b"C",
    "brightness": b"L",
    "ping": b"P",
}
NAK_REASONS = {
    ord("C"): "bad checksum",
    ord("U"): "unknown command",
    ord("D"): "bad data (a character the display cannot draw, or too long)",
}


def _crc8_table() -> list[int]:
    table = []
    for value in range(256):
        crc = value
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return table


_CRC8 = _crc8_table()


def crc8(data: bytes) -> int:
    """CRC-8, polynomial 0x07, initial value 0 (check value 0xF4)."""
    crc = 0
    for byte in data:
        crc = _CRC8[crc ^ byte]
    return crc


def frame(address: int, seq: int, cmd: int, data: bytes = b"") -> bytes:
    if len(data) > MAX_DATA:
        raise ValueError(f"display data is limited to {MAX_DATA} bytes, got {len(data)}")
    body = bytes((address, seq, cmd)) + data
    body += bytes((crc8(body),))
    out = bytearray((STX,))
    for byte in body:
        out += bytes((DLE, byte ^ 0x20)) if byte in _SPECIAL else bytes((byte,))
    out.append(ETX)
    return bytes(out)


class NidaaDecoder:
    """Collects ACK/NAK replies from the bytes the port delivers."""

    def __init__(self) -> None:
        self._body: bytearray | None = None
        self._escape = False

    def feed(self, chunk: bytes) -> list[Reply]:
        replies = []
        for byte in chunk:
            if byte == STX:
                self._body, self._escape = bytearray(), False
            elif self._body is None:
                continue
            elif byte == ETX:
                reply = self._finish(self._body, self._escape)
                self._body = None
                if reply is not None:
                    replies.append(reply)
            elif self._escape:
                self._body.append(byte ^ 0x20)
                self._escape = False
            elif byte == DLE:
                self._escape = True
            elif len(self._body) > MAX_DATA + 4:
                self._body = None
            else:
                self._body.append(byte)
        return replies

    @staticmethod
    def _finish(body: bytearray, dangling: bool) -> Reply | None:
        if dangling or len(body) < 4 or crc8(bytes(body[:-1])) != body[-1]:
            return None  # a garbled reply counts as none: the host retries
        address, seq, kind, data = body[0], body[1], body[2], bytes(body[3:-1])
        if kind == ACK:
            return Reply(address, seq, True, data=data)
        if kind == NAK:
            reason = NAK_REASONS.get(data[0], f"reason {data!r}") if data else "no reason"
            return Reply(address, seq, False, reason=reason, data=data)
        return None  # another host's command on a shared pair


class NidaaFramer:
    name = "nidaa"
    acknowledged = True

    def encode(self, address: int, seq: int, op: Op) -> bytes:
        if not 1 <= address <= 255:  # 255: broadcast, which no display answers
            raise ValueError(f"NDP display address must be 1..255, not {address}")
        return frame(address, seq & 0xFF, COMMANDS[op.kind][0], op.arg.encode("ascii"))

    def decoder(self) -> NidaaDecoder:
        return NidaaDecoder()
