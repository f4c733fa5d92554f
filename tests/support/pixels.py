"""Pixel checks for hall screen frames: is this text drawn there?"""

from __future__ import annotations

import pygame
from PIL import Image, ImageChops

from appliance.arabic import ArabicRenderer
from appliance.hall.screen import Screen

Color = tuple[int, int, int]


def expected_text(
    renderer: ArabicRenderer, text: str, size: int, color: Color, bg: Color
) -> Image.Image:
    """``text`` as the renderer draws it, laid on a plain ``bg``."""
    line = renderer.render_line(
        text, size, bold=True, fill=(*color, 255), background=(0, 0, 0, 0), mode="RGBA"
    )
    base = Image.new("RGBA", line.size, (*bg, 255))
    return Image.alpha_composite(base, line).convert("RGB")


def crop(frame: pygame.Surface, box: tuple[int, int, int, int]) -> Image.Image:
    """A region (left, top, width, height) of a frame as a Pillow image."""
    left, top, w, h = box
    sub = frame.subsurface(pygame.Rect(left, top, w, h)).copy()
    return Image.frombytes("RGB", (w, h), pygame.image.tobytes(sub, "RGB"))


def max_difference(a: Image.Image, b: Image.Image) -> int:
    """Largest difference of any channel of any pixel."""
    assert a.size == b.size
    return max(high for _, high in ImageChops.difference(a, b).getextrema())  # type: ignore[misc]


def count_color(image: Image.Image, color: Color) -> int:
    """How many pixels are exactly ``color``."""
    diff = ImageChops.difference(image, Image.new("RGB", image.size, color))
    r, g, b = diff.split()
    exact = ImageChops.add(ImageChops.add(r, g), b).point(lambda v: 255 if v == 0 else 0)
    return exact.histogram()[255]


def ticket_in_frame(
    frame: pygame.Surface, screen: Screen, ticket: str, color: Color, bg: Color
) -> int:
    """Largest per-channel difference between the current-ticket box of
    ``frame`` and ``ticket`` rendered where the screen centres it (0: same)."""
    box = screen.regions.ticket
    size = screen.fit(ticket, screen._px(210), box.width - screen._px(40), bold=True)
    want = expected_text(screen.renderer, ticket, size, color, bg)
    w, h = want.size
    left, top = box.x + (box.width - w) // 2, box.y + (box.height - h) // 2
    # The glyphs sit in the middle of the line box; its top and bottom edges
    # may touch the label and the small Arabic line drawn in the same box.
    band = (0, h // 6, w, h * 3 // 4)
    return max_difference(crop(frame, (left, top, w, h)).crop(band), want.crop(band))
