"""Drawing the hall screen: one frame from a :class:`HallSnapshot` and the time.

Layout (right to left, on a 1920×1080 grid scaled to the real screen):

* header: the centre's name; the time, the Gregorian and the Hijri date;
* the current call, large: the ticket on the right, the window on the left,
  flashing for ``flash_s`` after it arrives;
* the last calls, on the left;
* a strip with each service's waiting count and estimated wait;
* the rotating panel: documents, fees, the charter's complaint channels;
* over everything, a red sign while the master is offline.

Every string is drawn by the shared :mod:`appliance.arabic` renderer and
kept as a pygame surface, so a frame is only fills and blits; numbers come
from a glyph atlas (:mod:`.numbers`).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..arabic import ArabicRenderer
from ..config.branch import Config
from ..counted import digits
from ..label import ticket_label
from .config import DisplayUnit
from .numbers import ACCENT, FLASH_TEXT, TEXT, NumberPainter, place
from .pages import (
    Page,
    clock_text,
    gregorian_text,
    hijri_text,
    panel_pages,
)
from .state import Call, HallSnapshot
from .tiles import draw_services

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame

Color = tuple[int, int, int]
BACKGROUND: Color = (12, 22, 48)
PANEL: Color = (22, 38, 78)
MUTED: Color = (170, 185, 215)
OFFLINE: Color = (200, 30, 30)
FLASH_PERIOD = 0.5  # seconds per on/off phase

BASE_W, BASE_H = 1920, 1080
# Drawn texts are kept up to this many bytes of pixels (least recently used
# first out).  Ticket numbers are not among them (the glyph atlas draws
# them): what varies is the services' waiting counts and estimates.  Every
# page of the example branch's panel with its strip takes about 6 MB; a
# frame draws one page, so the rest is room for the day's counts.
TEXT_CACHE_BYTES = 8 * 1024 * 1024
FIT_CACHE = 4096


@dataclass(frozen=True)
class Regions:
    """Where things go, in pixels of the real screen."""

    header: pygame.Rect
    current: pygame.Rect
    ticket: pygame.Rect  #: the current ticket number's box
    window: pygame.Rect  #: the current window number's box
    history: pygame.Rect
    services: pygame.Rect
    panel: pygame.Rect
    offline: pygame.Rect


class Screen(NumberPainter):
    """Renders frames for one display unit at ``size``."""

    def __init__(
        self, cfg: Config, unit: DisplayUnit, size: tuple[int, int], renderer: ArabicRenderer
    ) -> None:
        self.cfg = cfg
        self.unit = unit
        self.size = size
        self.renderer = renderer
        self.sx, self.sy = size[0] / BASE_W, size[1] / BASE_H
        self.scale = min(self.sx, self.sy)
        self.regions = self._regions()
        self._cache: OrderedDict[tuple[Any, ...], pygame.Surface] = OrderedDict()
        self._cache_bytes = 0
        self._fits: dict[tuple[str, int, int, bool], int] = {}
        self._wraps: dict[tuple[str, str, int, int, bool, int], tuple[int, tuple[str, ...]]] = {}
        self.pages = self._layout_pages(panel_pages(cfg, unit))
        self.atlas = self._atlas()

    # -- geometry -----------------------------------------------------------
    def _r(self, x: float, y: float, w: float, h: float) -> pygame.Rect:
        return pygame.Rect(
            round(x * self.sx), round(y * self.sy), round(w * self.sx), round(h * self.sy)
        )

    def _px(self, size: float) -> int:
        return max(8, round(size * self.scale))

    def _regions(self) -> Regions:
        return Regions(
            header=self._r(0, 0, 1920, 110),
            current=self._r(690, 122, 1200, 620),
            ticket=self._r(1300, 225, 570, 495),
            window=self._r(710, 225, 470, 495),
            history=self._r(30, 122, 640, 620),
            services=self._r(30, 756, 1860, 140),
            panel=self._r(0, 908, 1920, 172),
            offline=self._r(260, 300, 1400, 300),
        )

    # -- text ---------------------------------------------------------------
    def text(self, text: str, size: int, color: Color = TEXT, bold: bool = False) -> pygame.Surface:
        """``text`` at ``size`` pixels as a transparent surface (cached)."""
        key = (text, size, color, bold)
        surface = self._cache.get(key)
        if surface is not None:
            self._cache.move_to_end(key)
            return surface
        image = self.renderer.render_line(
            text, size, bold=bold, fill=(*color, 255), background=(0, 0, 0, 0), mode="RGBA"
        )
        surface = pygame.image.frombytes(image.tobytes(), image.size, "RGBA")
        if pygame.display.get_surface() is not None:
            surface = surface.convert_alpha()
        self._cache[key] = surface
        self._cache_bytes += _pixel_bytes(surface)
        while self._cache_bytes > TEXT_CACHE_BYTES and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cache_bytes -= _pixel_bytes(old)
        return surface

    def wrap_fit(
        self, text: str, size: int, width: int, bold: bool = False, max_lines: int = 2
    ) -> tuple[int, tuple[str, ...]]:
        """``text`` wrapped at word boundaries into at most ``max_lines`` lines of
        ``width``, at the largest size ≤ ``size`` that allows it (cached): a long
        service name stays readable on two lines instead of shrinking to one."""
        key = ("wrap", text, size, width, bold, max_lines)
        cached = self._wraps.get(key)
        if cached is None:
            fitted = size
            lines = tuple(self.renderer.wrap(text, fitted, width, bold))
            words = " ".join(text.split())
            # Shrink while it takes too many lines or a word had to be cut.
            while fitted > 10 and (len(lines) > max_lines or " ".join(lines) != words):
                fitted = int(fitted * 0.9)
                lines = tuple(self.renderer.wrap(text, fitted, width, bold))
            if len(self._wraps) > FIT_CACHE:
                self._wraps.clear()
            cached = self._wraps[key] = (fitted, lines)
        return cached

    def fit(self, text: str, size: int, width: int, bold: bool = False) -> int:
        """The largest size ≤ ``size`` at which ``text`` fits in ``width`` (cached)."""
        key = (text, size, width, bold)
        fitted = self._fits.get(key)
        if fitted is None:
            fitted = size
            while fitted > 10 and self.renderer.measure(text, fitted, bold)[0] > width:
                fitted = int(fitted * 0.9)
            if len(self._fits) > FIT_CACHE:
                self._fits.clear()
            self._fits[key] = fitted
        return fitted

    def _blit(
        self,
        frame: pygame.Surface,
        surface: pygame.Surface,
        rect: pygame.Rect,
        *,
        anchor: str = "center",
        y: int | None = None,
    ) -> pygame.Rect:
        """Place ``surface`` in ``rect``: horizontally right/left/center; at ``y`` or centred."""
        return frame.blit(surface, place(rect, surface.get_size(), anchor, y))

    def _layout_pages(self, pages: list[Page]) -> list[tuple[str, list[str]]]:
        """Pages cut to what fits the panel: a title and at most two lines."""
        width = self.regions.panel.width - 2 * self._px(40)
        size = self._px(30)
        out: list[tuple[str, list[str]]] = []
        for page in pages:
            lines = self.renderer.wrap("،   ".join(page.items), size, width) if page.items else []
            if not lines:
                out.append((page.title, []))
            for i in range(0, len(lines), 2):
                out.append((page.title, lines[i : i + 2]))
        return out

    # -- timing -------------------------------------------------------------
    def flashing(self, call: Call | None, mono: float) -> bool:
        """Whether ``call`` is in its highlighted phase at ``mono``."""
        if call is None or not call.fresh:
            return False
        age = mono - call.received
        if age < 0 or age >= self.unit.flash_s:
            return False
        return int(age / FLASH_PERIOD) % 2 == 0

    def next_change(self, snap: HallSnapshot, mono: float, wall: dt.datetime) -> float:
        """Seconds until the frame would look different without new data."""
        waits = [60 - wall.second - wall.microsecond / 1e6]  # the clock's minute
        if len(self.pages) > 1:
            period = self.unit.panel_s
            waits.append(period - math.fmod(wall.timestamp(), period))
        call = snap.current
        if call is not None and call.fresh:
            age = mono - call.received
            if 0 <= age < self.unit.flash_s:
                waits.append(FLASH_PERIOD - math.fmod(age, FLASH_PERIOD))
        return max(0.01, min(waits))

    # -- drawing ------------------------------------------------------------
    def render(
        self,
        snap: HallSnapshot,
        wall: dt.datetime,
        mono: float,
        frame: pygame.Surface | None = None,
    ) -> pygame.Surface:
        """Draw one whole frame (onto ``frame`` or a new surface) and return it."""
        if frame is None:
            frame = pygame.Surface(self.size)
        frame.fill(BACKGROUND)
        self._header(frame, wall)
        self._current(frame, snap.current, mono)
        self._history(frame, snap.calls[1 : 1 + self.unit.last_calls])
        self._services(frame, snap)
        self._panel(frame, wall)
        if snap.offline:
            self._offline(frame)
        return frame

    def _header(self, frame: pygame.Surface, wall: dt.datetime) -> None:
        r = self.regions.header
        pygame.draw.rect(frame, PANEL, r)
        pad = self._px(40)
        inner = r.inflate(-2 * pad, 0)
        name = self.cfg.branch.name_ar
        self._blit(
            frame,
            self.text(name, self.fit(name, self._px(44), r.width // 2), TEXT, True),
            inner,
            anchor="right",
        )
        style = self.unit.digits
        clock = self._blit(
            frame,
            self.text(clock_text(wall, style), self._px(64), ACCENT, True),
            inner,
            anchor="left",
        )
        dates = pygame.Rect(clock.right + pad, r.y, r.width // 3, r.height)
        g = self.text(gregorian_text(wall.date(), style), self._px(32), TEXT)
        h = self.text(
            hijri_text(wall.date(), self.unit.hijri_adjust_days, style), self._px(32), MUTED
        )
        top = r.y + (r.height - g.get_height() - h.get_height()) // 2
        self._blit(frame, g, dates, anchor="left", y=top)
        self._blit(frame, h, dates, anchor="left", y=top + g.get_height())

    def _current(self, frame: pygame.Surface, call: Call | None, mono: float) -> None:
        reg = self.regions
        pygame.draw.rect(frame, PANEL, reg.current, border_radius=self._px(24))
        title = self.text("النداء الحالي", self._px(44), MUTED, True)
        self._blit(
            frame,
            title,
            reg.current.inflate(-self._px(60), 0),
            anchor="right",
            y=reg.current.y + self._px(20),
        )
        if call is None:
            return
        flash = self.flashing(call, mono)
        fg = FLASH_TEXT if flash else ACCENT
        for box in (reg.ticket, reg.window):
            if flash:
                pygame.draw.rect(frame, ACCENT, box, border_radius=self._px(20))
            else:
                pygame.draw.rect(
                    frame, ACCENT, box, width=max(2, self._px(6)), border_radius=self._px(20)
                )
        label_y = reg.ticket.y + self._px(20)
        self._blit(frame, self.text("رقم العميل", self._px(44), fg, True), reg.ticket, y=label_y)
        self._blit(frame, self.text("الشباك", self._px(44), fg, True), reg.window, y=label_y)
        # The same label as the citizen's paper (branch.ticket_label); with
        # both forms, E001 large (the hall's established look) and هـ ١ beneath.
        forms = sorted(
            ticket_label(call.ticket).forms(self.cfg.branch.ticket_label),
            key=lambda form: not form.isascii(),
        )
        self.number(frame, forms[0], self.ticket_size(forms[0], fg), fg, reg.ticket)
        window = digits(str(call.window), self.unit.digits)
        self.number(frame, window, self._px(260), fg, reg.window)
        if len(forms) > 1:
            line_h = self.renderer.measure("", self._px(60), True)[1]
            y = reg.ticket.bottom - line_h - self._px(16)
            self.number(frame, forms[1], self._px(60), fg, reg.ticket, y=y)
        # The arrow from the ticket to its window (pointing left: RTL reading order).
        cx, cy = (reg.ticket.x + reg.window.right) // 2, reg.ticket.centery
        a = self._px(50)
        pygame.draw.polygon(
            frame, ACCENT, [(cx - a, cy), (cx + a // 2, cy - a), (cx + a // 2, cy + a)]
        )

    def _history(self, frame: pygame.Surface, calls: tuple[Call, ...]) -> None:
        r = self.regions.history
        pygame.draw.rect(frame, PANEL, r, border_radius=self._px(24))
        inner = r.inflate(-self._px(60), 0)
        self._blit(
            frame,
            self.text("النداءات السابقة", self._px(44), MUTED, True),
            inner,
            anchor="right",
            y=r.y + self._px(20),
        )
        heads_y = r.y + self._px(90)
        self._blit(
            frame, self.text("العميل", self._px(32), MUTED), inner, anchor="right", y=heads_y
        )
        self._blit(frame, self.text("الشباك", self._px(32), MUTED), inner, anchor="left", y=heads_y)
        if not calls:
            return
        top = heads_y + self._px(60)
        row_h, size = self._history_size(len(calls))
        for i, call in enumerate(calls):
            row = pygame.Rect(inner.x, top + i * row_h, inner.width, row_h)
            pygame.draw.line(frame, BACKGROUND, row.topleft, row.topright, max(1, self._px(2)))
            self.number(frame, call.ticket, size, TEXT, row, anchor="right")
            window = digits(str(call.window), self.unit.digits)
            self.number(frame, window, size, TEXT, row, anchor="left")

    def _services(self, frame: pygame.Surface, snap: HallSnapshot) -> None:
        draw_services(self, frame, snap, (PANEL, ACCENT, TEXT, MUTED))

    def page_index(self, wall: dt.datetime) -> int:
        return int(wall.timestamp() // self.unit.panel_s) % len(self.pages)

    def _panel(self, frame: pygame.Surface, wall: dt.datetime) -> None:
        r = self.regions.panel
        pygame.draw.rect(frame, PANEL, r)
        title, lines = self.pages[self.page_index(wall)]
        inner = r.inflate(-2 * self._px(40), -2 * self._px(6))
        y = inner.y
        if title:
            t = self.text(title, self._px(30), ACCENT, True)
            self._blit(frame, t, inner, anchor="right", y=y)
            y += t.get_height()
        for line in lines:
            s = self.text(line, self._px(30), TEXT)
            self._blit(frame, s, inner, anchor="right", y=y)
            y += s.get_height()

    def _offline(self, frame: pygame.Surface) -> None:
        r = self.regions.offline
        pygame.draw.rect(frame, OFFLINE, r, border_radius=self._px(24))
        pygame.draw.rect(frame, TEXT, r, width=max(2, self._px(6)), border_radius=self._px(24))
        big = self.text("النظام غير متصل", self._px(96), TEXT, True)
        small = self.text("النداء الآلي متوقف مؤقتاً، برجاء الانتظار", self._px(48), TEXT, True)
        top = r.y + (r.height - big.get_height() - small.get_height()) // 2
        self._blit(frame, big, r, y=top)
        self._blit(frame, small, r, y=top + big.get_height())


def _pixel_bytes(surface: pygame.Surface) -> int:
    width, height = surface.get_size()
    return width * height * 4
