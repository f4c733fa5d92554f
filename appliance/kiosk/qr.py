"""The ticket's QR code, the same symbol as qrcode's, without its slow part.

qrcode picks the mask by building the symbol eight times and scoring each
with pure-Python loops: three quarters of a ticket's drawing time once the
rest comes from the band cache.  Here the symbol is built once with mask 0
in qrcode's test mode; the other seven differ from it only in the data
modules (each flipped where mask 0 or mask k says), and the four penalty
rules of ISO/IEC 18004 are scored on rows and columns as strings and
integers, exactly as qrcode scores them (its ties go to the lowest mask).
qrcode then builds the chosen symbol, so the modules are qrcode's own;
``tests/kiosk/test_qr.py`` compares the choice with qrcode's for many
references.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from PIL import Image

# qrcode ships no type information; keep it out of mypy's sight.
qrcode: Any = importlib.import_module("qrcode")
qr_main: Any = importlib.import_module("qrcode.main")
qr_util: Any = importlib.import_module("qrcode.util")



def qr_image(data: str, target: int) -> Image.Image:
    """``data`` as a QR code (level M, border 2) about ``target`` dots wide."""
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.best_fit(start=code.version)
    mask, rows = _best(code)
    # The chosen symbol is the scored one with its format (and version)
    # information written in, as qrcode's make() would write them.
    n, border = code.modules_count, 2
    code.mask_pattern = mask
    code.modules = [[(r >> (n - 1 - c)) & 1 == 1 for c in range(n)] for r in rows]
    code.setup_type_info(False, mask)
    if code.version >= 7:
        code.setup_type_number(False)
    # qrcode's own image draws a rectangle per dark module; blowing the
    # module matrix up by whole dots gives the same pixels.
    box = max(2, target // (n + 2 * border))
    matrix = Image.frombytes(
        "L", (n, n), b"".join(bytes(0 if v else 255 for v in row) for row in code.modules)
    )
    framed = Image.new("L", (n + 2 * border, n + 2 * border), 255)
    framed.paste(matrix, (border, border))
    size = framed.width * box
    return framed.resize((size, size), Image.Resampling.NEAREST).convert(
        "1", dither=Image.Dither.NONE
    )


def best_mask(code: Any) -> int:
    """The mask qrcode's ``best_mask_pattern`` would choose for ``code``."""
    return _best(code)[0]


def _best(code: Any) -> tuple[int, list[int]]:
    """The best mask and its symbol's rows, format information left blank."""
    code.makeImpl(True, 0)
    n = code.modules_count
    base = [_row_int(row) for row in code.modules]
    lines = _join(base + _transpose(base, n), n)
    best, best_score, best_rows = 0, 0, base
    for k in range(8):
        flips, flip_lines = _flips(code.version, k)
        score = _score(lines ^ flip_lines, n)
        if k == 0 or best_score > score:
            best, best_score = k, score
            best_rows = [b ^ f for b, f in zip(base, flips, strict=True)]
    return best, best_rows


@cache
def _flips(version: int, k: int) -> tuple[tuple[int, ...], int]:
    """Where mask ``k``'s symbol differs from mask 0's: its rows, and its
    rows then columns joined (:func:`_join`)."""
    n = version * 4 + 17
    rows = tuple(d & (m0 ^ mk) for d, m0, mk in zip(_data_rows_of(version), _mask_rows(n, 0), _mask_rows(n, k), strict=True))  # fmt: skip
    return rows, _join(list(rows) + _transpose(list(rows), n), n)


def _transpose(ints: list[int] | tuple[int, ...], n: int) -> list[int]:
    """Rows as integers (:func:`_row_int`) to columns as integers."""
    rows = [format(x, f"0{n}b") for x in ints]
    return [int("".join(col), 2) for col in zip(*rows, strict=True)]


def _row_int(row: list[Any]) -> int:
    """A row of modules as an integer, column 0 the highest bit, dark = 1."""
    return int("".join("1" if v else "0" for v in row), 2)


@cache
def _data_rows_of(version: int) -> tuple[int, ...]:
    code = qrcode.QRCode(version=version)
    code.modules_count = n = version * 4 + 17
    if version not in qr_main.precomputed_qr_blanks:
        code.makeImpl(True, 0)
    # What neither the fixed patterns nor the format and version information
    # occupy, laid out as makeImpl lays them out.
    code.modules = qr_main.copy_2d_array(qr_main.precomputed_qr_blanks[version])
    code.setup_type_info(True, 0)
    if version >= 7:
        code.setup_type_number(True)
    return tuple(_row_int([v is None for v in row]) for row in code.modules[:n])


@cache
def _mask_rows(n: int, k: int) -> tuple[int, ...]:
    mask = qr_util.mask_func(k)
    return tuple(_row_int([mask(r, c) for c in range(n)]) for r in range(n))


def lost_point(modules: list[list[bool]]) -> int:
    """qrcode's ``util.lost_point`` of ``modules``."""
    return lost_point_rows([_row_int(row) for row in modules], len(modules))


def lost_point_rows(ints: list[int], n: int, cols: list[int] | None = None) -> int:
    """qrcode's ``util.lost_point``, on rows as integers (:func:`_row_int`);
    ``cols``, the columns likewise, when the caller has them."""
    if cols is None:
        cols = _transpose(ints, n)
    return _score(_join(ints + cols, n), n)


#: The 1:1:3:1:1 pattern with four light modules on either side (rule 3).
_FINDER_LEFT, _FINDER_RIGHT = 0b10111010000, 0b00001011101


def _join(lines: list[int], n: int) -> int:
    """Lines of ``n`` modules as one integer, line ``j`` at bits ``j*(n+1)``
    up, a light module between lines (no run or pattern crosses it)."""
    whole = 0
    for j, line in enumerate(lines):
        whole |= line << (j * (n + 1))
    return whole


@cache
def _starts(n: int, lines: int, width: int) -> int:
    """Bits where a window of ``width`` modules starting there (upwards)
    stays inside one of ``lines`` lines."""
    one = (1 << (n - width + 1)) - 1
    return _join([one] * lines, n)


def _score(whole: int, n: int) -> int:
    """qrcode's ``util.lost_point`` of a symbol given as its rows then its
    columns joined (:func:`_join`): every rule on all lines at once."""
    stride, rows = n + 1, whole & ((1 << (n * (n + 1))) - 1)
    # 1: five or more alike in a line, 3 + (length - 5) each: a run of L
    # has L - 4 windows of five alike, and one first window.
    alike = ~(whole ^ (whole >> 1))
    five = alike & (alike >> 1) & (alike >> 2) & (alike >> 3) & _starts(n, 2 * n, 5)
    points = five.bit_count() + 2 * (five & ~(five << 1)).bit_count()
    # 2: 2×2 blocks of one colour, 3 each (rows only, as qrcode counts).
    down = ~(rows ^ (rows >> stride))
    across = ~(rows ^ (rows >> 1))
    points += 3 * (down & (down >> 1) & across & _starts(n, n - 1, 2)).bit_count()
    # 3: the finder-like pattern, either way round, 40 each.
    light = ~whole
    for pattern in (_FINDER_LEFT, _FINDER_RIGHT):
        found = _starts(n, 2 * n, 11)
        for bit in range(11):
            found &= (whole if pattern >> bit & 1 else light) >> bit
        points += 40 * found.bit_count()
    # 4: every 5 % the dark share departs from 50 %, 10.
    percent = float(rows.bit_count()) / (n**2)
    return points + int(abs(percent * 100 - 50) / 5) * 10
