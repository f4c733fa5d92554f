"""The GSM 03.38 default alphabet and septet packing.

Latin text that fits this alphabet travels as 7-bit septets (160 per SMS);
anything else goes as UCS-2 (70 per SMS).  Characters of the extension table
(``€ [ ] { } ^ ~ \\ |`` and form feed) take two septets: an escape and the
character, and the pair is never split across two parts of a long message.
"""

from __future__ import annotations

ESCAPE = 0x1B

# Index = septet value.  0x1B is the escape to the extension table.
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
assert len(BASIC) == 128

_BASIC_CODE = {ch: i for i, ch in enumerate(BASIC) if i != ESCAPE}
_EXT_CHAR = {code: ch for ch, code in EXTENSION.items()}


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` is in the default alphabet or its extension."""
    return all(ch in _BASIC_CODE or ch in EXTENSION for ch in text)


def char_septets(ch: str) -> list[int]:
    """The septets of one character (two for an extension character)."""
    code = _BASIC_CODE.get(ch)
    if code is not None:
        return [code]
    ext = EXTENSION.get(ch)
    if ext is not None:
        return [ESCAPE, ext]
    raise ValueError(f"{ch!r} is not in the GSM 7-bit alphabet")


def to_septets(text: str) -> list[int]:
    return [s for ch in text for s in char_septets(ch)]


def from_septets(septets: list[int]) -> str:
    out: list[str] = []
    escaped = False
    for s in septets:
        if escaped:
            # An unknown extension code shows as the basic character (03.38 rule).
            out.append(_EXT_CHAR.get(s, BASIC[s] if s != ESCAPE else " "))
            escaped = False
        elif s == ESCAPE:
            escaped = True
        else:
            out.append(BASIC[s])
    return "".join(out)


def pack(septets: list[int], fill_bits: int = 0) -> bytes:
    """Pack septets LSB first, after ``fill_bits`` zero bits (to align after a UDH)."""
    value = 0
    for i, s in enumerate(septets):
        value |= (s & 0x7F) << (fill_bits + 7 * i)
    nbits = fill_bits + 7 * len(septets)
    return value.to_bytes((nbits + 7) // 8, "little")


def unpack(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    """The first ``count`` septets of ``data``, skipping ``fill_bits`` first."""
    if fill_bits + 7 * count > 8 * len(data):
        raise ValueError(f"{len(data)} octets cannot hold {count} septets")
    value = int.from_bytes(data, "little") >> fill_bits
    return [(value >> (7 * i)) & 0x7F for i in range(count)]
