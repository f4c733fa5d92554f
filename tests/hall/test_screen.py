"""The hall screen's frames, checked pixel by pixel."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path

import pygame
import pytest

from appliance.cli.env import Environment, ExitCode
from appliance.cli.main import run
from appliance.config.branch import Config, load_config
from appliance.hall import screen as screen_module
from appliance.hall.config import DisplayUnit
from appliance.hall.daemon import display_renderer
from appliance.hall.pages import clock_text, gregorian_text, hijri_text, panel_pages
from appliance.hall.screen import ACCENT, FLASH_TEXT, OFFLINE, PANEL, Screen
from appliance.hall.state import Call, HallSnapshot, ServiceInfo
from appliance.hall.units import display_unit
from tests.support import EXAMPLE_CONFIG
from tests.support.pixels import count_color, crop, ticket_in_frame

WALL = dt.datetime(2026, 11, 30, 10, 42, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def cfg() -> Config:
    return load_config(EXAMPLE_CONFIG)


@pytest.fixture(scope="module")
def screen(cfg: Config) -> Screen:
    return Screen(cfg, display_unit(cfg), (1920, 1080), display_renderer(display_unit(cfg)))


def snapshot(*calls: Call, online: bool | None = True) -> HallSnapshot:
    return HallSnapshot(calls=calls, master_online=online, version=1)


def test_current_call_is_drawn_in_the_ticket_box(screen: Screen) -> None:
    frame = screen.render(snapshot(Call("A123", 4, received=0, fresh=False)), WALL, 100.0)
    assert ticket_in_frame(frame, screen, "A123", ACCENT, PANEL) <= 2
    # The check fails for any other ticket: it really compares the pixels.
    assert ticket_in_frame(frame, screen, "A128", ACCENT, PANEL) > 100
    assert ticket_in_frame(frame, screen, "B123", ACCENT, PANEL) > 100


def test_a_new_call_flashes_then_stays(screen: Screen) -> None:
    call = Call("C007", 5, received=50.0)
    on = screen.render(snapshot(call), WALL, 50.1)
    assert ticket_in_frame(on, screen, "C007", FLASH_TEXT, ACCENT) <= 2
    off = screen.render(snapshot(call), WALL, 50.6)
    assert ticket_in_frame(off, screen, "C007", ACCENT, PANEL) <= 2
    after = screen.render(snapshot(call), WALL, 50.0 + screen.unit.flash_s + 0.1)
    assert ticket_in_frame(after, screen, "C007", ACCENT, PANEL) <= 2
    # While flashing the loop wakes every half second; afterwards it may sleep.
    assert screen.next_change(snapshot(call), 50.1, WALL) == pytest.approx(0.4)
    assert screen.next_change(snapshot(call), 60.0, WALL) > 1.0


def test_offline_sign_when_the_master_is_offline(screen: Screen) -> None:
    r = screen.regions.offline
    box = (r.x, r.y, r.width, r.height)
    online = screen.render(snapshot(Call("A1", 1, fresh=False)), WALL, 0)
    assert count_color(crop(online, box), OFFLINE) == 0
    offline = screen.render(snapshot(Call("A1", 1, fresh=False), online=False), WALL, 0)
    assert count_color(crop(offline, box), OFFLINE) > r.width * r.height // 2
    lost_bus = dataclasses.replace(snapshot(), bus_connected=False)
    assert count_color(crop(screen.render(lost_bus, WALL, 0), box), OFFLINE) > 0
    # Unknown (no status seen yet) is not shown as offline.
    unknown = screen.render(snapshot(online=None), WALL, 0)
    assert count_color(crop(unknown, box), OFFLINE) == 0


def test_last_calls_and_waiting_counts_change_the_frame(screen: Screen) -> None:
    base = snapshot(Call("A010", 2, fresh=False), Call("B020", 3, fresh=False))
    other = snapshot(Call("A010", 2, fresh=False), Call("B021", 3, fresh=False))
    h = screen.regions.history
    hist = (h.x, h.y, h.width, h.height)
    a, b = screen.render(base, WALL, 0).copy(), screen.render(other, WALL, 0).copy()
    assert crop(a, hist).tobytes() != crop(b, hist).tobytes()
    s = screen.regions.services
    strip = (s.x, s.y, s.width, s.height)
    svc = ServiceInfo("building", "A", "تراخيص البناء", waiting=3, estimate_minutes=12)
    more = dataclasses.replace(svc, waiting=4)
    f1 = screen.render(dataclasses.replace(base, services=(svc,)), WALL, 0).copy()
    f2 = screen.render(dataclasses.replace(base, services=(more,)), WALL, 0).copy()
    assert crop(f1, strip).tobytes() != crop(f2, strip).tobytes()


def test_panel_pages_hold_documents_fees_and_the_charter_channels(cfg: Config) -> None:
    pages = panel_pages(cfg, display_unit(cfg))
    titles = [p.title for p in pages]
    assert "المستندات المطلوبة: تراخيص البناء" in titles
    assert "الرسوم المقررة: تراخيص البناء" in titles
    charter = next(p for p in pages if p.title == "للشكاوى والمقترحات")
    text = " ".join(charter.items)
    for needed in ("16528", "114", "shakwa.eg", "33942035", "منظومة الشكاوى الحكومية"):
        assert needed in text
    fees = next(p for p in pages if p.title == "الرسوم المقررة: التصالح في مخالفات البناء")
    assert fees.items == ("رسم فحص طلب التصالح: 5000 ج.م",)
    assert pages[-1].items == ("يرجى الاحتفاظ بالتذكرة حتى انتهاء الخدمة",)
    none = dataclasses.replace(display_unit(cfg), show_documents=False, show_charter=False)
    assert [p.title for p in panel_pages(cfg, dataclasses.replace(none, messages_ar=[]))] == [
        cfg.branch.name_ar
    ]


def test_panel_rotates_with_time(screen: Screen) -> None:
    period = screen.unit.panel_s
    first = screen.page_index(WALL)
    later = screen.page_index(WALL + dt.timedelta(seconds=period))
    assert later == (first + 1) % len(screen.pages)
    assert all(len(lines) <= 2 for _, lines in screen.pages)


def test_dates_and_time_in_arabic() -> None:
    day = dt.date(2024, 3, 11)
    assert gregorian_text(day) == "الاثنين 11 مارس 2024"
    assert hijri_text(day) == "1 رمضان 1445 هـ"
    assert hijri_text(day, style="arabic") == "١ رمضان ١٤٤٥ هـ"
    assert clock_text(dt.datetime(2024, 3, 11, 15, 5)) == "3:05 م"
    assert clock_text(dt.datetime(2024, 3, 11, 0, 30)) == "12:30 ص"


def test_other_resolutions_scale(cfg: Config) -> None:
    unit = DisplayUnit(id="small")
    small = Screen(cfg, unit, (1280, 720), display_renderer(unit))
    frame = small.render(snapshot(Call("A5", 1, fresh=False)), WALL, 0)
    assert frame.get_size() == (1280, 720)
    assert ticket_in_frame(frame, small, "A5", ACCENT, PANEL) <= 2


def test_screenshot_command(tmp_path: Path) -> None:
    out = tmp_path / "frame.png"
    stdout = io.StringIO()
    code = run(
        ["display", "--config", str(EXAMPLE_CONFIG), "--screenshot", str(out)],
        Environment(stdout=stdout, stderr=io.StringIO(), environ={}),
    )
    assert code == ExitCode.OK
    image = pygame.image.load(str(out))
    assert image.get_size() == (1920, 1080)
    assert stdout.getvalue().startswith(f"{out}: 1920×1080")


def test_a_missing_font_is_named(tmp_path: Path, example_config_text: str) -> None:
    from appliance.arabic import FontNotFoundError

    with pytest.raises(FontNotFoundError, match="fonts-noto-core"):
        display_renderer(DisplayUnit(id="x"), font_dirs=[tmp_path])
    cfg = tmp_path / "branch.toml"
    missing = tmp_path / "NoSuchFont.ttf"
    cfg.write_text(
        example_config_text.replace('id = "d1"', f'id = "d1"\nfont = "{missing}"'),
        encoding="utf-8",
    )
    err = io.StringIO()
    code = run(
        ["display", "--config", str(cfg), "--screenshot", str(tmp_path / "x.png")],
        Environment(stdout=io.StringIO(), stderr=err, environ={}),
    )
    assert code == ExitCode.HARDWARE
    assert str(missing) in err.getvalue()
    assert not (tmp_path / "x.png").exists()


def test_a_long_service_name_wraps_on_its_tile_instead_of_shrinking(screen: Screen) -> None:
    # Five tiles on a 1080p screen, the example's longest name (service E).
    name = "E  الاستعلامات واستلام الطلبات المنتهية"
    s = screen.regions.services
    width = (s.width - screen._px(16) * 4) // 5 - screen._px(24)
    size, lines = screen.wrap_fit(name, screen._px(26), width, True)
    assert len(lines) == 2 and " ".join(lines) == name.replace("  ", " ")
    assert size == screen._px(26)  # full size: wrapped, not shrunk
    assert screen.fit(name, screen._px(26), width, True) < size  # one line would shrink it
    assert all(screen.renderer.measure(line, size, True)[0] <= width for line in lines)
    # A short name stays on one line.
    assert len(screen.wrap_fit("A  تراخيص البناء", screen._px(26), width, True)[1]) == 1
    # Drawn, the two lines and the counts stay inside the tile.
    long = ServiceInfo("inquiries", "E", name[3:], waiting=19, estimate_minutes=28)
    frame = screen.render(dataclasses.replace(snapshot(), services=(long,) * 5), WALL, 0)
    above = (s.x, s.y - screen._px(12), s.width, screen._px(12))
    below = (s.x, s.bottom, s.width, screen._px(12))
    assert count_color(crop(frame, above), ACCENT) == 0
    assert count_color(crop(frame, below), ACCENT) == 0
    assert count_color(crop(frame, (s.x, s.y, s.width, s.height)), ACCENT) > 500


def test_the_text_cache_stays_within_its_bound(cfg: Config) -> None:
    """A day of waiting counts, each a new text: the drawn texts kept never
    pass TEXT_CACHE_BYTES, and the latest ones are kept."""
    unit = display_unit(cfg)
    fresh = Screen(cfg, unit, (1920, 1080), display_renderer(unit))
    for n in range(400):
        fresh.text(f"في الانتظار: {n}", 60, bold=True)
        assert fresh._cache_bytes <= screen_module.TEXT_CACHE_BYTES
    kept = [key[0] for key in fresh._cache]
    assert kept[-1] == "في الانتظار: 399"
    assert fresh._cache_bytes == sum(screen_module._pixel_bytes(s) for s in fresh._cache.values())
