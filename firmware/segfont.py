# Seven-segment font for the MAX7219 in no-decode mode.
#
# Bit layout of a digit register:  DP A B C D E F G  (bit 7 .. bit 0)
#
#      -A-
#     F   B
#      -G-
#     E   C
#      -D-   .DP
#
# Seven segments cannot draw every letter.  The substitutions (documented in
# docs/counter-display.md) keep every prefix letter distinct from the others
# where possible; S looks like 5 and Z like 2 on any seven-segment display,
# so a branch should not give those prefixes to services.

DP = 0x80

GLYPHS = {
    "0": 0x7E,
    "1": 0x30,
    "2": 0x6D,
    "3": 0x79,
    "4": 0x33,
    "5": 0x5B,
    "6": 0x5F,
    "7": 0x70,
    "8": 0x7F,
    "9": 0x7B,
    "A": 0x77,
    "B": 0x1F,  # lower-case b: an upper-case B would be an 8
    "C": 0x4E,
    "D": 0x3D,  # lower-case d: an upper-case D would be a 0
    "E": 0x4F,
    "F": 0x47,
    "G": 0x5E,
    "H": 0x37,
    "I": 0x06,  # left bar, so that it differs from 1 (right bar)
    "J": 0x3C,
    "K": 0x57,  # H with a top bar: no true K exists
    "L": 0x0E,
    "M": 0x55,  # n with a top bar: no true M exists
    "N": 0x15,  # lower-case n
    "O": 0x1D,  # lower-case o, so that it differs from 0
    "P": 0x67,
    "Q": 0x73,  # lower-case q
    "R": 0x05,  # lower-case r
    "S": 0x5B,  # same as 5: unavoidable
    "T": 0x0F,  # lower-case t
    "U": 0x3E,
    "V": 0x1C,  # lower-case u
    "W": 0x2A,  # three short strokes: no true W exists
    "X": 0x49,  # three bars: an X would be an H
    "Y": 0x3B,  # lower-case y
    "Z": 0x6D,  # same as 2: unavoidable
    " ": 0x00,
    "-": 0x01,
    "_": 0x08,
    "=": 0x09,
}

# Characters allowed in a ticket number (command N); status texts (command T)
# may use every glyph above.
NUMBER_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def glyph(ch: str) -> int:
    """Segment bits of one character; raises KeyError for one the font lacks."""
    return GLYPHS[ch.upper()]


def render(text: str, digits: int) -> list:
    """Segment bytes for ``text``, right-aligned on ``digits`` positions,
    leftmost position first.  A '.' lights the decimal point of the character
    before it.  Raises ValueError for text that does not fit or cannot be
    drawn, so the caller can NAK it instead of showing something wrong."""
    cells = []
    for ch in text:
        if ch == ".":
            if cells and not cells[-1] & DP:
                cells[-1] |= DP
            else:
                cells.append(DP)
            continue
        try:
            cells.append(glyph(ch))
        except KeyError:
            raise ValueError("no seven-segment glyph for %r" % ch) from None
    if len(cells) > digits:
        raise ValueError("%r needs %d digits, the display has %d" % (text, len(cells), digits))
    return [0] * (digits - len(cells)) + cells


def read_back(segments: int) -> str:
    """The character a segment pattern shows (for tests and diagnostics).
    Ambiguous patterns read as the digit: S reads back as 5, Z as 2."""
    dp = "." if segments & DP else ""
    bits = segments & 0x7F
    for ch in "0123456789 -_=ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if GLYPHS[ch] == bits:
            return ch + dp
    return "?" + dp
