"""The printed ticket: layout, the bytes a printer receives, the preview command."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from appliance.cli.env import Environment
from appliance.cli.main import run
from appliance.config.branch import Config, load_config
from appliance.drivers.printer import decode_raster, paper_width_px, ticket_job
from appliance.kiosk.options import TicketOptions
from appliance.kiosk.ticket import face_from_answer, render_ticket, sample_face
from tests.support import EXAMPLE_CONFIG


@pytest.fixture(scope="module")
def cfg() -> Config:
    return load_config(EXAMPLE_CONFIG)


def answer(priority: bool = False) -> dict[str, object]:
    return {
        "ticket": {
            "id": 41,
            "number": "A017",
            "service": "building",
            "priority": priority,
            "state": "waiting",
            "issued_at": "2026-11-30T09:05:00+00:00",
            "called_at": None,
            "finished_at": None,
            "counter": None,
            "window": None,
            "recalls": 0,
        },
        "estimate": {"people_ahead": 3, "minutes": 26.6},
    }


def same(a: Image.Image, b: Image.Image) -> bool:
    if a.size != b.size:
        return False
    return ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


def ink_rows(image: Image.Image, left: int, right: int) -> list[bool]:
    """For each row: is it black all the way from ``left`` to ``right``?"""
    grey = image.convert("L")
    return [grey.crop((left, y, right, y + 1)).getextrema() == (0, 0) for y in range(grey.height)]


def longest_run(flags: list[bool]) -> int:
    best = run_ = 0
    for flag in flags:
        run_ = run_ + 1 if flag else 0
        best = max(best, run_)
    return best


def test_face_from_master_answer(cfg: Config) -> None:
    face = face_from_answer(cfg, answer())
    assert face.number == "A017" and face.service.id == "building"
    assert face.people_ahead == 3 and face.wait_minutes == pytest.approx(26.6)
    assert face.reference == "NIDAA:giza-dokki:2026-11-30:A017:41"
    bad = answer()
    del bad["ticket"]["number"]  # type: ignore[attr-defined]
    with pytest.raises(KeyError):
        face_from_answer(cfg, bad)


@pytest.mark.parametrize("profile", ["POS-5890", "TM-T20II"])
def test_ticket_fills_the_paper_and_survives_the_printer_bytes(cfg: Config, profile: str) -> None:
    width = paper_width_px(profile)
    image = render_ticket(cfg, face_from_answer(cfg, answer()), width)
    assert image.mode == "1" and image.width == width
    assert same(decode_raster(ticket_job(image, profile)), image)


def test_number_is_very_large(cfg: Config) -> None:
    def tallest_stroke(image: Image.Image) -> int:
        grey = image.convert("L")
        return max(
            longest_run([grey.getpixel((x, y)) == 0 for y in range(grey.height)])
            for x in range(0, grey.width, 2)
        )

    for width in (384, 576):
        image = render_ticket(cfg, face_from_answer(cfg, answer()), width)
        # The digits' vertical strokes are more than a fifth of the paper
        # width tall (over 9 mm on 58 mm paper).
        assert tallest_stroke(image) >= width // 5


def test_priority_ticket_carries_a_black_band(cfg: Config) -> None:
    regular = render_ticket(cfg, face_from_answer(cfg, answer(False)), 384)
    priority = render_ticket(cfg, face_from_answer(cfg, answer(True)), 384)
    # Rules are 3 dots thick; the priority band is a black block whose edges
    # (text stays clear of them) are black over many rows.
    assert longest_run(ink_rows(regular, 17, 23)) <= 3
    assert longest_run(ink_rows(priority, 17, 23)) >= 60
    assert longest_run(ink_rows(priority, 361, 367)) >= 60


def test_optional_parts(cfg: Config) -> None:
    face = face_from_answer(cfg, answer())
    full = render_ticket(cfg, face, 384)
    bare = render_ticket(cfg, face, 384, TicketOptions(qr=False, english=False))
    assert bare.height < full.height - 100


def test_wait_unknown_is_left_out(cfg: Config) -> None:
    known = answer()
    unknown = answer()
    unknown["estimate"] = {"people_ahead": 3, "minutes": None}
    a = render_ticket(cfg, face_from_answer(cfg, known), 384)
    b = render_ticket(cfg, face_from_answer(cfg, unknown), 384)
    assert b.height < a.height


def test_sample_face_is_plausible(cfg: Config) -> None:
    face = sample_face(cfg, "C")
    assert face.service.id == "shops" and face.number.startswith("C")
    assert face.issued_at.tzinfo is not None and face.issued_at <= datetime.now(UTC)


def test_preview_command_writes_png_and_exact_bytes(tmp_path: Path) -> None:
    out, job = tmp_path / "ticket.png", tmp_path / "ticket.bin"
    stdout = io.StringIO()
    code = run(
        [
            "ticket",
            "preview",
            "building",
            "--config",
            str(EXAMPLE_CONFIG),
            "--width",
            "58",
            "--out",
            str(out),
            "--escpos",
            str(job),
        ],
        Environment(stdout=stdout, stderr=io.StringIO()),
    )
    assert code == 0
    image = Image.open(out)
    assert image.width == 384
    assert job.read_bytes() == ticket_job(image, "POS-5890")
    assert same(decode_raster(job.read_bytes()), image)


def test_preview_unknown_service(tmp_path: Path) -> None:
    stderr = io.StringIO()
    code = run(
        [
            "ticket",
            "preview",
            "Z",
            "--config",
            str(EXAMPLE_CONFIG),
            "--out",
            str(tmp_path / "t.png"),
        ],
        Environment(stdout=io.StringIO(), stderr=stderr),
    )
    assert code == 2 and "unknown service 'Z'" in stderr.getvalue()  # a usage error
    assert not (tmp_path / "x").exists()


def test_arabic_wording() -> None:
    from appliance.kiosk.ticket import _clock, _minutes, _people

    assert _clock(datetime(2026, 11, 30, 13, 5)) == "1:05 م"
    assert _clock(datetime(2026, 11, 30, 0, 40)) == "12:40 ص"
    assert [_minutes(n) for n in (1, 2, 7, 25)] == [
        "دقيقة واحدة",
        "دقيقتين",
        "7 دقائق",
        "25 دقيقة",
    ]
    assert _people(0).startswith("لا أحد") and _people(12) == "أمامك 12 مواطنًا"


def test_documents_can_be_left_to_the_hall_display(cfg: Config) -> None:
    face = face_from_answer(cfg, answer())
    with_docs = render_ticket(cfg, face, 576)
    without = render_ticket(cfg, face, 576, TicketOptions(documents=False))
    assert without.height < with_docs.height - 200
