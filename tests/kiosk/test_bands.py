"""The kiosk's ready raster bands: the same bytes as a full render, drawn once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from appliance.config.branch import Config, load_config, parse_config
from appliance.drivers.printer import ticket_job
from appliance.kiosk import bands, ticket
from appliance.kiosk.bands import TicketBands
from appliance.kiosk.options import TicketOptions
from appliance.kiosk.ticket import TicketFace, render_ticket, sample_face
from tests.support import EXAMPLE_CONFIG

PROFILES = ("POS-5890", "TM-T20II")  # 58 mm and 80 mm


@pytest.fixture(scope="module")
def cfg() -> Config:
    return load_config(EXAMPLE_CONFIG)


@pytest.fixture(scope="module", params=PROFILES)
def warm(request: pytest.FixtureRequest, cfg: Config) -> TicketBands:
    return TicketBands(cfg, request.param)


def pressed(cfg: Config, service: str, n: int, *, priority: bool = False) -> TicketFace:
    """A ticket as a press would get it: number, time, queue and id all new."""
    face = sample_face(cfg, service, priority=priority)
    return replace(
        face,
        number=f"{face.service.prefix}{100 + n:03d}",
        issued_at=face.issued_at + timedelta(minutes=37 * n),
        people_ahead=n % 13,
        wait_minutes=1.5 * n,
        reference=f"NIDAA:{cfg.branch.id}:x:{n}:{5000 + n}",
    )


def full_job(cfg: Config, face: TicketFace, bands_: TicketBands) -> bytes:
    image = render_ticket(cfg, face, bands_.width, bands_.options, bands_.renderer)
    return ticket_job(image, bands_.profile)


def test_every_service_prints_the_bytes_of_a_full_render(cfg: Config, warm: TicketBands) -> None:
    n = 0
    for service in cfg.services:
        for priority in (False, True):
            n += 1
            face = pressed(cfg, service.id, n, priority=priority)
            assert warm.job(face) == full_job(cfg, face, warm), (service.id, priority)
    assert warm.full_renders == 0  # every one was joined from bands


def test_a_press_draws_only_what_changed(cfg: Config, warm: TicketBands) -> None:
    face = pressed(cfg, "building", 40)
    drawn = warm.drawn
    warm.job(face)
    new = warm.drawn - drawn
    # The number, the date and time, people ahead, the wait and the QR code
    # at most; the branch, service, documents, fees and channels are ready.
    assert 1 <= new <= 5
    assert warm.drawings(face) >= new + 8
    drawn = warm.drawn
    warm.job(replace(face, reference=face.reference + "7"))
    assert warm.drawn - drawn == 1  # only the QR code differs


def test_the_queue_lines_are_ready_from_the_start(cfg: Config, warm: TicketBands) -> None:
    """People ahead and minutes of wait up to QUEUE_LINES are drawn at start:
    of two presses alike but for the queue and the QR code, the first (in
    range) draws no queue line, the second (past it) draws both; both print
    the bytes of a full render."""
    first = pressed(cfg, "building", 700)
    new = []
    for n, (ahead, minutes) in enumerate([(57, 93.0), (bands.QUEUE_LINES + 3, 400.0)]):
        face = replace(first, people_ahead=ahead, wait_minutes=minutes, reference=f"q{n}")
        drawn = warm.drawn
        assert warm.job(face) == full_job(cfg, face, warm)
        new.append(warm.drawn - drawn)
    assert new[1] == 1 + 2  # the QR code, people ahead, the wait
    assert new[0] >= 1


def test_static_bands_are_bounded_by_the_configuration(cfg: Config, warm: TicketBands) -> None:
    pinned = warm.pinned_bytes
    for n in range(200, 340):
        warm.job(pressed(cfg, cfg.services[n % len(cfg.services)].id, n))
    assert warm.pinned_bytes == pinned
    assert len(warm._recent) <= bands.RECENT


def test_a_changed_branch_file_rebuilds_the_bands(cfg: Config) -> None:
    old = TicketBands(cfg, "TM-T20II")
    assert old.for_config(load_config(EXAMPLE_CONFIG)) is old  # same content
    text = EXAMPLE_CONFIG.read_text()
    changed = parse_config(
        text.replace(f'name_ar = "{cfg.branch.name_ar}"', 'name_ar = "مركز تجريبي آخر"', 1)
    )
    assert changed.branch.name_ar == "مركز تجريبي آخر"
    new = old.for_config(changed)
    assert new is not old
    face = pressed(changed, "building", 3)
    assert new.job(face) == full_job(changed, face, new)
    assert new.job(face) != old.job(pressed(cfg, "building", 3))


@pytest.mark.parametrize(
    "options",
    [
        TicketOptions(english=False, documents=False, qr=False),
        TicketOptions(hall_only=["building", "shops"]),
        TicketOptions(layout="compact"),
    ],
    ids=["no-extras", "hall-only", "compact"],
)
@pytest.mark.parametrize("profile", PROFILES)
def test_options_flow_through(cfg: Config, options: TicketOptions, profile: str) -> None:
    cache = TicketBands(cfg, profile, options)
    for n, service in enumerate(cfg.services):
        face = pressed(cfg, service.id, n, priority=n % 2 == 1)
        assert cache.job(face) == full_job(cfg, face, cache), service.id
    assert cache.full_renders == 0


def appended(monkeypatch: pytest.MonkeyPatch, extra: Callable[[ticket._Page], None]) -> None:
    """Every ticket (full render and bands) ends with ``extra``."""
    real = ticket.lay_out

    def lay_out(page: ticket._Page, *args: Any) -> None:
        real(page, *args)
        extra(page)

    monkeypatch.setattr(ticket, "lay_out", lay_out)
    monkeypatch.setattr(bands, "lay_out", lay_out)


def falls_back(cfg: Config) -> None:
    cache = TicketBands(cfg, "POS-5890", warm=False)
    face = pressed(cfg, "building", 5)
    assert cache.job(face) == full_job(cfg, face, cache)
    assert cache.full_renders == 1


def test_a_drawing_outside_the_bands_falls_back_to_a_full_render(
    cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stray_line(page: ticket._Page) -> None:
        page.gap(4)
        page.box(page.y, page.y + 2)  # not a band method
        page.gap(4)

    appended(monkeypatch, stray_line)
    falls_back(cfg)


def test_ink_above_a_drawing_falls_back_to_a_full_render(
    cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    @ticket.band
    def overline(page: ticket._Page) -> None:
        page.draw.rectangle((10, page.y - 3, 40, page.y + 5), fill=0)  # reaches up
        page.y += 8

    appended(monkeypatch, overline)
    falls_back(cfg)


def test_a_left_column_touching_the_right_one_falls_back_to_a_full_render(
    cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The time beside the date is laid over the date's rows only where the
    two touch no pixel: a time long enough to reach the date makes the
    ticket render whole, with the same bytes."""
    monkeypatch.setattr(ticket, "_clock", lambda moment: "٠" * 40)
    falls_back(cfg)


def test_a_left_column_beside_a_taller_drawing_keeps_the_bytes(
    cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A drawing beside the line's rows that runs below them, over the next
    drawing's rows but clear of its pixels, is laid there too."""

    def tall_time(page: ticket._Page) -> None:
        top = page.y
        page.right_column("سطر", 24)
        page.text("نص", 24)
        below, page.y = page.y, top
        page.left_column("١\u200f", 70)  # taller than the line: reaches the next one
        page.y = below

    appended(monkeypatch, tall_time)
    cache = TicketBands(cfg, "TM-T20II", warm=False)
    face = pressed(cfg, "building", 5)
    assert cache.job(face) == full_job(cfg, face, cache)
    assert cache.full_renders == 0
