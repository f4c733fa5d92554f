"""Ticket and window numbers on the hall screen, from the glyph atlas.

Mixed into :class:`~appliance.hall.screen.Screen`: the atlas is drawn at
start for every size and colour the screen shows numbers at (see
:mod:`.atlas`), and :meth:`NumberPainter.number` draws a number from it, or
the ordinary way when the atlas lacks a piece.
"""

from __future__ import annotations

from typing import Any

import pygame

from ..arabic import ArabicRenderer
from ..config.branch import Config
from ..counted import digits
from ..label import ABJAD, ticket_label
from .atlas import ARABIC_DIGITS, LATIN_DIGITS, GlyphAtlas
from .config import DisplayUnit

Color = tuple[int, int, int]
ACCENT: Color = (255, 204, 0)
FLASH_TEXT: Color = (12, 22, 48)
TEXT: Color = (255, 255, 255)


class NumberPainter:
    """The number-drawing part of the screen (see the module doc)."""

    cfg: Config
    unit: DisplayUnit
    renderer: ArabicRenderer
    regions: Any
    atlas: GlyphAtlas
    _ticket_sizes: dict[str, int]

    def _px(self, size: float) -> int:
        raise NotImplementedError

    def fit(self, text: str, size: int, width: int, bold: bool = False) -> int:
        raise NotImplementedError

    def text(self, text: str, size: int, color: Color = TEXT, bold: bool = False) -> pygame.Surface:
        raise NotImplementedError

    def _blit(
        self,
        frame: pygame.Surface,
        surface: pygame.Surface,
        rect: pygame.Rect,
        *,
        anchor: str = "center",
        y: int | None = None,
    ) -> pygame.Rect:
        raise NotImplementedError

    def _atlas(self) -> GlyphAtlas:
        """The pieces of every number this screen shows, at every size it
        shows them: the current ticket's label (per service and form, fitted
        to the service's widest number) and its second form, the window, the
        rows of the last calls."""
        prefixes = [s.prefix for s in self.cfg.services]
        letters = [ABJAD[p][0] for p in prefixes if p in ABJAD]
        latin = [*prefixes, *LATIN_DIGITS]  # E001, as the master numbers it
        arabic = [*letters, " ", *ARABIC_DIGITS]  # هـ ١
        windows = list(digits(LATIN_DIGITS, self.unit.digits))
        atlas = GlyphAtlas(self.renderer, [*latin, *arabic])
        self._ticket_sizes: dict[str, int] = {}
        big: dict[int, set[str]] = {}
        for s in self.cfg.services:
            widest = ticket_label(s.prefix + "8" * max(3, len(str(s.last))))
            for form in (widest.latin, widest.arabic):
                size = self._ticket_size(form)
                self._ticket_sizes[form[:1]] = min(size, self._ticket_sizes.get(form[:1], size))
        for first, size in self._ticket_sizes.items():
            big.setdefault(size, set()).update(latin if first.isascii() else arabic)
        for color in (ACCENT, FLASH_TEXT):
            for size, pieces in big.items():
                atlas.add(size, color, pieces)
            atlas.add(self._px(60), color, [*arabic, *latin])
            atlas.add(self._px(260), color, windows)
        for n in range(1, self.unit.last_calls + 1):
            atlas.add(self._history_size(n)[1], TEXT, [*latin, *windows])
        return atlas

    def ticket_size(self, ticket: str, color: Color = ACCENT) -> int:
        """The size the current call's ``ticket`` is drawn at: its service's
        (every number of a service alike, fitted to the widest), or fitted
        to itself if the atlas cannot compose it."""
        size = self._ticket_sizes.get(ticket[:1])
        if size is None or not self.atlas.covers(ticket, size, color):
            size = self._ticket_size(ticket)
        return size

    def _ticket_size(self, ticket: str) -> int:
        return self.fit(ticket, self._px(210), self.regions.ticket.width - self._px(40), bold=True)

    def _history_size(self, calls: int) -> tuple[int, int]:
        """``(row height, text size)`` of the last-calls list with ``calls`` rows."""
        r = self.regions.history
        top = r.y + self._px(90) + self._px(60)
        row_h = min(self._px(82), (r.bottom - top - self._px(16)) // max(1, calls))
        # Noto's line box is about 1.5 times the font size.
        return row_h, max(10, int(row_h / 1.55))

    def number(
        self,
        frame: pygame.Surface,
        text: str,
        size: int,
        color: Color,
        rect: pygame.Rect,
        *,
        anchor: str = "center",
        y: int | None = None,
    ) -> None:
        """Draw a ticket or window number like :meth:`_blit` of :meth:`text`,
        from the atlas when it has the pieces (else shaped and cached)."""
        if not self.atlas.covers(text, size, color):
            self._blit(frame, self.text(text, size, color, True), rect, anchor=anchor, y=y)
            return
        topleft = place(rect, self.atlas.size_of(text, size), anchor, y)
        self.atlas.draw(frame, topleft, text, size, color)


def place(rect: pygame.Rect, size: tuple[int, int], anchor: str, y: int | None) -> tuple[int, int]:
    """Top-left corner of a ``size`` box in ``rect``: horizontally at its
    right/left/center, vertically at ``y`` or centred."""
    w, h = size
    top = rect.y + (rect.height - h) // 2 if y is None else y
    if anchor == "right":
        return rect.right - w, top
    if anchor == "left":
        return rect.x, top
    return rect.x + (rect.width - w) // 2, top
