"""SMS-SUBMIT and SMS-STATUS-REPORT PDUs (3GPP TS 23.040), as the modem sees them.

:func:`encode` turns a number and a text into the PDUs of every part that
goes to ``AT+CMGS``: GSM 7-bit when the whole text fits the default alphabet,
UCS-2 otherwise (Arabic).  A text longer than one SMS is split into parts that
carry a User Data Header with the 8-bit concatenation element (IEI 00): 153
septets or 67 UCS-2 units per part instead of 160 / 70.  An extension
character (two septets) and a character outside the BMP (a UTF-16 surrogate
pair) are never split across two parts, so every part decodes on its own.

Every PDU starts with ``00``: use the SMS centre stored on the SIM.  The
length ``AT+CMGS=<length>`` wants counts the octets after that field; it is
:attr:`Part.length`.

The decoders are used by the simulated modem (what did the gateway send?),
the tests and the modem driver (delivery reports).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

from ...errors import NidaaError
from . import gsm7

Encoding = Literal["gsm7", "ucs2"]

SINGLE = {"gsm7": 160, "ucs2": 70}
MULTI = {"gsm7": 153, "ucs2": 67}
MAX_PARTS = 255

_DCS = {"gsm7": 0x00, "ucs2": 0x08}
# TP-VP relative: 0xA7 = 24 hours.  A stage SMS a day late is no longer news.
VALIDITY_24H = 0xA7


class PduError(NidaaError, ValueError):
    """A text that cannot be sent, or bytes that are not a valid PDU."""

    code = "bad_pdu"


@dataclass(frozen=True)
class Part:
    """One SMS of a (possibly concatenated) message, ready for ``AT+CMGS``."""

    seq: int  #: 1-based position in the message
    total: int  #: number of parts of the message
    text: str  #: the text this part carries
    pdu: str  #: upper-case hex, SMSC field (``00``) included
    length: int  #: TPDU octets: the ``<length>`` of ``AT+CMGS=<length>``


@dataclass(frozen=True)
class Submit:
    """A decoded SMS-SUBMIT."""

    number: str
    text: str
    encoding: str  #: ``gsm7``, ``ucs2`` or ``8bit``
    status_report: bool
    concat: tuple[int, int, int] | None  #: (reference, total, seq) or None
    message_ref: int


@dataclass(frozen=True)
class StatusReport:
    """A decoded SMS-STATUS-REPORT (``+CDS``)."""

    message_ref: int
    number: str
    status: int  #: TP-ST
    delivered_at: datetime

    @property
    def delivered(self) -> bool:
        return self.status < 0x20

    @property
    def final(self) -> bool:
        """False while the SMS centre is still trying (temporary error 0x20–0x3F)."""
        return not 0x20 <= self.status < 0x40


# -- splitting ---------------------------------------------------------------
def choose_encoding(text: str) -> Encoding:
    return "gsm7" if gsm7.is_gsm7(text) else "ucs2"


def _units(ch: str, encoding: Encoding) -> int:
    if encoding == "gsm7":
        return len(gsm7.char_septets(ch))
    return 2 if ord(ch) > 0xFFFF else 1


def split(text: str) -> tuple[Encoding, list[str]]:
    """The encoding and the text of each part."""
    encoding = choose_encoding(text)
    if sum(_units(ch, encoding) for ch in text) <= SINGLE[encoding]:
        return encoding, [text]
    limit = MULTI[encoding]
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for ch in text:
        n = _units(ch, encoding)
        if used + n > limit:
            parts.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += n
    parts.append("".join(current))
    if len(parts) > MAX_PARTS:
        raise PduError(f"text too long: {len(parts)} parts, at most {MAX_PARTS}")
    return encoding, parts


# -- encoding ----------------------------------------------------------------
def encode_address(number: str) -> bytes:
    """``+201012345678`` → length, type of number and swapped BCD digits."""
    international = number.startswith("+")
    digits = number[1:] if international else number
    if not digits.isascii() or not digits.isdigit() or not 1 <= len(digits) <= 20:
        raise PduError(f"not a telephone number for a PDU: {number!r}")
    padded = digits + ("F" if len(digits) % 2 else "")
    swapped = "".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2))
    return bytes([len(digits), 0x91 if international else 0x81]) + bytes.fromhex(swapped)


def _user_data(text: str, encoding: Encoding, udh: bytes) -> tuple[int, bytes]:
    """(TP-UDL, TP-UD) for a part."""
    if encoding == "ucs2":
        try:
            body = text.encode("utf-16-be")
        except UnicodeEncodeError:
            raise PduError("text contains a lone surrogate; it cannot be sent as UCS-2") from None
        return len(udh) + len(body), udh + body
    septets = gsm7.to_septets(text)
    fill = (7 - len(udh) * 8 % 7) % 7
    header_septets = (len(udh) * 8 + fill) // 7
    return header_septets + len(septets), udh + gsm7.pack(septets, fill)


def encode(number: str, text: str, *, reference: int = 0, status_report: bool = True) -> list[Part]:
    """The PDUs of every part of ``text`` to ``number``.

    ``reference`` (0–255) identifies the parts of one concatenated message;
    keep it with the message so a resent part carries the same one.
    """
    if not 0 <= reference <= 255:
        raise PduError(f"concatenation reference must be 0-255, not {reference}")
    encoding, texts = split(text)
    address = encode_address(number)
    total = len(texts)
    parts = []
    for seq, part_text in enumerate(texts, 1):
        udh = bytes([5, 0x00, 3, reference, total, seq]) if total > 1 else b""
        udl, ud = _user_data(part_text, encoding, udh)
        first = 0x01 | 0x10  # SMS-SUBMIT, relative validity period
        if status_report:
            first |= 0x20
        if udh:
            first |= 0x40
        tpdu = bytes([first, 0x00]) + address + bytes([0x00, _DCS[encoding], VALIDITY_24H, udl])
        tpdu += ud
        parts.append(Part(seq, total, part_text, "00" + tpdu.hex().upper(), len(tpdu)))
    return parts


# -- decoding ----------------------------------------------------------------
class _Reader:
    def __init__(self, hex_text: str) -> None:
        try:
            self.data = bytes.fromhex(hex_text.strip())
        except ValueError:
            raise PduError(f"not hexadecimal: {hex_text[:40]!r}") from None
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise PduError(f"PDU too short: wanted {n} octets at offset {self.pos}")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def octet(self) -> int:
        return self.take(1)[0]

    def skip_smsc(self) -> None:
        self.take(self.octet())

    def address(self) -> str:
        ndigits, toa = self.octet(), self.octet()
        raw = self.take((ndigits + 1) // 2)
        if toa & 0x70 == 0x50:  # alphanumeric sender
            return gsm7.from_septets(gsm7.unpack(raw, ndigits * 4 // 7))
        digits = "".join(f"{b & 0x0F:X}{b >> 4:X}" for b in raw)[:ndigits]
        if not digits.isdigit():
            raise PduError(f"bad digits in address: {digits!r}")
        return ("+" if toa & 0x70 == 0x10 else "") + digits

    def timestamp(self) -> datetime:
        raw = self.take(7)
        try:
            y, mo, d, h, mi, s = (int(f"{b & 0x0F}{b >> 4}") for b in raw[:6])
            tz = raw[6]
            quarters = (tz & 0x07) * 10 + (tz >> 4)
            offset = timedelta(minutes=15 * quarters) * (-1 if tz & 0x08 else 1)
            return datetime(2000 + y, mo, d, h, mi, s, tzinfo=timezone(offset))
        except ValueError as exc:
            raise PduError(f"bad timestamp {raw.hex()}: {exc}") from None


def _parse_udh(udh: bytes) -> tuple[int, int, int] | None:
    i = 0
    while i + 2 <= len(udh):
        iei, length = udh[i], udh[i + 1]
        value = udh[i + 2 : i + 2 + length]
        if iei == 0x00 and length == 3:
            return value[0], value[1], value[2]
        if iei == 0x08 and length == 4:
            return (value[0] << 8) | value[1], value[2], value[3]
        i += 2 + length
    return None


def decode_submit(hex_text: str) -> Submit:
    """Decode an SMS-SUBMIT PDU (SMSC field included, as sent to ``AT+CMGS``)."""
    r = _Reader(hex_text)
    r.skip_smsc()
    first = r.octet()
    if first & 0x03 != 0x01:
        raise PduError(f"not an SMS-SUBMIT (first octet {first:02X})")
    mr = r.octet()
    number = r.address()
    r.octet()  # TP-PID
    dcs = r.octet()
    vpf = (first >> 3) & 0x03
    r.take({0: 0, 2: 1}.get(vpf, 7))
    udl = r.octet()
    ud = r.data[r.pos :]
    alphabet = (dcs >> 2) & 0x03
    encoding = {0: "gsm7", 1: "8bit", 2: "ucs2"}.get(alphabet, "reserved")
    header = b""
    if first & 0x40:
        if not ud:
            raise PduError("user data header flagged but missing")
        header = ud[: 1 + ud[0]]
    concat = _parse_udh(header[1:]) if header else None
    if encoding == "gsm7":
        fill = (7 - len(header) * 8 % 7) % 7
        header_septets = (len(header) * 8 + fill) // 7 if header else 0
        septets = gsm7.unpack(ud[len(header) :], udl - header_septets, fill)
        text = gsm7.from_septets(septets)
    elif encoding == "ucs2":
        body = ud[len(header) : udl]
        if len(ud) < udl or len(body) % 2:
            raise PduError(f"UCS-2 user data of {len(ud)} octets does not match length {udl}")
        try:
            text = body.decode("utf-16-be")
        except UnicodeDecodeError as exc:
            raise PduError(f"broken UCS-2 text (split surrogate pair?): {exc}") from None
    else:
        raise PduError(f"unsupported data coding scheme {dcs:02X}")
    return Submit(number, text, encoding, bool(first & 0x20), concat, mr)


def encode_status_report(
    message_ref: int, number: str, status: int = 0, when: datetime | None = None
) -> tuple[int, str]:
    """``(length, hex)`` of an SMS-STATUS-REPORT, as a modem shows it in ``+CDS``."""
    when = (when or datetime.now(UTC)).astimezone(UTC)
    stamp = when.strftime("%y%m%d%H%M%S")
    swapped = "".join(stamp[i + 1] + stamp[i] for i in range(0, 12, 2)) + "00"
    ts = bytes.fromhex(swapped)
    tpdu = bytes([0x06, message_ref & 0xFF]) + encode_address(number) + ts + ts
    tpdu += bytes([status & 0xFF])
    return len(tpdu), "00" + tpdu.hex().upper()


def decode_status_report(hex_text: str) -> StatusReport:
    r = _Reader(hex_text)
    r.skip_smsc()
    first = r.octet()
    if first & 0x03 != 0x02:
        raise PduError(f"not an SMS-STATUS-REPORT (first octet {first:02X})")
    mr = r.octet()
    number = r.address()
    r.timestamp()  # when the centre accepted it
    delivered_at = r.timestamp()
    return StatusReport(mr, number, r.octet(), delivered_at)


def reassemble(parts: list[Submit]) -> str:
    """The text of a message from its decoded parts, in sequence order."""
    return "".join(p.text for p in sorted(parts, key=lambda p: p.concat[2] if p.concat else 0))
