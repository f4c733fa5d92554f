"""Ticket numbers from a glyph atlas: a new number costs blits, not shaping.

Every call brings a number the screen has never shown, and shaping and
rasterizing it at 1080p is the slowest thing the hall does (and keeping the
result, its largest memory).  So the pieces numbers are made of (the digits
of both scripts, each service's prefix letter and the Arabic letter it is
read as, the space) are drawn once at start, at each size and colour the
screen uses, and a number is composed from them: a frame with a number
never seen before costs the same as any other, and memory stays the same
however many numbers pass.

A text with a piece the atlas lacks is not its business: the caller draws it
the ordinary way (:meth:`GlyphAtlas.covers`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pygame

from ..arabic import ArabicRenderer

Color = tuple[int, int, int]

LATIN_DIGITS = "0123456789"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"


@dataclass(frozen=True)
class Glyph:
    surface: pygame.Surface  #: the ink, cropped
    dx: int  #: where the ink starts, from the piece's pen position
    dy: int  #: where the ink starts, from the line's top
    advance: float  #: unrounded, as the shaper places the next glyph


class GlyphAtlas:
    """Pieces of ticket numbers drawn once per (size, colour), all bold.

    ``pieces``: the strings a number is cut into (single digits, prefix
    letters, the Arabic letter names such as ``"هـ"``, which are shaped
    whole).  Sizes and colours are added with :meth:`add`, each with the
    pieces shown at that size; nothing is drawn after start-up."""

    def __init__(self, renderer: ArabicRenderer, pieces: Iterable[str]) -> None:
        self.renderer = renderer
        # Longest first: a piece of several characters wins over its first one.
        self.pieces = sorted(set(pieces), key=len, reverse=True)
        self._glyphs: dict[tuple[str, int, Color], Glyph] = {}
        self._styles: set[tuple[int, Color]] = set()
        self._advances: dict[tuple[str, int], float] = {}
        self._line_heights: dict[int, int] = {}

    def add(self, size: int, color: Color, pieces: Iterable[str] | None = None) -> None:
        """Draw ``pieces`` (default: all) at ``size`` in ``color`` (once each)."""
        self._styles.add((size, color))
        self._line_heights[size] = self.renderer.measure("", size, True)[1]
        pad = size // 2  # room for ink outside the advance (italic tails, marks)
        wanted = set(self.pieces if pieces is None else pieces)
        for piece in self.pieces:
            if piece not in wanted or (piece, size, color) in self._glyphs:
                continue
            image = self.renderer.render_line(
                piece,
                size,
                bold=True,
                fill=(*color, 255),
                background=(0, 0, 0, 0),
                mode="RGBA",
                padding=pad,
            )
            surface = pygame.image.frombytes(image.tobytes(), image.size, "RGBA")
            ink = surface.get_bounding_rect()
            cropped = surface.subsurface(ink).copy() if ink.width else pygame.Surface((0, 0))
            if pygame.display.get_surface() is not None:
                cropped = cropped.convert_alpha()
            advance = self.renderer.advance(piece, size, True)
            self._advances[(piece, size)] = advance
            self._glyphs[(piece, size, color)] = Glyph(cropped, ink.x - pad, ink.y - pad, advance)

    @property
    def styles(self) -> set[tuple[int, Color]]:
        return set(self._styles)

    def split(self, text: str) -> list[str] | None:
        """``text`` cut into pieces, or None if a character has no piece."""
        out: list[str] = []
        i = 0
        while i < len(text):
            for piece in self.pieces:
                if text.startswith(piece, i):
                    out.append(piece)
                    i += len(piece)
                    break
            else:
                return None
        return out

    def covers(self, text: str, size: int, color: Color) -> bool:
        if not text or (size, color) not in self._styles:
            return False
        pieces = self.split(text)
        return pieces is not None and all((p, size, color) in self._glyphs for p in pieces)

    def _visual(self, text: str) -> list[str]:
        """Pieces in drawing order, left to right.  Digits read left to right
        in both scripts; a text with an Arabic letter runs right to left, so
        its runs (letter, space, the digits as one run) are reversed."""
        pieces = self.split(text)
        if pieces is None:
            raise ValueError(f"the atlas cannot compose {text!r}")
        if not any(_is_arabic_letter(p) for p in pieces):
            return pieces
        runs: list[list[str]] = []
        for piece in pieces:
            digit = piece in LATIN_DIGITS or piece in ARABIC_DIGITS
            if digit and runs and runs[-1][0][:1] in LATIN_DIGITS + ARABIC_DIGITS:
                runs[-1].append(piece)
            else:
                runs.append([piece])
        return [p for run in reversed(runs) for p in run]

    def size_of(self, text: str, size: int) -> tuple[int, int]:
        """``(width, line height)`` of ``text`` as composed."""
        pieces = self.split(text) or []
        width = sum(self._advances[(p, size)] for p in pieces)
        return round(width), self._line_heights[size]

    def draw(
        self, target: pygame.Surface, topleft: tuple[int, int], text: str, size: int, color: Color
    ) -> None:
        """Blit ``text`` with its line box's top-left corner at ``topleft``."""
        x, y = topleft
        pen = 0.0
        for piece in self._visual(text):
            glyph = self._glyphs[(piece, size, color)]
            target.blit(glyph.surface, (x + round(pen) + glyph.dx, y + glyph.dy))
            pen += glyph.advance

    @property
    def pixel_bytes(self) -> int:
        return sum(
            g.surface.get_width() * g.surface.get_height() * 4 for g in self._glyphs.values()
        )


def _is_arabic_letter(piece: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" and ch not in ARABIC_DIGITS for ch in piece)
