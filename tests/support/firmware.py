"""The NDP/1 frames documented in docs/counter-display.md, as bytes."""

from __future__ import annotations

import ndp  # firmware/ndp.py


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


DOC_EXAMPLES = [
    ((1, 0, ord("N"), b"A123"), "02 01 00 4E 41 31 32 33 08 03"),
    ((1, 0, ndp.ACK, b""), "02 01 00 06 79 03"),
    ((1, 1, ord("K"), b"3"), "02 01 01 4B 33 28 03"),
    ((3, 2, ord("T"), b"----"), "02 10 23 10 22 54 2D 2D 2D 2D 27 03"),
    ((2, 7, ord("L"), b"F"), "02 10 22 07 4C 46 48 03"),
    ((1, 5, ndp.NAK, b"C"), "02 01 05 15 43 0E 03"),
    ((255, 9, ord("C"), b""), "02 FF 09 43 58 03"),
    ((1, 207, ord("N"), b"A123"), "02 01 CF 4E 41 31 32 33 10 22 03"),
]
