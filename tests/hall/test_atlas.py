"""Ticket numbers composed from the glyph atlas: like shaped text, no shaping."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pygame
import pytest
from PIL import Image, ImageChops

from appliance.arabic import ArabicRenderer
from appliance.config.branch import Config, load_config
from appliance.hall.daemon import display_renderer
from appliance.hall.sample import sample_snapshot
from appliance.hall.screen import ACCENT, PANEL, TEXT, Screen
from appliance.hall.state import Call
from appliance.hall.units import display_unit
from tests.support import EXAMPLE_CONFIG
from tests.support.pixels import expected_number, expected_text

WALL = dt.datetime(2026, 11, 30, 10, 15, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def cfg() -> Config:
    return load_config(EXAMPLE_CONFIG)


@pytest.fixture(scope="module")
def screen(cfg: Config) -> Iterator[Screen]:
    pygame.display.init()
    unit = display_unit(cfg)
    yield Screen(cfg, unit, (1920, 1080), display_renderer(unit))


def ink_agreement(a: Image.Image, b: Image.Image) -> float:
    """Share of the pixels inked in either image that are inked in both."""
    assert a.size == b.size
    bg = a.getpixel((0, 0))
    ink_a = ImageChops.difference(a, Image.new("RGB", a.size, bg)).convert("L")
    ink_b = ImageChops.difference(b, Image.new("RGB", b.size, bg)).convert("L")
    a_on = ink_a.point(lambda v: 255 if v > 96 else 0)
    b_on = ink_b.point(lambda v: 255 if v > 96 else 0)
    both = ImageChops.multiply(a_on, b_on).histogram()[255]
    either = ImageChops.lighter(a_on, b_on).histogram()[255]
    return both / either


@pytest.mark.parametrize("text", ["A017", "E2045", "C900", "أ ١٢٣", "هـ ٧", "د 45"])
def test_composed_numbers_look_like_shaped_text(screen: Screen, text: str) -> None:
    sizes = sorted({size for size, color in screen.atlas.styles if color == ACCENT})
    for size in sizes:
        if not screen.atlas.covers(text, size, ACCENT):
            continue
        composed = expected_number(screen, text, size, ACCENT, PANEL)
        shaped = expected_text(screen.renderer, text, size, ACCENT, PANEL)
        assert composed.size == shaped.size
        assert ink_agreement(composed, shaped) > 0.9, (text, size)


def test_the_atlas_covers_every_number_of_the_branch(cfg: Config, screen: Screen) -> None:
    for service in cfg.services:
        for n in (service.first, service.last):
            ticket = f"{service.prefix}{n:03d}"
            assert screen.atlas.covers(ticket, screen.ticket_size(ticket), ACCENT), ticket
    assert not screen.atlas.covers("Z001", screen.ticket_size("A001"), ACCENT)  # no service Z


class CountingRenderer(ArabicRenderer):
    """Counts the lines it shapes."""

    shaped = 0

    def _pieces(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        CountingRenderer.shaped += 1
        return super()._pieces(*args, **kwargs)


def test_a_new_number_costs_no_shaping_and_no_memory(cfg: Config) -> None:
    pygame.display.init()
    unit = display_unit(cfg)
    base = display_renderer(unit)
    renderer = CountingRenderer(base.font_path, latin_font_path=base.latin_font_path)
    screen = Screen(cfg, unit, (1920, 1080), renderer)
    snap = sample_snapshot(cfg, flashing=True)
    frame = pygame.Surface(screen.size)
    calls: list[Call] = []

    def show(i: int) -> None:
        """Call the i-th number: every list length, flashing (odd i) or not."""
        prefix = cfg.services[i % len(cfg.services)].prefix
        calls.insert(0, Call(f"{prefix}{100 + i:03d}", 1 + i % 9, received=0.0))
        listed = tuple(calls[: 1 + i % (unit.last_calls + 1)])
        screen.render(dataclasses.replace(snap, calls=listed), WALL, 0.1 + (i % 2) * 0.5, frame)

    for i in range(30):  # the labels and every layout drawn once
        show(i)
    cached, atlas, shaped = len(screen._cache), screen.atlas.pixel_bytes, CountingRenderer.shaped
    for i in range(30, 330):  # 300 numbers never seen
        show(i)
    assert CountingRenderer.shaped == shaped
    assert len(screen._cache) == cached and screen.atlas.pixel_bytes == atlas


def test_history_rows_use_the_atlas(screen: Screen) -> None:
    for n in range(1, screen.unit.last_calls + 1):
        assert (screen._history_size(n)[1], TEXT) in screen.atlas.styles
