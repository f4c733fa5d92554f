"""The services strip of the hall screen: one tile per service, its name
(wrapped onto two lines when long), how many wait and the expected wait."""

from __future__ import annotations

from typing import Any

import pygame

from ..counted import digits
from .pages import minutes_text
from .state import HallSnapshot

Color = tuple[int, int, int]


def draw_services(
    screen: Any, frame: pygame.Surface, snap: HallSnapshot, colors: tuple[Color, ...]
) -> None:
    """Draw the strip with ``screen``'s text cache (``screen`` is the hall
    :class:`Screen`, untyped here so that the two modules do not import each
    other); ``colors`` are the panel, accent, text and muted colours."""
    PANEL, ACCENT, TEXT, MUTED = colors
    r = screen.regions.services
    if not snap.services:
        return
    n = len(snap.services)
    gap = screen._px(16)
    width = (r.width - gap * (n - 1)) // n
    style = screen.unit.digits
    for i, s in enumerate(snap.services):
        # The first service is on the right, as an Arabic reader starts.
        cell = pygame.Rect(r.right - (i + 1) * width - i * gap, r.y, width, r.height)
        pygame.draw.rect(frame, PANEL, cell, border_radius=screen._px(16))
        inner = cell.inflate(-screen._px(24), 0)
        name = f"{s.prefix}  {s.name_ar}"
        waiting = digits(f"في الانتظار: {s.waiting}", style)
        minutes = s.estimate_minutes if s.waiting else None
        est = f"الانتظار المتوقع: {minutes_text(minutes, style)}"
        # Lines are stacked 1.3 sizes apart (the font's line box is ~1.5);
        # when a two-line name leaves no room, everything shrinks a little,
        # never the name alone down to small type.
        scale = 1.0
        while True:
            name_size, name_lines = screen.wrap_fit(
                name, int(screen._px(26) * scale), inner.width, True
            )
            rows = [(line, name_size, ACCENT, True) for line in name_lines]
            rows.append(
                (
                    waiting,
                    screen.fit(waiting, int(screen._px(28) * scale), inner.width, True),
                    TEXT,
                    True,
                )
            )
            rows.append(
                (est, screen.fit(est, int(screen._px(24) * scale), inner.width), MUTED, False)
            )
            steps = [int(size * 1.3) for _, size, _, _ in rows]
            if sum(steps) <= cell.height - screen._px(8) or scale < 0.6:
                break
            scale *= 0.9
        y = cell.y + (cell.height - sum(steps)) // 2
        for (text, size, color, bold), step in zip(rows, steps, strict=True):
            surface = screen.text(text, size, color, bold)
            # The surface's line box is taller than the step: centre it on it.
            screen._blit(
                frame, surface, inner, anchor="right", y=y + (step - surface.get_height()) // 2
            )
            y += step
