"""Arabic text drawn as images: one renderer for tickets and hall screens.

Printers have no Arabic code page and pygame's own font code cannot order
Arabic and digits, so every Arabic string becomes pixels here.

Two engines, never both on one string:

* **RAQM** (Pillow with libraqm: HarfBuzz shaping, FriBiDi ordering) — the
  normal path.  Each run of text goes to RAQM in *logical* order.
* **BASIC** fallback, only where libraqm is missing: arabic-reshaper picks the
  presentation forms, python-bidi puts them in visual order, and Pillow draws
  the result left to right without shaping.

The Arabic fonts shipped by Debian (Noto Naskh/Sans Arabic) have no Latin
letters, so a ticket number like ``A001`` inside an Arabic line would come out
as boxes.  The renderer therefore splits a line into runs by script: runs with
Latin letters use a Latin font, the rest the Arabic font; runs are placed in
paragraph order (right to left for an Arabic paragraph).  Digits stay inside
the Arabic run, where the bidi algorithm keeps them left to right.

Fonts are found and loaded by :mod:`appliance.fonts`.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

from .errors import HardwareError
from .fonts import (
    ARABIC_FONTS,
    FONT_DIRS,
    FONT_PACKAGE,
    LATIN_FONTS,
    FontNotFoundError,
    bold_sibling,
    find_font,
    font_covers,
    load_font,
    raqm_available,
)

Align = Literal["right", "left", "center"]
Direction = Literal["rtl", "ltr"]
Fill = int | tuple[int, ...]

# Bidi classes that are neither strong letters nor numbers: whitespace and
# punctuation take the direction of the paragraph, not of their neighbours.
_NEUTRAL = {"WS", "ON", "CS", "ES", "ET", "B", "S", "BN", "NSM"}


def _is_rtl(ch: str) -> bool:
    return unicodedata.bidirectional(ch) in ("R", "AL")


def _is_ltr(ch: str) -> bool:
    return unicodedata.bidirectional(ch) == "L"


def base_direction(text: str) -> Direction:
    """Direction of the first strong character (an Arabic paragraph is RTL)."""
    for ch in text:
        if _is_rtl(ch):
            return "rtl"
        if _is_ltr(ch):
            return "ltr"
    return "ltr"


@dataclass(frozen=True)
class Run:
    """A piece of a line drawn with one font: ``script`` is "arabic" or "latin"."""

    text: str
    script: Literal["arabic", "latin"]


def split_runs(
    text: str, base: Direction | None = None, covered: Callable[[str], bool] = lambda ch: True
) -> list[Run]:
    """Split a logical-order line into font runs, still in logical order.

    A stretch without Arabic letters that holds a Latin letter becomes a Latin
    run.  What precedes its first Latin letter after Arabic text (spaces, a
    window number: the bidi algorithm makes those right-to-left) and, in an
    Arabic paragraph, the spaces and punctuation after its last letter or
    digit stay in the Arabic runs, so one RAQM call orders them with their
    Arabic neighbours.  ``covered(ch)`` says whether the Arabic font has a
    glyph; a stretch of digits and punctuation with a character it lacks
    ("30/11/2026" in Noto Naskh, which has no slash) goes to the Latin font
    whole, which keeps its left-to-right order.
    """
    base = base or base_direction(text)
    runs: list[Run] = []

    def add(piece: str, script: Literal["arabic", "latin"]) -> None:
        if not piece:
            return
        if script == "arabic" and not all(map(covered, piece)):
            script = "latin"
            # Its own run even next to another Latin run: it is neutral, and
            # runs are ordered by the paragraph direction.
            runs.append(Run(piece, script))
            return
        if runs and runs[-1].script == script == "arabic":
            runs[-1] = Run(runs[-1].text + piece, script)
        else:
            runs.append(Run(piece, script))

    i = 0
    while i < len(text):
        j = i
        rtl = _is_rtl(text[i])
        while j < len(text) and _is_rtl(text[j]) == rtl:
            j += 1
        stretch = text[i:j]
        if rtl or not any(_is_ltr(ch) for ch in stretch):
            add(stretch, "arabic")
            i = j
            continue
        start, end = 0, len(stretch)
        if i > 0 or base == "rtl":
            while not _is_ltr(stretch[start]):
                start += 1
        if base == "rtl":
            while unicodedata.bidirectional(stretch[end - 1]) in _NEUTRAL:
                end -= 1
        add(stretch[:start], "arabic")
        add(stretch[start:end], "latin")
        add(stretch[end:], "arabic")
        i = j
    return runs


class ArabicRenderer:
    """Draws mixed Arabic/Latin lines with correct shaping and order.

    ``font_path``: the Arabic font (default: Noto Naskh Arabic from
    fonts-noto-core, else Noto Sans Arabic, else DejaVu Sans).
    ``latin_font_path``: the font for Latin runs (default Noto Sans / DejaVu).
    ``use_raqm``: force an engine (tests); default is RAQM when available.
    """

    def __init__(
        self,
        font_path: str | Path | None = None,
        *,
        latin_font_path: str | Path | None = None,
        use_raqm: bool | None = None,
        font_dirs: Sequence[Path] = FONT_DIRS,
    ) -> None:
        if font_path is None:
            font_path = find_font(ARABIC_FONTS, font_dirs)
            if font_path is None:
                raise FontNotFoundError(
                    "no Arabic font found under "
                    + ", ".join(str(d) for d in font_dirs)
                    + f"; install the Debian package {FONT_PACKAGE} (or fonts-dejavu-core)"
                )
        font_path = Path(font_path)
        if not font_path.is_file():
            raise FontNotFoundError(
                f"font file {font_path} not found; install the Debian package {FONT_PACKAGE}"
            )
        if latin_font_path is None:
            latin_font_path = find_font(LATIN_FONTS, font_dirs) or font_path
        self.font_path = font_path
        self.latin_font_path = Path(latin_font_path)
        self.raqm = raqm_available() if use_raqm is None else use_raqm
        if self.raqm and not raqm_available():
            raise HardwareError("Pillow was built without libraqm; install the package libraqm0")
        self._layout = ImageFont.Layout.RAQM if self.raqm else ImageFont.Layout.BASIC
        self._lock = threading.Lock()
        self._measured: dict[tuple[str, int, bool], tuple[int, int]] = {}

    # -- fonts --------------------------------------------------------------
    def covers(self, ch: str) -> bool:
        """Whether the Arabic font has a glyph for ``ch``."""
        return ch.isspace() or font_covers(str(self.font_path), ch)

    def font(self, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        """The Arabic font at ``size`` pixels."""
        return self._font("arabic", size, bold)

    def _font(self, script: str, size: int, bold: bool) -> ImageFont.FreeTypeFont:
        path = self.font_path if script == "arabic" else self.latin_font_path
        return load_font(str(bold_sibling(path) if bold else path), size, self._layout)

    def line_metrics(self, size: int, bold: bool = False) -> tuple[int, int]:
        """``(ascent, descent)`` of a line, the larger of both fonts, so every
        line of a given size has the same height whatever its text."""
        a1, d1 = self._font("arabic", size, bold).getmetrics()
        a2, d2 = self._font("latin", size, bold).getmetrics()
        return max(a1, a2), max(d1, d2)

    # -- layout -------------------------------------------------------------
    def _pieces(
        self, text: str, size: int, bold: bool, direction: Direction | None
    ) -> list[tuple[str, ImageFont.FreeTypeFont, Direction | None, float]]:
        """Visual left-to-right pieces: (text, font, RAQM direction, advance)."""
        base = direction or base_direction(text)
        pieces: list[tuple[str, ImageFont.FreeTypeFont, Direction | None, float]] = []
        if self.raqm:
            for run in split_runs(text, base, self.covers):
                font = self._font(run.script, size, bold)
                pieces.append((run.text, font, base, font.getlength(run.text, direction=base)))
            if base == "rtl":
                pieces.reverse()
            return pieces
        # Fallback: reshape + reorder the whole line once, then draw the
        # visual string left to right, switching font where needed.
        import arabic_reshaper
        from bidi import get_display

        visual = get_display(arabic_reshaper.reshape(text), base_dir="R" if base == "rtl" else "L")
        for run in _visual_font_runs(visual, self.covers):
            font = self._font(run.script, size, bold)
            pieces.append((run.text, font, None, font.getlength(run.text)))
        return pieces

    def measure(self, text: str, size: int, bold: bool = False) -> tuple[int, int]:
        """``(width, height)`` of a line; height is the line height of ``size``."""
        key = (text, size, bold)
        with self._lock:
            found = self._measured.get(key)
            if found is None:
                # Word wrapping measures the same prefixes again and again,
                # and every ticket repeats the same headings: remember them.
                width = sum(round(p[3]) for p in self._pieces(text, size, bold, None))
                ascent, descent = self.line_metrics(size, bold)
                found = (round(width), ascent + descent)
                if len(self._measured) > 4096:
                    self._measured.clear()
                self._measured[key] = found
        return found

    def draw(
        self,
        image: Image.Image,
        xy: tuple[float, float],
        text: str,
        size: int,
        bold: bool = False,
        fill: Fill = 0,
        align: Align = "right",
        direction: Direction | None = None,
    ) -> tuple[int, int]:
        """Draw one line; ``xy`` is its top-right corner for ``align="right"``
        (the natural anchor for Arabic), top-left for "left", top-centre for
        "center".  Returns the line's ``(width, height)``."""
        with self._lock:
            pieces = self._pieces(text, size, bold, direction)
            width = sum(round(p[3]) for p in pieces)
            ascent, descent = self.line_metrics(size, bold)
            x, y = xy
            if align == "right":
                x -= width
            elif align == "center":
                x -= width / 2
            # Whole pixels: a run then looks the same wherever it lands, which
            # keeps thermal-printer dots crisp (and makes renderings comparable).
            x, baseline = round(x), round(y) + ascent
            canvas = ImageDraw.Draw(image)
            for piece, font, piece_dir, advance in pieces:
                if piece_dir is None:
                    canvas.text((x, baseline), piece, font=font, fill=fill, anchor="ls")
                else:
                    canvas.text(
                        (x, baseline),
                        piece,
                        font=font,
                        fill=fill,
                        anchor="ls",
                        direction=piece_dir,
                        language="ar" if font.path == str(self.font_path) else None,
                    )
                x += round(advance)
        return round(width), ascent + descent

    def render_line(
        self,
        text: str,
        size: int,
        *,
        bold: bool = False,
        fill: Fill = 0,
        background: Fill = 255,
        mode: str = "L",
        padding: int = 0,
        direction: Direction | None = None,
    ) -> Image.Image:
        """One line as its own image, e.g. for pygame (``mode="RGBA"``,
        ``background=(0, 0, 0, 0)``)."""
        width, height = self.measure(text, size, bold)
        image = Image.new(mode, (max(1, width + 2 * padding), height + 2 * padding), background)
        self.draw(image, (padding, padding), text, size, bold, fill, "left", direction)
        return image

    def render_paragraph(
        self,
        text: str,
        size: int,
        max_width: int,
        *,
        bold: bool = False,
        fill: Fill = 0,
        background: Fill = 255,
        mode: str = "L",
        align: Align = "right",
        line_gap: int = 0,
    ) -> Image.Image:
        """A wrapped paragraph as one image ``max_width`` wide (screens: the
        documents of a service); Arabic paragraphs align right."""
        lines = self.wrap(text, size, max_width, bold) or [""]
        height = self.measure("", size, bold)[1]
        image = Image.new(mode, (max_width, len(lines) * (height + line_gap)), background)
        x = {"right": max_width, "left": 0, "center": max_width / 2}[align]
        for i, line in enumerate(lines):
            self.draw(image, (x, i * (height + line_gap)), line, size, bold, fill, align)
        return image

    def wrap(self, text: str, size: int, max_width: int, bold: bool = False) -> list[str]:
        """Break a paragraph into lines no wider than ``max_width``.

        Lines are cut between words in logical order, so the first line holds
        the first words (drawn on the right for Arabic).  A single word wider
        than the line is cut between characters as a last resort.
        """
        lines: list[str] = []
        current = ""
        for word in text.split():
            candidate = f"{current} {word}" if current else word
            if self.measure(candidate, size, bold)[0] <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = word
            while self.measure(current, size, bold)[0] > max_width and len(current) > 1:
                cut = len(current) - 1
                while cut > 1 and self.measure(current[:cut], size, bold)[0] > max_width:
                    cut -= 1
                lines.append(current[:cut])
                current = current[cut:]
        if current:
            lines.append(current)
        return lines


def _visual_font_runs(visual: str, covered: Callable[[str], bool]) -> list[Run]:
    """Font runs of an already visual-order string, chosen as the RAQM path
    chooses them: a stretch without Arabic letters that has a Latin letter or
    a character the Arabic font lacks goes to the Latin font whole (its
    spaces at either end stay Arabic)."""
    runs: list[Run] = []

    def add(piece: str, script: Literal["arabic", "latin"]) -> None:
        if piece and runs and runs[-1].script == script:
            runs[-1] = Run(runs[-1].text + piece, script)
        elif piece:
            runs.append(Run(piece, script))

    i = 0
    while i < len(visual):
        rtl = _is_rtl(visual[i])
        j = i
        while j < len(visual) and _is_rtl(visual[j]) == rtl:
            j += 1
        stretch = visual[i:j]
        if rtl or all(covered(ch) and not _is_ltr(ch) for ch in stretch):
            add(stretch, "arabic")
        else:
            core = stretch.strip()
            lead = stretch[: len(stretch) - len(stretch.lstrip())]
            add(lead, "arabic")
            add(core, "latin")
            add(stretch[len(lead) + len(core) :], "arabic")
        i = j
    return runs


_default: ArabicRenderer | None = None
_default_lock = threading.Lock()


def default_renderer() -> ArabicRenderer:
    """A process-wide renderer with the system's fonts (built on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ArabicRenderer()
        return _default


__all__ = [
    "ARABIC_FONTS",
    "FONT_DIRS",
    "FONT_PACKAGE",
    "LATIN_FONTS",
    "Align",
    "ArabicRenderer",
    "FontNotFoundError",
    "base_direction",
    "default_renderer",
    "find_font",
    "raqm_available",
    "split_runs",
]
